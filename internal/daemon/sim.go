package daemon

import (
	"context"
	"flag"
	"fmt"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awssim"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/telemetry"
)

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// simCommand is `agentd sim`: the simulated AWS account alone, for the AWS
// CLI, SDKs or Terraform's AWS provider. stdout carries only the export
// lines.
var simCommand = &command{
	name:     "sim",
	synopsis: "serve the simulated AWS account on loopback",
	args:     "[flags] > aws.env &   # then: . ./aws.env",
	about:    "Serves a simulated AWS account on loopback and prints the AWS_* export lines that point clients at it.",
	flags:    simFlags,
}

// simOptions are agentd sim's flags.
type simOptions struct {
	listen, account, regions, logLevel, logFormat string
	seed, fleetSeed                               int64
	fleetSize                                     int
	stateDelay                                    time.Duration
}

func simFlags(env *environment, fs *flag.FlagSet) func() int {
	var o simOptions
	fs.StringVar(&o.listen, "listen", "127.0.0.1:4566", "loopback host:port to serve on")
	fs.StringVar(&o.account, "account-id", awssim.DefaultAccountID, "12-digit account id of the simulated account")
	fs.StringVar(&o.regions, "regions", strings.Join(awssim.DefaultRegions, ","), "comma-separated regions to serve")
	fs.Int64Var(&o.seed, "seed", 1, "seed for ids and injected faults, for repeatable runs")
	fs.IntVar(&o.fleetSize, "fleet-size", 0, "`resources` to seed the account with, spread over -regions, with 30 days of history (default 0: an empty account)")
	fs.Int64Var(&o.fleetSeed, "fleet-seed", 1, "`seed` of the seeded fleet (names, sizes, utilisation profiles)")
	fs.DurationVar(&o.stateDelay, "state-delay", 0, "how long transitional states (pending, stopping...) last")
	fs.StringVar(&o.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json")
	return func() int { return runSim(env, o) }
}

func runSim(env *environment, o simOptions) int {
	log, err := telemetry.NewLogger(env.stderr, o.logLevel, o.logFormat)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd sim: %s\n", err)
		return exitUsage
	}
	var regionList []string
	for _, r := range strings.Split(o.regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			regionList = append(regionList, r)
		}
	}
	if !accountID.MatchString(o.account) {
		fmt.Fprintf(env.stderr, "agentd sim: -account-id %q: must be 12 digits\n", o.account)
		return exitUsage
	}
	if len(regionList) == 0 {
		fmt.Fprintln(env.stderr, "agentd sim: -regions: must name at least one region")
		return exitUsage
	}
	if err := checkFleetSize("fleet-size", o.fleetSize); err != nil {
		fmt.Fprintf(env.stderr, "agentd sim: %s\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := awssim.Options{AccountID: o.account, Regions: regionList, Seed: o.seed, StateDelay: o.stateDelay, Logger: log}
	var ready func(context.Context, string) error
	if o.fleetSize > 0 {
		opts.Backfill = fleetHistory
		ready = func(ctx context.Context, endpoint string) error {
			start := time.Now()
			creds := credentials.NewStaticCredentialsProvider(awssim.StandaloneAccessKey, awssim.StandaloneSecretKey, "")
			n, err := seedFleet(ctx, endpoint, creds, regionList, o.fleetSize, o.fleetSeed)
			if err != nil {
				return err
			}
			log.Info("seeded the simulated account", "resources", n, "regions", regionList, "took", time.Since(start).Round(time.Millisecond))
			return nil
		}
	}
	if err := awssim.RunStandalone(ctx, opts, o.listen, env.stdout, ready); err != nil {
		log.Error("simulated AWS account stopped", "error", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}
