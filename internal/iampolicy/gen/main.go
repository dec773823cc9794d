// Command gen writes the agent's IAM policies (package iampolicy) into the
// directory given as its only argument; `make generate` runs it for
// deploy/iam.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/iampolicy"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	files, err := iampolicy.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(os.Args[1], name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
