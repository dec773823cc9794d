package pricing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func offerFiles(t *testing.T, names ...string) []OfferFile {
	t.Helper()
	var out []OfferFile
	for _, n := range names {
		f, err := os.Open(filepath.Join("testdata", "offers", n))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		out = append(out, OfferFile{Name: n, R: f})
	}
	return out
}

// The fixtures are in the bulk offer file format (products by SKU,
// terms.OnDemand by SKU with priceDimensions, Reserved terms beside them)
// with prices unlike the embedded ones, so each replaced row shows.
func TestImportOfferFiles(t *testing.T) {
	frame, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cat, rep, err := ImportOfferFiles(frame, offerFiles(t, "AmazonEC2-us-east-1.json", "AmazonRDS-us-east-1.json", "AWSLambda-us-east-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got float64, err error, want float64) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s: %v (%v), want %v", what, got, err, want)
		}
	}
	p, err := cat.EC2Hourly("us-east-1", "m5.large")
	check("m5.large Linux (not the Windows SKU)", p, err, 0.10)
	p, err = cat.EC2Hourly("eu-west-1", "m5.large")
	want, _ := frame.EC2Hourly("eu-west-1", "m5.large")
	check("m5.large in a region the files do not cover", p, err, want)
	p, err = cat.RDSHourly("us-east-1", "db.m5.large", "mysql")
	check("db.m5.large MySQL single-AZ (not Multi-AZ)", p, err, 0.18)
	p, err = cat.RDSStorageGBMonth("us-east-1", "gp2")
	check("RDS gp2 storage", p, err, 0.12)
	p, err = cat.EBSMonthly("us-east-1", "gp3", 100, 3000, 125)
	check("gp3 100 GiB at the new storage rate", p, err, 8.5)
	p, err = cat.EIPHourly("us-east-1")
	check("idle public IPv4", p, err, 0.006)
	lp, err := cat.LambdaPrice("us-east-1", ArchX86)
	check("Lambda x86 GB-second, first tier", lp.USDPerGBSecond, err, 0.000017)
	check("Lambda x86 request", lp.USDPerRequest, err, 0.00000025)
	arm, _ := cat.LambdaPrice("us-east-1", ArchARM)
	frameARM, _ := frame.LambdaPrice("us-east-1", ArchARM)
	if arm != frameARM {
		t.Errorf("Lambda arm64 with a duration but no request price was replaced: %+v", arm)
	}
	if cat.SnapshotDate() != "2026-11-01" || !strings.Contains(cat.Source(), "AmazonEC2-us-east-1.json") {
		t.Errorf("snapshot date %q source %q", cat.SnapshotDate(), cat.Source())
	}
	// m5.large, db.m5.large, RDS gp2, gp3, IPv4, Lambda x86; z9.huge is
	// no type of the frame, Windows, the dedicated host, Multi-AZ and
	// half a Lambda price are skipped.
	if rep.Prices != 6 || rep.Skipped < 4 {
		t.Errorf("report %+v, want 6 prices and the rest skipped", rep)
	}
	// The result round-trips as a snapshot file.
	doc, err := MarshalSnapshot(cat)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(doc)
	if err != nil {
		t.Fatalf("imported snapshot does not parse: %v", err)
	}
	if p, _ := back.EC2Hourly("us-east-1", "m5.large"); p != 0.10 {
		t.Errorf("round trip m5.large %v", p)
	}

	for name, files := range map[string][]OfferFile{
		"negative price": offerFiles(t, "negative-price.json"),
		"not an offer":   {{Name: "junk", R: strings.NewReader(`[1,2]`)}},
		"none":           nil,
	} {
		_, _, err := ImportOfferFiles(frame, files)
		if err == nil {
			t.Errorf("%s: imported", name)
		}
		if name == "negative price" && (err == nil || !strings.Contains(err.Error(), "EC2M5LARGE") || !strings.Contains(err.Error(), "pricePerUnit.USD")) {
			t.Errorf("negative price: %v does not name the SKU and field", err)
		}
	}
}
