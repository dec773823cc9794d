package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/oklog/run"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/auth"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/telemetry"
)

// DevToken is agentd dev's operator token unless -dev-token says
// otherwise, like `vault server -dev -dev-root-token-id`. It is public: dev
// mode listens on loopback and keeps nothing worth protecting.
const DevToken = "sirsi-dev-root-token"

// DevTenant is the tenant dev mode creates and prints as SIRSI_TENANT_ID.
const DevTenant = "dev"

// devCommand is `agentd dev`: a control plane with zero setup. It reads
// flags only (no config file, no SIRSI_* server variables), so its behaviour
// does not depend on the shell it runs in. stdout carries only the export
// lines, ready for eval; logs go to stderr.
var devCommand = &command{
	name:     "dev",
	synopsis: "run a zero-setup control plane and agent against a simulated AWS account, for trying SirsiNexus locally",
	args:     "[flags] > sirsi.env &   # then: . ./sirsi.env",
	about: `Runs a control plane with SQLite, TLS from a generated CA, a known operator token and a tenant named dev,
and prints the SIRSI_* export lines a client needs on stdout (logs go to stderr).`,
	flags: devFlags,
}

func devFlags(env *environment, fs *flag.FlagSet) func() int {
	fl := config.ServerFlags()
	fl.Bind(fs, "grpc_listen", "", "`host:port` of the gRPC API (default 127.0.0.1:7443)")
	fl.Bind(fs, "http_listen", "", "`host:port` of /healthz, /readyz and /metrics (default 127.0.0.1:7480)")
	fl.Bind(fs, "agent_listen", "", "`host:port` of the agents' mutual-TLS listener, logged as \"agent listener ready\" (default 127.0.0.1:7444, or port 0 when -listen is on port 0); two dev instances side by side need different ones")
	fl.Bind(fs, "pprof_listen", "", "")
	fl.Bind(fs, "data_dir", "", "`directory` for the dev state, reusable across restarts (default: a new temporary directory, removed on exit)")
	fl.Bind(fs, "operator_token", "dev-token", "operator `token` printed as SIRSI_TOKEN (default "+DevToken+")")
	fl.Bind(fs, "insecure", "", "serve plaintext gRPC; SIRSI_ENDPOINT becomes http:// and no CA is printed")
	fl.Bind(fs, "log_level", "", "")
	fl.Bind(fs, "log_format", "", "")
	latency := fs.Duration("dev-rpc-latency", 0, "delay every RPC by this `duration`, to try client timeouts and the graceful drain")
	fleetSize := fs.Int("dev-fleet-size", 300, "`resources` in the simulated account the dev agent watches; 0 runs no simulator and no agent")
	fleetSeed := fs.Int64("dev-fleet-seed", 1, "`seed` of the simulated fleet (names, sizes, utilisation profiles)")
	return func() int { return runDev(env, fl, *latency, *fleetSize, *fleetSeed) }
}

