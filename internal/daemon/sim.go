package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/telemetry"
)

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// runSim is `agentd sim`: the simulated AWS account alone, for the AWS CLI,
// SDKs or Terraform's AWS provider. stdout carries only the export lines.
func runSim(env *environment, args []string) int {
	fs := flag.NewFlagSet("agentd sim", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	listen := fs.String("listen", "127.0.0.1:4566", "loopback host:port to serve on")
	account := fs.String("account-id", awssim.DefaultAccountID, "12-digit account id of the simulated account")
	regions := fs.String("regions", strings.Join(awssim.DefaultRegions, ","), "comma-separated regions to serve")
	seed := fs.Int64("seed", 1, "seed for ids and injected faults, for repeatable runs")
	stateDelay := fs.Duration("state-delay", 0, "how long transitional states (pending, stopping...) last")
	logLevel := fs.String("log-level", "info", "trace, debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, "Usage: agentd sim [flags] > aws.env &   # then: . ./aws.env\n\nServes a simulated AWS account on loopback and prints the AWS_* export lines that point clients at it.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "agentd sim: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	log, err := telemetry.NewLogger(env.stderr, *logLevel, *logFormat)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd sim: %s\n", err)
		return exitUsage
	}
	var regionList []string
	for _, r := range strings.Split(*regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			regionList = append(regionList, r)
		}
	}
	if !accountID.MatchString(*account) {
		fmt.Fprintf(env.stderr, "agentd sim: -account-id %q: must be 12 digits\n", *account)
		return exitUsage
	}
	if len(regionList) == 0 {
		fmt.Fprintln(env.stderr, "agentd sim: -regions: must name at least one region")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := awssim.Options{AccountID: *account, Regions: regionList, Seed: *seed, StateDelay: *stateDelay, Logger: log}
	if err := awssim.RunStandalone(ctx, opts, *listen, env.stdout); err != nil {
		log.Error("simulated AWS account stopped", "error", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}
