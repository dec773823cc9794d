// Command agentd is SirsiNexus's daemon: the control plane (`agentd
// server`), the zero-setup dev mode (`agentd dev`) and, later, the in-account
// agent. Everything but the exit lives in internal/daemon.
package main

import (
	"os"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/daemon"
)

func main() {
	os.Exit(daemon.Main(os.Args[1:], os.Stdout, os.Stderr))
}
