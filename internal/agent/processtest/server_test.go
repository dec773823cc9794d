package processtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
)

// serverProc runs `agentd server` as a process on ports fixed for the
// test, so an agent finds a restarted server where it left it.
type serverProc struct {
	args []string
	// token is the operator token, shared by replicas through the database.
	token string
	// p is the process last started.
	p *proc
}

// newServerWorld starts `agentd server` (on SQLite in its data dir, or on
// a fresh PostgreSQL database) and, through its management API with the
// operator token, a tenant with a cloud account for the simulated account.
func newServerWorld(tb testing.TB, spec awssim.FleetSpec, backend string) (*world, *serverProc) {
	tb.Helper()
	w := newSim(tb, spec)
	dataDir := tb.TempDir()
	mgmt, agentAddr := freeAddr(tb), freeAddr(tb)
	s := &serverProc{args: []string{"server", "-data-dir", dataDir, "-listen", mgmt, "-agent-listen", agentAddr,
		"-http-listen", "127.0.0.1:0", "-insecure", "-log-format", "json"}}
	if backend == "postgres" {
		s.args = append(s.args, "-database-url", pgtest.Database(tb))
	}
	s.start(tb, nil)
	tok, err := os.ReadFile(filepath.Join(dataDir, "operator-token"))
	if err != nil {
		tb.Fatalf("reading the operator token: %v", err)
	}
	s.token = strings.TrimSpace(string(tok))
	op := s.operator(tb)
	ctx := context.Background()
	tn, err := op.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{Name: "proc", Tier: sirsiv1.Tier_TIER_FREE}})
	if err != nil {
		tb.Fatalf("CreateTenant: %v", err)
	}
	acct, err := op.CreateCloudAccount(ctx, &sirsiv1.CreateCloudAccountRequest{CloudAccount: &sirsiv1.CloudAccount{
		TenantId: tn.Tenant.Id, Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: awssim.DefaultAccountID, Regions: fleetRegions,
		RoleArn: "arn:aws:iam::" + awssim.DefaultAccountID + ":role/sirsi-agent", ExternalId: "processtest-external-id",
	}})
	if err != nil {
		tb.Fatalf("CreateCloudAccount: %v", err)
	}
	w.agentEndpoint, w.caFile = agentAddr, filepath.Join(dataDir, "tls", "ca.pem")
	w.tenantID, w.viewer = tn.Tenant.Id, op
	w.enrollmentToken = func(tb testing.TB) string {
		resp, err := op.CreateEnrollmentToken(ctx, &sirsiv1.CreateEnrollmentTokenRequest{
			TenantId: tn.Tenant.Id, CloudAccountId: acct.CloudAccount.Id, Ttl: durationpb.New(time.Hour), MaxUses: 1,
		})
		if err != nil {
			tb.Fatalf("CreateEnrollmentToken: %v", err)
		}
		return resp.EnrollmentToken.Token
	}
	return w, s
}

// start runs the server with extra environment variables and waits until
// its agent listener is ready.
func (s *serverProc) start(tb testing.TB, env []string) {
	tb.Helper()
	s.p = startEnv(tb, env, s.args...)
	waitUntil(tb, "the server's agent listener", convergeBound, s.p, func() bool { return s.p.logged("agent listener ready", "") })
}

// operator is a management client of this replica with the operator
// token. WaitForReady: a call made while the server restarts waits for it
// instead of failing at once.
func (s *serverProc) operator(tb testing.TB) sirsiv1.ManagementServiceClient {
	tb.Helper()
	conn, err := grpc.NewClient(s.arg("-listen"), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(bearer(s.token)), grpc.WithDefaultCallOptions(grpc.WaitForReady(true)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return sirsiv1.NewManagementServiceClient(conn)
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// bearer sends the operator token over the plaintext loopback listener.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": fmt.Sprintf("Bearer %s", string(b))}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }
