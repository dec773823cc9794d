package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/pricing"
)

// TestPricingImport runs the command on the pricing package's offer file
// fixtures (bulk format): the snapshot it writes parses as a catalogue
// with the files' prices; a negative price fails it and writes nothing.
func TestPricingImport(t *testing.T) {
	fixtures := filepath.Join("..", "pricing", "testdata", "offers")
	out := filepath.Join(t.TempDir(), "prices.json")
	var stdout, stderr bytes.Buffer
	code := Main([]string{"pricing", "import", "-out", out, filepath.Join(fixtures, "AmazonEC2-us-east-1.json"), filepath.Join(fixtures, "AmazonRDS-us-east-1.json")}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := pricing.Parse(doc)
	if err != nil {
		t.Fatalf("the imported snapshot does not parse: %v", err)
	}
	if p, err := cat.EC2Hourly("us-east-1", "m5.large"); err != nil || p != 0.10 {
		t.Errorf("m5.large %v %v, want the offer file's 0.10", p, err)
	}
	if p, err := cat.RDSHourly("us-east-1", "db.m5.large", "mysql"); err != nil || p != 0.18 {
		t.Errorf("db.m5.large MySQL %v %v, want the offer file's 0.18", p, err)
	}
	if !strings.Contains(stderr.String(), "5 prices replaced") || cat.SnapshotDate() != "2026-11-01" {
		t.Errorf("stderr %q, snapshot date %q", stderr.String(), cat.SnapshotDate())
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	stderr.Reset()
	if code := Main([]string{"pricing", "import", "-out", bad, filepath.Join(fixtures, "negative-price.json")}, &stdout, &stderr); code != exitFailure ||
		!strings.Contains(stderr.String(), "pricePerUnit.USD") {
		t.Errorf("negative price: exit %d, %s", code, stderr.String())
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a failed import wrote %s (%v)", bad, err)
	}
	if code := Main([]string{"pricing", "import"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("no files: exit %d", code)
	}
}
