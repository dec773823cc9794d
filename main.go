// Command terraform-provider-sirsi is the SirsiNexus Terraform provider.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"runtime/debug"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/sirsinexus/terraform-provider-sirsi/provider"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// gcPercent is the collector's target when GOGC is not set. The provider is
// a short-lived process whose heap is mostly terraform-plugin-framework's
// per-request value copies; collecting less often cuts a 500-resource plan
// by about 30% (scripts/bench-provider.sh) for a few tens of MB.
const gcPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "start the provider in debug mode for a debugger such as delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/sirsinexus/sirsi",
		Debug:   debugMode,
	})
	if err != nil {
		log.Fatal(err)
	}
}
