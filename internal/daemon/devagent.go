package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/go-hclog"
	"github.com/oklog/run"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/version"
)

// devRegions are where dev mode's simulated fleet lives.
var devRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// devAgent prepares dev mode's simulated account and its agent: the
// simulator listens at once, the cloud account exists and the agent holds
// an enrollment token; the returned actor seeds the fleet (through the
// simulated AWS API, like any account's history) and then runs the agent.
func devAgent(ctx context.Context, in *instance, tenant *sirsiv1.Tenant, size int, seed int64, log hclog.Logger) (func(*run.Group), error) {
	if in.agentLn == nil {
		return nil, errors.New("the agent listener is off (agent_listen is empty); dev mode's agent needs it")
	}
	sim, err := awssim.New(awssim.Options{Seed: seed, Backfill: fleetHistory, Logger: log.Named("sim")})
	if err != nil {
		return nil, err
	}
	srv, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the simulated account: %w", err)
	}
	acct, err := ensureDevAccount(ctx, in.st.Tenant(tenant.GetId()))
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	if err := ensureDevPolicy(ctx, in.st.Tenant(tenant.GetId())); err != nil {
		_ = srv.Close()
		return nil, err
	}
	dir := filepath.Join(in.cfg.DataDir, "agent")
	token, err := devEnrollmentToken(ctx, in.st.Tenant(tenant.GetId()), acct.GetId(), dir)
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	caPEM, err := os.ReadFile(in.agentCACertPath())
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("reading the agent CA: %w", err)
	}
	creds := credentials.NewStaticCredentialsProvider("AKIDSIRSIDEV", "dev-secret", "")
	a, err := agent.New(agent.Config{
		DataDir: dir, Servers: []string{in.agentLn.Addr().String()}, CACertPEM: caPEM, EnrollToken: token, Hostname: "agentd-dev", Version: version.Version,
		AWS:               awsclient.Options{Region: "us-east-1", Endpoint: srv.URL, Credentials: creds},
		DiscoverySchedule: "@every 1m", UtilizationSchedule: "@every 5m", CostSchedule: "@every 30m", OptimizeSchedule: "@every 15s", ActionPollInterval: 500 * time.Millisecond, CostMinInterval: 10 * time.Minute,
		Logger: log.Named("agent"), Registerer: in.reg,
	})
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("starting the dev agent: %w", err)
	}
	return func(g *run.Group) {
		actx, cancel := context.WithCancel(context.Background())
		g.Add(func() error {
			defer srv.Close()
			start := time.Now()
			n, err := seedFleet(actx, srv.URL, creds, devRegions, size, seed)
			if err != nil {
				if actx.Err() != nil {
					return nil
				}
				return err
			}
			log.Info("seeded the simulated account", "resources", n, "regions", devRegions, "took", time.Since(start).Round(time.Millisecond),
				"aws_endpoint", srv.URL, "account_id", awssim.DefaultAccountID)
			return a.Run(actx)
		}, func(error) { cancel() })
	}, nil
}

func ensureDevAccount(ctx context.Context, ts store.TenantStore) (*sirsiv1.CloudAccount, error) {
	accts, _, err := ts.ListCloudAccounts(ctx, store.Page{Size: store.MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("listing the dev tenant's cloud accounts: %w", err)
	}
	for _, a := range accts {
		if a.GetAccountId() == awssim.DefaultAccountID {
			return a, nil
		}
	}
	a, err := ts.CreateCloudAccount(ctx, &sirsiv1.CloudAccount{Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: awssim.DefaultAccountID,
		Regions: devRegions, DisplayName: "Simulated account"})
	if err != nil {
		return nil, fmt.Errorf("creating the simulated cloud account: %w", err)
	}
	return a, nil
}

// devPolicyName is the recommend-only policy a fresh dev tenant gets, so
// that recommendations show within a minute of start without any
// configuration; it acts on nothing.
const devPolicyName = "dev-recommendations"

func ensureDevPolicy(ctx context.Context, ts store.TenantStore) error {
	pols, _, err := ts.ListPolicies(ctx, store.Page{Size: store.MaxPageSize})
	if err != nil {
		return fmt.Errorf("listing the dev tenant's policies: %w", err)
	}
	for _, p := range pols {
		if p.GetName() == devPolicyName {
			return nil
		}
	}
	_, err = ts.CreatePolicy(ctx, &sirsiv1.OptimizationPolicy{
		Name: devPolicyName, Description: "What the simulated account could save (agentd dev; recommends only)",
		Mode:          sirsiv1.PolicyMode_POLICY_MODE_RECOMMEND,
		ResourceTypes: []string{"aws_ec2_instance", "aws_ebs_volume", "aws_eip", "aws_rds_instance", "aws_lambda_function"},
		Selector:      &sirsiv1.PolicySelector{},
		Rightsizing:   &sirsiv1.RightsizingSettings{Statistic: sirsiv1.Statistic_STATISTIC_P95, LookbackDays: 14, HeadroomPercent: 20, MinMonthlySavings: money.USDFromFloat(1)},
		Idle:          &sirsiv1.IdleSettings{CpuBelowPercent: 2, NetworkBelowBytesPerDay: 5 << 20, LookbackDays: 7, Action: sirsiv1.IdleAction_IDLE_ACTION_RECOMMEND},
		Schedule:      "0 2 * * *", Timezone: "UTC",
		Verify: &sirsiv1.VerifySettings{WaitMinutes: 10},
	})
	if err != nil {
		return fmt.Errorf("creating the dev tenant's recommend-only policy: %w", err)
	}
	return nil
}

// devEnrollmentToken makes a token unless the agent's data dir already
// holds its identity from an earlier start.
func devEnrollmentToken(ctx context.Context, ts store.TenantStore, accountID, dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "identity.json")); err == nil {
		return "", nil
	}
	secret, err := auth.Generate(auth.KindEnrollment)
	if err != nil {
		return "", err
	}
	if _, err := ts.CreateEnrollmentToken(ctx, &sirsiv1.EnrollmentToken{CloudAccountId: accountID, Ttl: durationpb.New(time.Hour), MaxUses: 1},
		auth.Hash(secret)); err != nil {
		return "", fmt.Errorf("creating the dev agent's enrollment token: %w", err)
	}
	return secret, nil
}
