package cpaddr

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/resolver/dns"
)

// dnsServer answers A queries for one name from a list the test changes;
// every other name does not exist.
type dnsServer struct {
	conn net.PacketConn
	name dnsmessage.Name
	mu   sync.Mutex
	ips  []netip.Addr
}

func startDNS(t *testing.T, name string) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsServer{conn: conn, name: dnsmessage.MustNewName(name)}
	t.Cleanup(func() { _ = conn.Close() })
	go d.serve()
	return d
}

func (d *dnsServer) set(ips ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ips = nil
	for _, ip := range ips {
		d.ips = append(d.ips, netip.MustParseAddr(ip))
	}
}

func (d *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		resp := dnsmessage.Message{Header: dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true}, Questions: []dnsmessage.Question{q}}
		switch {
		case !strings.EqualFold(q.Name.String(), d.name.String()):
			resp.RCode = dnsmessage.RCodeNameError
		case q.Type == dnsmessage.TypeA:
			d.mu.Lock()
			for _, ip := range d.ips {
				resp.Answers = append(resp.Answers, dnsmessage.Resource{
					Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 0},
					Body:   &dnsmessage.AResource{A: ip.As4()},
				})
			}
			d.mu.Unlock()
		}
		out, err := resp.Pack()
		if err != nil {
			continue
		}
		_, _ = d.conn.WriteTo(out, from)
	}
}

// startReplicaAt is startReplica on a given address.
func startReplicaAt(t *testing.T, addr string) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	return serveReplica(t, ln)
}

// TestNameWithSeveralRecords: one entry whose name has two A records is
// two replicas, tried in the order DNS gave; when both are gone the name
// is looked up again and the replica it now points to serves.
func TestNameWithSeveralRecords(t *testing.T) {
	// gRPC waits 30 s between lookups of a name by default.
	dns.SetMinResolutionInterval(10 * time.Millisecond)
	t.Cleanup(func() { dns.SetMinResolutionInterval(30 * time.Second) })

	first := startReplica(t)
	_, port, _ := net.SplitHostPort(first.addr)
	second := startReplicaAt(t, net.JoinHostPort("127.0.0.2", port))
	third := startReplicaAt(t, net.JoinHostPort("127.0.0.3", port))
	ns := startDNS(t, "cp.sirsi.test.")
	ns.set("127.0.0.1", "127.0.0.2")

	servers, err := Parse([]string{"cp.sirsi.test:" + port})
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{servers: servers, dnsServer: ns.conn.LocalAddr().String()}
	conn, err := grpc.NewClient(scheme+":///"+servers[0].String(), grpc.WithResolvers(b), grpc.WithDefaultServiceConfig(serviceConfig),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	check := func(want *replica, name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		before := want.calls.Load()
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
			t.Fatalf("Check: %v", err)
		}
		if want.calls.Load() != before+1 {
			t.Fatalf("the call did not reach the %s replica", name)
		}
	}
	lost := func(r *replica) {
		t.Helper()
		r.srv.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if !conn.WaitForStateChange(ctx, connectivity.Ready) {
			t.Fatal("the connection never left READY after its replica stopped")
		}
	}
	check(first, "first record's")
	lost(first)
	check(second, "second record's")
	// The name now points elsewhere; the agent finds out when it loses
	// the replica it uses.
	ns.set("127.0.0.3")
	lost(second)
	check(third, "re-resolved")
	if first.calls.Load() != 1 || second.calls.Load() != 1 || third.calls.Load() != 1 {
		t.Errorf("calls per replica: %d, %d, %d; want one each", first.calls.Load(), second.calls.Load(), third.calls.Load())
	}
}