func runDev(env *environment, fl *config.Flags[*config.Server], latency time.Duration, fleetSize int, fleetSeed int64) int {
	if latency < 0 {
		fmt.Fprintln(env.stderr, "agentd dev: -dev-rpc-latency must not be negative")
		return exitUsage
	}
	if err := checkFleetSize("dev-fleet-size", fleetSize); err != nil {
		fmt.Fprintf(env.stderr, "agentd dev: %s\n", err)
		return exitUsage
	}
	defaults := config.Defaults()
	defaults.OperatorToken = DevToken
	defaults.ShutdownTimeout = 10 * time.Second
	loader := config.Loader{Defaults: defaults, Flags: fl}
	cfg, err := loader.Load()
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd dev: configuration:\n%s\n", err)
		return exitUsage
	}
	log, err := telemetry.NewLogger(env.stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd dev: %s\n", err)
		return exitUsage
	}
	flushTraces, err := startTracing(env, log, "agentd-dev")
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd dev: %s\n", err)
		return exitUsage
	}
	defer flushTraces()
	tempDir := ""
	if cfg.DataDir == "" {
		if tempDir, err = os.MkdirTemp("", "agentd-dev-"); err != nil {
			log.Error("creating a temporary data dir", "error", err)
			return exitFailure
		}
		cfg.DataDir = tempDir
		defer func() {
			if err := os.RemoveAll(tempDir); err != nil {
				log.Warn("removing the temporary data dir", "dir", tempDir, "error", err)
			}
		}()
	}
	log.Warn("dev mode: a single-process control plane with a public operator token; do not use it for anything real", "data_dir", cfg.DataDir)

	sigs, stop := notifySignals()
	defer stop()
	ctx := context.Background()
	in, err := newInstance(ctx, instanceOptions{cfg: cfg, log: log, rpcLatency: latency})
	if err != nil {
		log.Error("could not start", "error", err)
		return exitFailure
	}
	in.tempDataDir = tempDir
	tenant, err := ensureDevTenant(ctx, in.st)
	if err != nil {
		in.close()
		log.Error("could not create the dev tenant", "error", err)
		return exitFailure
	}
	exports := [][2]string{
		{"SIRSI_ENDPOINT", in.endpoint()},
		{"SIRSI_TOKEN", cfg.OperatorToken},
		{"SIRSI_TENANT_ID", tenant.GetId()},
	}
	if in.caCertPath != "" {
		exports = append(exports, [2]string{"SIRSI_CA_CERT_FILE", in.caCertPath})
	}
	var extra []func(*run.Group)
	if fleetSize > 0 {
		add, err := devAgent(ctx, in, tenant, fleetSize, fleetSeed, log)
		if err != nil {
			in.close()
			log.Error("could not start the simulated account and its agent", "error", err)
			return exitFailure
		}
		extra = append(extra, add)
	}
	if err := printExports(env.stdout, exports); err != nil {
		in.close()
		log.Error("printing the export lines", "error", err)
		return exitFailure
	}
	// stdout is only export lines (scripts eval them); the console's
	// address is for the person at the terminal.
	if u := in.consoleURL(); u != "" {
		secret, err := devConsoleToken(ctx, in.st.Tenant(tenant.GetId()))
		if err != nil {
			in.close()
			log.Error("could not create the console's sign-in token", "error", err)
			return exitFailure
		}
		fmt.Fprintf(env.stderr, "agentd dev: web console at %s\nagentd dev: sign in with this admin API token of tenant %q (valid %s): %s\n",
			u, DevTenant, devConsoleTokenTTL, secret)
	}
	return serve(env, sigs, in, loader.Load, extra...)
}

// ensureDevTenant returns the dev tenant, creating it on the first start of
// a data dir; the creation is audited like any tenant management.
func ensureDevTenant(ctx context.Context, st store.Store) (*sirsiv1.Tenant, error) {
	t, err := st.GetTenantByName(ctx, DevTenant)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("looking up tenant %q: %w", DevTenant, err)
	}
	t, err = st.CreateTenant(ctx, &sirsiv1.Tenant{Name: DevTenant, DisplayName: "Development", Tier: sirsiv1.Tier_TIER_FREE})
	if errors.Is(err, store.ErrAlreadyExists) {
		return st.GetTenantByName(ctx, DevTenant)
	}
	if err != nil {
		return nil, fmt.Errorf("creating tenant %q: %w", DevTenant, err)
	}
	if _, err := st.AppendAudit(ctx, &sirsiv1.AuditEvent{
		Time:    timestamppb.Now(),
		Actor:   "agentd-dev",
		Action:  "dev.create_tenant",
		Target:  "tenants/" + t.GetId(),
		Outcome: "ok",
	}); err != nil {
		return nil, fmt.Errorf("auditing the creation of tenant %q: %w", DevTenant, err)
	}
	return t, nil
}

// devConsoleTokenTTL bounds the sign-in tokens that every start of a
// kept data dir adds.
const devConsoleTokenTTL = 24 * time.Hour

// devConsoleToken makes an admin API token of the dev tenant so the person
// at the terminal can sign in to the console at once (and approve).
func devConsoleToken(ctx context.Context, ts store.TenantStore) (string, error) {
	secret, err := auth.Generate(auth.KindAPIToken)
	if err != nil {
		return "", fmt.Errorf("generating the console sign-in token: %w", err)
	}
	if _, err := ts.CreateAPIToken(ctx, &sirsiv1.ApiToken{Role: sirsiv1.Role_ROLE_ADMIN, Description: "agentd dev: console sign-in",
		Ttl: durationpb.New(devConsoleTokenTTL)}, auth.Hash(secret), store.TokenCap{}); err != nil {
		return "", fmt.Errorf("creating the console sign-in token: %w", err)
	}
	return secret, nil
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// printExports writes `export NAME=value` lines, quoting values a shell
// would otherwise split or expand.
func printExports(w io.Writer, kv [][2]string) error {
	var b strings.Builder
	for _, e := range kv {
		v := e[1]
		if !shellSafe.MatchString(v) {
			v = "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
		}
		fmt.Fprintf(&b, "export %s=%s\n", e[0], v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
