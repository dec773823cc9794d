package daemon

import (
	"context"
	"flag"
	"fmt"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/telemetry"
)

// serverCommand is `agentd server` and the offline commands that work on a
// server's data.
var serverCommand = &command{
	name:     "server",
	synopsis: "run the control plane (gRPC API, health and metrics)",
	args:     "[flags]",
	about:    "Runs the control plane. Settings come from defaults < -config file < SIRSI_* environment < flags.",
	flags:    serverFlags,
	subs: []*command{
		{name: "audit", subs: []*command{auditVerifyCommand, auditListCommand, auditCheckpointCommand}},
		rotateSealCommand,
		rotateCACommand,
		backupCommand,
		exportCommand,
	},
}

// serverFlags: configuration from defaults < -config file < SIRSI_*
// environment < flags.
func serverFlags(env *environment, fs *flag.FlagSet) func() int {
	configFile := fs.String("config", "", "HCL configuration `file`")
	fl := config.ServerFlags()
	fl.BindAll(fs, config.Defaults())
	return func() int {
		loader := config.Loader{Defaults: config.Defaults(), File: *configFile, Env: env.lookupEnv, Flags: fl}
		cfg, err := loader.Load()
		if err != nil {
			fmt.Fprintf(env.stderr, "agentd server: configuration:\n%s\n", err)
			return exitUsage
		}
		if cfg.DataDir == "" {
			fmt.Fprintln(env.stderr, "agentd server: configuration:\ndata_dir: required; set -data-dir, SIRSI_DATA_DIR or data_dir in the -config file")
			return exitUsage
		}
		log, err := telemetry.NewLogger(env.stderr, cfg.LogLevel, cfg.LogFormat)
		if err != nil {
			fmt.Fprintf(env.stderr, "agentd server: %s\n", err)
			return exitUsage
		}
		for _, w := range cfg.Deprecations() {
			log.Warn(w)
		}
		flushTraces, err := startTracing(env, log, "agentd-server")
		if err != nil {
			fmt.Fprintf(env.stderr, "agentd server: %s\n", err)
			return exitUsage
		}
		defer flushTraces()
		sigs, stop := notifySignals()
		defer stop()
		in, err := newInstance(context.Background(), instanceOptions{cfg: cfg, log: log})
		if err != nil {
			log.Error("could not start", "error", err)
			return exitFailure
		}
		return serve(env, sigs, in, loader.Load)
	}
}
