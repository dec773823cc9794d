package daemon

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// runPricing is `agentd pricing import`: the price catalogue rebuilt
// offline from AWS Price List bulk offer files a user downloaded.
func runPricing(env *environment, args []string) int {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(env.stderr, "Usage: agentd pricing import [-out FILE] OFFER_FILE...\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	fs := flag.NewFlagSet("agentd pricing import", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	out := fs.String("out", "", "file to write the snapshot to (replaced atomically); empty: standard output")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, "Usage: agentd pricing import [-out FILE] OFFER_FILE...\n\n"+
			"Rebuilds the price snapshot (the format of internal/pricing/data/prices.json) from AWS Price List bulk offer files,\n"+
			"e.g. https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json (also AmazonRDS,\n"+
			"AWSLambda, AmazonS3), read offline. The embedded catalogue's regions, instance types and usage types are the frame;\n"+
			"every price the files carry replaces the embedded one. A negative or non-numeric price fails the import.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.stderr, "agentd pricing import: name at least one offer file")
		return exitUsage
	}
	frame, err := pricing.Embedded()
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd pricing import: %s\n", err)
		return exitFailure
	}
	var files []pricing.OfferFile
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(env.stderr, "agentd pricing import: %s\n", err)
			return exitFailure
		}
		defer f.Close()
		files = append(files, pricing.OfferFile{Name: name, R: f})
	}
	cat, rep, err := pricing.ImportOfferFiles(frame, files)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd pricing import: %s\n", err)
		return exitFailure
	}
	doc, err := pricing.MarshalSnapshot(cat)
	if err != nil {
		fmt.Fprintf(env.stderr, "agentd pricing import: %s\n", err)
		return exitFailure
	}
	if *out == "" {
		if _, err := env.stdout.Write(doc); err != nil {
			fmt.Fprintf(env.stderr, "agentd pricing import: writing the snapshot: %s\n", err)
			return exitFailure
		}
	} else if err := atomicfile.Write(*out, doc, 0o644); err != nil {
		fmt.Fprintf(env.stderr, "agentd pricing import: %s\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stderr, "agentd pricing import: %d prices replaced, %d products skipped, snapshot date %s\n", rep.Prices, rep.Skipped, cat.SnapshotDate())
	return exitOK
}
