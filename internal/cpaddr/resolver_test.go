package cpaddr

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/serviceconfig"
)

// replica is an in-process gRPC server that counts the calls it served.
type replica struct {
	srv   *grpc.Server
	addr  string
	calls atomic.Int64
}

func startReplica(t *testing.T) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveReplica(t, ln)
}

func serveReplica(t *testing.T, ln net.Listener) *replica {
	t.Helper()
	r := &replica{addr: ln.Addr().String()}
	r.srv = grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		r.calls.Add(1)
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(r.srv, health.NewServer())
	go func() { _ = r.srv.Serve(ln) }()
	t.Cleanup(r.srv.Stop)
	return r
}

// TestFailsOverInOrder dials two replicas, the second by a DNS name: calls
// go to the first listed; once it is gone they go to the second, through
// gRPC's own resolver and pick_first, with no retry loop in the caller.
func TestFailsOverInOrder(t *testing.T) {
	a, b := startReplica(t), startReplica(t)
	_, bPort, _ := net.SplitHostPort(b.addr)
	servers, err := Parse([]string{a.addr, "localhost:" + bPort})
	if err != nil {
		t.Fatal(err)
	}
	target, opts := DialOptions(servers, "")
	conn, err := grpc.NewClient(target, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	check := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// WaitForReady: the call waits for the balancer to reach a replica
		// instead of failing while it moves.
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
			t.Fatalf("Check: %v", err)
		}
	}
	for range 3 {
		check()
	}
	if a.calls.Load() != 3 || b.calls.Load() != 0 {
		t.Fatalf("calls: first %d, second %d; want all 3 on the first listed", a.calls.Load(), b.calls.Load())
	}
	a.srv.Stop()
	// A call already on the lost connection fails (the agent's reporter
	// sends it again); wait until gRPC noticed the loss.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !conn.WaitForStateChange(ctx, connectivity.Ready) {
		t.Fatal("the connection never left READY after its replica stopped")
	}
	for range 3 {
		check()
	}
	if b.calls.Load() != 3 {
		t.Fatalf("after the first replica stopped, the second served %d of 3 calls", b.calls.Load())
	}
}

// fakeCC records what the resolver tells gRPC.
type fakeCC struct {
	mu     sync.Mutex
	states []resolver.State
	errs   []error
}

func (f *fakeCC) UpdateState(s resolver.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states = append(f.states, s)
	return nil
}
func (f *fakeCC) ReportError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}
func (f *fakeCC) NewAddress([]resolver.Address) {}
func (f *fakeCC) ParseServiceConfig(string) *serviceconfig.ParseResult {
	return &serviceconfig.ParseResult{}
}

// TestJoinsInOrderWithTLSNames checks the joined list: configured order,
// a duplicate address once, and the TLS name of each address its entry's
// host unless one name is configured for all.
func TestJoinsInOrderWithTLSNames(t *testing.T) {
	servers, err := Parse([]string{"127.0.0.2:7444", "localhost:7444", "127.0.0.1:7444", "[::1]:7444"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		serverName string
		want       []resolver.Address
	}{
		{"", []resolver.Address{{Addr: "127.0.0.2:7444", ServerName: "127.0.0.2"}, {Addr: "127.0.0.1:7444", ServerName: "localhost"}, {Addr: "[::1]:7444", ServerName: "::1"}}},
		{"cp.example.com", []resolver.Address{{Addr: "127.0.0.2:7444", ServerName: "cp.example.com"}, {Addr: "127.0.0.1:7444", ServerName: "cp.example.com"}, {Addr: "[::1]:7444", ServerName: "cp.example.com"}}},
	} {
		cc := &fakeCC{}
		r, err := (&builder{servers: servers, serverName: tt.serverName}).Build(resolver.Target{}, cc, resolver.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		var last resolver.State
		for {
			cc.mu.Lock()
			if n := len(cc.states); n > 0 {
				last = cc.states[n-1]
			}
			cc.mu.Unlock()
			if sameAddrs(last.Addresses, tt.want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		r.Close()
		if !sameAddrs(last.Addresses, tt.want) || len(last.Endpoints) != len(tt.want) {
			t.Fatalf("server name %q: state %+v, want addresses %+v", tt.serverName, last, tt.want)
		}
	}
}

// sameAddrs compares address and TLS name, in order.
func sameAddrs(got, want []resolver.Address) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Addr != want[i].Addr || got[i].ServerName != want[i].ServerName {
			return false
		}
	}
	return true
}
