// Command terraform-provider-sirsi is the SirsiNexus Terraform provider.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"runtime/debug"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pluginlog"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
	"github.com/sirsinexus/terraform-provider-sirsi/provider"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// gcPercent is the collector's target when GOGC is not set. The provider is
// a short-lived process whose heap is mostly terraform-plugin-framework's
// per-request value copies; collecting less often cuts the provider's CPU
// in a plan of 500 policies by about a quarter (2.6-2.9 to 2.0-2.1
// CPU-seconds against GOGC=100) for a peak RSS of 235 MB instead of 105.
const gcPercent = 400

// address is the provider's registry address.
const address = "registry.terraform.io/sirsinexus/sirsi"

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "start the provider in debug mode for a debugger such as delve")
	flag.Parse()
	// In debug mode the logs go to this process's own stderr, for the
	// developer to read, so the SDK's levels stay as they are.
	if !debugMode {
		for name, level := range pluginlog.Levels(os.LookupEnv) {
			if err := os.Setenv(name, level); err != nil {
				log.Fatalf("setting %s: %v", name, err)
			}
		}
	}
	// Terraform starts the provider with its own environment, so OTEL_*
	// set for terraform reach this process. stdout is the plugin
	// handshake: the console exporter writes to stderr (or its file).
	flushTraces, err := tracing.Setup(context.Background(), "terraform-provider-sirsi", os.Stderr)
	if err != nil {
		log.Fatal(err)
	}
	var opts []tf6server.ServeOpt
	if debugMode {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	newServer := provider.NewServer(version)
	err = tf6server.Serve(address, func() tfprotov6.ProviderServer {
		s, err := newServer()
		if err != nil {
			log.Fatal(err)
		}
		return s
	}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if ferr := flushTraces(ctx); ferr != nil {
		log.Print(ferr)
	}
	cancel()
	if err != nil {
		log.Fatal(err)
	}
}
