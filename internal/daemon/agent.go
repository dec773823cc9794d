package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/go-hclog"
	"github.com/oklog/run"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/secrets"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/telemetry"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/version"
)

// agentCommand is `agentd agent`: configuration from defaults < -config
// file < SIRSI_* environment < flags.
var agentCommand = &command{
	name:     "agent",
	synopsis: "run the agent inside an AWS account (discovery, monitoring, optimization, reporting)",
	args:     "[flags]",
	about: `Runs the agent inside an AWS account: enrolls once with a token, then discovers, measures and reports over mTLS.
Settings come from defaults < -config file < SIRSI_* environment < flags.`,
	flags: agentFlags,
}

func agentFlags(env *environment, fs *flag.FlagSet) func() int {
	configFile := fs.String("config", "", "HCL configuration `file`")
	fl := config.AgentFlags()
	fl.BindAll(fs, config.AgentDefaults())
	return func() int {
		return runAgent(env, config.AgentLoader{Defaults: config.AgentDefaults(), File: *configFile, Env: env.lookupEnv, Flags: fl})
	}
}

func runAgent(env *environment, loader config.AgentLoader) int {
	cfg, err := loader.Load()
	if err == nil && cfg.DataDir == "" {
		err = errors.New("data_dir: required; set -data-dir, SIRSI_DATA_DIR or data_dir in the -config file")
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd agent: configuration:\n%s\n", err)
		return exitUsage
	}
	log, err := telemetry.NewLogger(env.stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd agent: %s\n", err)
		return exitUsage
	}
	applyMemoryLimit(env, log, cfg)
	flushTraces, err := startTracing(env, log, "agentd-agent")
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd agent: %s\n", err)
		return exitUsage
	}
	defer flushTraces()
	sigs, stop := notifySignals()
	defer stop()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g run.Group
	acfg, err := agentConfig(ctx, cfg, log, &g)
	if err != nil {
		log.Error("could not start", "error", err)
		return exitFailure
	}
	rt, err := startAgentRuntime(acfg, httpAddrs{main: cfg.HTTPListen, metrics: cfg.MetricsListen, pprof: cfg.PprofListen}, log)
	if err != nil {
		log.Error("could not start", "error", err)
		return exitFailure
	}
	rt.addActors(&g)
	return runUntilSignal(env, log, &g, sigs, shutdown{
		message:  "shutting down: finishing the batch in flight (send the signal again to force)",
		deadline: cfg.ShutdownTimeout,
		reload: func() {
			c, err := loader.Load()
			if err != nil {
				log.Error("SIGHUP: configuration not reloaded; keeping the running one", "error", err)
				return
			}
			reloadLevel(log, c.LogLevel, "source", c.SourceOf("log_level").String())
		},
	})
}

// applyMemoryLimit sets the Go runtime's soft memory limit: without one
// the heap grows to twice the live data between collections, which after
// a large sweep is most of the agent's resident memory. GOMEMLIMIT in the
// environment wins, as the runtime documents; the runtime has read it.
func applyMemoryLimit(env *environment, log hclog.Logger, cfg *config.Agent) {
	if v, ok := env.lookupEnv("GOMEMLIMIT"); ok && v != "" {
		log.Info("memory limit", "limit", v, "source", "environment variable GOMEMLIMIT")
		return
	}
	if cfg.MemoryLimit == 0 {
		log.Info("memory limit", "limit", "off", "source", cfg.SourceOf("memory_limit").String())
		return
	}
	debug.SetMemoryLimit(cfg.MemoryLimit)
	limit := fmt.Sprintf("%dB", cfg.MemoryLimit)
	if cfg.MemoryLimit%(1<<20) == 0 {
		limit = fmt.Sprintf("%dMiB", cfg.MemoryLimit>>20)
	}
	log.Info("memory limit", "limit", limit, "source", cfg.SourceOf("memory_limit").String())
}

