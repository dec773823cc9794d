package pricing

import (
	"errors"
	"testing"
)

// Every region the catalogue prices has a snapshot price, so an estimate
// never fails for a region whose volumes it can price.
func TestEBSSnapshotPriceForEveryRegion(t *testing.T) {
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cat.Regions() {
		p, err := EBSSnapshotGBMonth(r.Code)
		if err != nil || p <= 0 {
			t.Errorf("%s: snapshot price %v, %v", r.Code, p, err)
		}
	}
	if p, _ := EBSSnapshotGBMonth("us-east-1"); p != 0.05 {
		t.Errorf("us-east-1 snapshot price %v, want the published 0.05", p)
	}
	if _, err := EBSSnapshotGBMonth("mars-north-1"); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("unknown region: %v, want ErrUnknownRegion", err)
	}
}
