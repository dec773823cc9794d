// Command loadgen is the ListResources benchmark from a separate client
// process (`make bench-listresources`); everything lives in
// internal/loadgen.
package main

import (
	"os"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/loadgen"
)

func main() {
	os.Exit(loadgen.Main(os.Args[1:], os.Stdout, os.Stderr))
}
