package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// bearer sends an API token with every call, as the provider's client
// does.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return true }

// dial is a ManagementService client of its own connection to addr over
// TLS trusting pool, calling with token from the loopback address from
// (nil: the system's choice). No retries: a failed call must fail the
// run, not hide in its latency.
func dial(addr string, pool *x509.CertPool, token string, from net.IP) (sirsiv1.ManagementServiceClient, func(), error) {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})),
		grpc.WithPerRPCCredentials(bearer(token)),
	}
	if from != nil {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from}}
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, target string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", target)
		}))
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return sirsiv1.NewManagementServiceClient(conn), func() { conn.Close() }, nil
}

// connectWorkers is how many tokens are made and connections opened at
// once.
const connectWorkers = 8

// connectClients makes n viewer tokens in the tenant through the
// operator's client and, for each, a connection to server i mod the
// servers, authenticated once (GetIdentity) so the runs measure steady
// state. The returned function closes every connection.
func connectClients(ctx context.Context, op sirsiv1.ManagementServiceClient, tenantID string, servers []*server, pool *x509.CertPool, n int) ([]Client, func(), error) {
	clients := make([]Client, n)
	closers := make([]func(), n)
	closeAll := func() {
		for _, c := range closers {
			if c != nil {
				c()
			}
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range connectWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = connectClient(ctx, op, tenantID, servers, pool, i, &clients[i], &closers[i])
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return clients, closeAll, errors.Join(errs...)
}

func connectClient(ctx context.Context, op sirsiv1.ManagementServiceClient, tenantID string, servers []*server, pool *x509.CertPool, i int, c *Client, closer *func()) error {
	tok, err := op.CreateApiToken(ctx, &sirsiv1.CreateApiTokenRequest{TenantId: tenantID, Role: sirsiv1.Role_ROLE_VIEWER, Description: fmt.Sprintf("loadgen client %d", i)})
	if err != nil {
		return fmt.Errorf("client %d: CreateApiToken: %w", i, err)
	}
	target := i % len(servers)
	api, closeConn, err := dial(servers[target].grpcAddr, pool, tok.GetApiToken().GetToken(), clientAddr(i))
	if err != nil {
		return err
	}
	*c, *closer = Client{API: api, Target: target}, closeConn
	if _, err := api.GetIdentity(ctx, &sirsiv1.GetIdentityRequest{}); err != nil {
		return fmt.Errorf("client %d: GetIdentity on server %d: %w", i, target, err)
	}
	return nil
}

// clientAddr is client i's own loopback source address, 127.1.x.y (all
// of 127.0.0.0/8 is the loopback interface's): 1000 users come from many
// addresses, and the server's lockout counts authentications in flight
// per source address (lockout.go), which one shared address would exhaust.
func clientAddr(i int) net.IP {
	return net.IPv4(127, 1, byte(i/200), byte(i%200+1))
}

// pageTokens walks the whole list once and returns the token of every
// page ("" for the first), checking the list holds want resources.
func pageTokens(ctx context.Context, api sirsiv1.ManagementServiceClient, pageSize int32, want int) ([]string, error) {
	tokens := []string{""}
	seen := 0
	for {
		r, err := api.ListResources(ctx, &sirsiv1.ListResourcesRequest{PageSize: pageSize, PageToken: tokens[len(tokens)-1]})
		if err != nil {
			return nil, fmt.Errorf("walking the list: ListResources: %w", err)
		}
		seen += len(r.GetResources())
		if r.GetNextPageToken() == "" {
			break
		}
		tokens = append(tokens, r.GetNextPageToken())
	}
	if seen != want {
		return nil, fmt.Errorf("walking the list: the tenant holds %d resources, seeded %d", seen, want)
	}
	return tokens, nil
}

// analyze runs ANALYZE on the database at url.
func analyze(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("ANALYZE: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("ANALYZE: %w", err)
	}
	return nil
}

func labelSuffix(o options) string {
	if o.label == "" {
		return ""
	}
	return ", " + o.label
}
