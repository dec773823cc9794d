// Command agentd-image writes agentd's container image to an OCI archive
// without a container engine (see package image). `make image` runs it.
//
//	agentd-image -binary bin/linux_amd64/agentd -version v0.1.0 -revision $(git rev-parse HEAD) -out bin/agentd-image.tar
//
// The creation time is SOURCE_DATE_EPOCH (seconds since 1970), required so
// that the same inputs always give the same image.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/deploy/kit/image"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "agentd-image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("agentd-image", flag.ContinueOnError)
	var s image.Spec
	fs.StringVar(&s.Binary, "binary", "", "agentd built with GOOS=linux CGO_ENABLED=0 (`file`)")
	fs.StringVar(&s.CABundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "PEM `file` of trusted roots")
	fs.StringVar(&s.Version, "version", "", "agentd's `version` (label)")
	fs.StringVar(&s.Revision, "revision", "", "source `commit` (label)")
	fs.StringVar(&s.Source, "source", "https://github.com/sirsinexus/terraform-provider-sirsi", "source repository `URL` (label)")
	ref := fs.String("ref", "", "image `name` recorded in the archive's index (default agentd:<version>)")
	out := fs.String("out", "", "OCI archive to write (`file`)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.Binary == "" || *out == "" {
		return fmt.Errorf("-binary and -out are required")
	}
	epoch, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok {
		return fmt.Errorf("SOURCE_DATE_EPOCH is not set (the commit time: git log -1 --format=%%ct)")
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || sec <= 0 {
		return fmt.Errorf("SOURCE_DATE_EPOCH %q is not a positive number of seconds", epoch)
	}
	s.Created = time.Unix(sec, 0)
	if *ref == "" {
		*ref = "agentd:" + s.Version
	}
	img, err := image.Build(s)
	if err != nil {
		return err
	}
	if err := image.WriteArchive(img, *ref, *out); err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s %s\n", *out, *ref, d)
	return nil
}
