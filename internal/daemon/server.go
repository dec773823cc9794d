package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/telemetry"
)

// runServer is `agentd server`: configuration from defaults < -config file
// < SIRSI_* environment < flags.
func runServer(env *environment, args []string) int {
	fs := flag.NewFlagSet("agentd server", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	configFile := fs.String("config", "", "HCL configuration `file`")
	fl := config.ServerFlags()
	fl.BindAll(fs)
	fs.Usage = func() {
		fmt.Fprint(env.stderr, "Usage: agentd server [flags]\n       agentd server audit verify (-data-dir DIR | -config FILE)\n       agentd server rotate-seal (-data-dir DIR | -config FILE)\n       agentd server backup (-data-dir DIR | -config FILE) -out DIR\n\nRuns the control plane. Settings come from defaults < -config file < SIRSI_* environment < flags.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "agentd server: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
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
	sigs, stop := notifySignals()
	defer stop()
	in, err := newInstance(context.Background(), instanceOptions{cfg: cfg, log: log})
	if err != nil {
		log.Error("could not start", "error", err)
		return exitFailure
	}
	return serve(env, sigs, in, loader.Load)
}
