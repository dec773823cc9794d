package daemon

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/version"
)

// Exit codes.
const (
	exitOK = 0
	// exitFailure: the daemon could not start or stopped on an error.
	exitFailure = 1
	// exitUsage: bad flags or configuration.
	exitUsage = 2
	// exitForced: a second signal cut the graceful shutdown short.
	exitForced = 3
)

type command struct {
	name     string
	synopsis string
	run      func(env *environment, args []string) int
}

var commands = []command{
	{"server", "run the control plane (gRPC API, health and metrics)", runServer},
	{"agent", "run the agent inside an AWS account (discovery, monitoring, reporting)", runAgent},
	{"dev", "run a zero-setup control plane for trying SirsiNexus locally", runDev},
	{"sim", "serve the simulated AWS account on loopback", runSim},
	{"pricing", "rebuild the price snapshot offline from AWS Price List offer files (pricing import)", runPricing},
	{"version", "print the version", func(env *environment, _ []string) int {
		fmt.Fprintf(env.stdout, "agentd %s\n", version.Version)
		return exitOK
	}},
}

// environment is what a command may touch of the process; tests of the
// binary replace nothing, but keeping it explicit keeps commands free of
// globals.
type environment struct {
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	// exit ends the process at once; only the second-signal path uses it.
	exit func(int)
}

// Main runs the subcommand named by args[0] and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	env := &environment{stdout: stdout, stderr: stderr, lookupEnv: os.LookupEnv, exit: os.Exit}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if len(args) > 1 && args[0] == "server" && args[1] == "audit" {
		return runServerAudit(env, args[2:])
	}
	if len(args) > 1 && args[0] == "server" && args[1] == "backup" {
		return runServerBackup(env, args[2:])
	}
	if len(args) > 1 && args[0] == "server" && args[1] == "rotate-seal" {
		return runServerRotateSeal(env, args[2:])
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(env, args[1:])
		}
	}
	fmt.Fprintf(stderr, "agentd: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: agentd <command> [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.synopsis)
	}
	b.WriteString("\nRun 'agentd <command> -h' for the flags of a command.\n")
	fmt.Fprint(w, b.String())
}
