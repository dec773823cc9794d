package daemon

import (
	"flag"
	"fmt"
	"os"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// pricingCommand is `agentd pricing import`: the price catalogue rebuilt
// offline from AWS Price List bulk offer files a user downloaded.
var pricingCommand = &command{
	name: "pricing",
	subs: []*command{{
		name:       "import",
		synopsis:   "rebuild the price snapshot offline from AWS Price List offer files",
		args:       "[-out FILE] OFFER_FILE...",
		positional: true,
		about: `Rebuilds the price snapshot (the format of internal/pricing/data/prices.json) from AWS Price List bulk offer files,
e.g. https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json (also AmazonRDS,
AWSLambda, AmazonS3), read offline. The embedded catalogue's regions, instance types and usage types are the frame;
every price the files carry replaces the embedded one. A negative or non-numeric price fails the import.`,
		flags: func(env *environment, fs *flag.FlagSet) func() int {
			out := fs.String("out", "", "file to write the snapshot to (replaced atomically); empty: standard output")
			return func() int { return runPricingImport(env, fs, *out) }
		},
	}},
}

func runPricingImport(env *environment, fs *flag.FlagSet, out string) int {
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
	if out == "" {
		if _, err := env.stdout.Write(doc); err != nil {
			fmt.Fprintf(env.stderr, "agentd pricing import: writing the snapshot: %s\n", err)
			return exitFailure
		}
	} else if err := atomicfile.Write(out, doc, 0o644); err != nil {
		fmt.Fprintf(env.stderr, "agentd pricing import: %s\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stderr, "agentd pricing import: %d prices replaced, %d products skipped, snapshot date %s\n", rep.Prices, rep.Skipped, cat.SnapshotDate())
	return exitOK
}
