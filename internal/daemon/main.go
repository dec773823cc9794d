package daemon

import (
	"flag"
	"fmt"
	"io"
	"os"

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

// root is agentd's command tree.
var root = &command{
	name: "agentd",
	about: `agentd is SirsiNexus's daemon: the control plane (server), the agent
that runs inside an AWS account (agent), both at once against a simulated
account for trying things locally (dev), and the simulated account alone (sim).`,
	subs: []*command{
		serverCommand,
		agentCommand,
		devCommand,
		simCommand,
		pricingCommand,
		{name: "version", synopsis: "print the version", flags: func(env *environment, _ *flag.FlagSet) func() int {
			return func() int {
				fmt.Fprintf(env.stdout, "agentd %s\n", version.Version)
				return exitOK
			}
		}},
	},
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

// Main runs the command named by args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	env := &environment{stdout: stdout, stderr: stderr, lookupEnv: os.LookupEnv, exit: os.Exit}
	return root.execute(env, root.name, args)
}
