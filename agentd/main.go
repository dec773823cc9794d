// Command agentd is SirsiNexus's daemon: the control plane (`agentd
// server`), the agent inside an AWS account (`agentd agent`), the zero-setup
// dev mode (`agentd dev`) and the simulated AWS account (`agentd sim`).
// Everything but the exit lives in internal/daemon.
package main

import (
	"os"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/daemon"
)

func main() {
	os.Exit(daemon.Main(os.Args[1:], os.Stdout, os.Stderr))
}