// agentConfig turns the file/env/flag settings into the runtime's
// configuration; a Vault credential source adds its renewal loop to g.
func agentConfig(ctx context.Context, cfg *config.Agent, log hclog.Logger, g *run.Group) (agent.Config, error) {
	ac := agent.Config{
		DataDir: cfg.DataDir, Servers: cfg.Servers, ServerName: cfg.ServerName, EnrollToken: cfg.EnrollToken,
		Version: version.Version,
		AWS: awsclient.Options{Region: cfg.AWS.Region, Endpoint: cfg.AWS.Endpoint, AssumeRoleARN: cfg.AWS.AssumeRoleARN,
			ExternalID: cfg.AWS.ExternalID, RetryMode: cfg.AWS.RetryMode},
		LimiterScale:      cfg.AWS.LimiterScale,
		DiscoverySchedule: cfg.Schedule.Discovery, UtilizationSchedule: cfg.Schedule.Utilization, CostSchedule: cfg.Schedule.Costs, OptimizeSchedule: cfg.Schedule.Optimize,
		Jitter: cfg.Schedule.Jitter, SweepHealthMultiple: cfg.SweepHealthMultiple, CostDays: cfg.CostDays, CostMinInterval: cfg.CostMinInterval, CostTagKeys: cfg.CostTagKeys,
		SpoolMaxBytes: cfg.SpoolMaxBytes, Logger: log.Named("agent"), Registerer: telemetry.NewRegistry(),
	}
	if cfg.CACertFile != "" {
		b, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return ac, fmt.Errorf("ca_cert_file: %w", err)
		}
		ac.CACertPEM = b
	}
	if cfg.Vault.Address != "" {
		vc := secrets.VaultConfig{Address: cfg.Vault.Address, Namespace: cfg.Vault.Namespace, CACertFile: cfg.Vault.CACertFile,
			Token: cfg.Vault.Token, AppRoleID: cfg.Vault.AppRoleID, AppRoleSecretID: cfg.Vault.AppRoleSecretID, AppRoleMount: cfg.Vault.AppRoleMount}
		v, err := secrets.NewVaultClient(ctx, vc, log.Named("vault"))
		if err != nil {
			return ac, fmt.Errorf("vault: %w", err)
		}
		vctx, cancel := context.WithCancel(ctx)
		g.Add(func() error { return v.Run(vctx) }, func(error) { cancel() })
		ac.AWS.Credentials = aws.NewCredentialsCache(v.AWSCredentials(cfg.Vault.AWSMount, cfg.Vault.AWSRole))
		log.Info("AWS credentials come from Vault", "mount", cfg.Vault.AWSMount, "role", cfg.Vault.AWSRole)
	}
	return ac, nil
}

// agentRuntime is an agent and its HTTP endpoints.
type agentRuntime struct {
	a      *agent.Agent
	log    hclog.Logger
	https  []*httpListener
	ctx    context.Context
	cancel context.CancelFunc
}

func startAgentRuntime(ac agent.Config, addrs httpAddrs, log hclog.Logger) (*agentRuntime, error) {
	a, err := agent.New(ac)
	if err != nil {
		return nil, err
	}
	rt := &agentRuntime{a: a, log: log}
	rt.ctx, rt.cancel = context.WithCancel(context.Background())
	ready := telemetry.NewReadiness()
	ready.Add("agent", a.Ready)
	ready.Add("sweeps", a.SweepsHealthy)
	if rt.https, err = openHTTPListeners(log, addrs, ready, a.Gatherer()); err != nil {
		return nil, err
	}
	return rt, nil
}

// addActors runs the agent and its HTTP listeners. On interrupt the agent
// finishes the batch it is sending and closes its spool.
func (rt *agentRuntime) addActors(g *run.Group) {
	g.Add(func() error { return rt.a.Run(rt.ctx) }, func(error) { rt.cancel() })
	for _, h := range rt.https {
		addHTTPActor(g, rt.log.Named("http"), h, 10*time.Second)
	}
}

// reloadLevel applies a reloaded log level; false means it was not valid.
func reloadLevel(log hclog.Logger, level string, kv ...any) bool {
	lvl, err := telemetry.ParseLevel(level)
	if err != nil {
		log.Error("SIGHUP: log level not reloaded", "error", err)
		return false
	}
	old := log.GetLevel()
	log.SetLevel(lvl)
	log.Info("SIGHUP: reloaded", append([]any{"log_level", level, "previous", old.String()}, kv...)...)
	return true
}
