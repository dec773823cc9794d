package pki

import (
	"path/filepath"
	"testing"
	"time"
)

// TestKnowsFollowsARotation: through stage, promote and retire, a CA knows
// the fingerprints of what it trusts, and says which one a promotion
// superseded; another CA's it does not know.
func TestKnowsFollowsARotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	c := &clock{time.Now()}
	old := newCA(t, dir, c)
	oldFP := old.Fingerprint()
	stranger := newCA(t, filepath.Join(t.TempDir(), "other"), c)
	check := func(step string, ca *CA, fp string, known, superseded bool) {
		t.Helper()
		if k, s := ca.Knows(fp); k != known || s != superseded {
			t.Errorf("%s: Knows = %v, %v; want %v, %v", step, k, s, known, superseded)
		}
	}
	check("before a rotation", old, oldFP, true, false)
	check("another CA", old, stranger.Fingerprint(), false, false)

	next, err := StageNextCA(Options{Dir: dir, Name: "sirsi.test", Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	staged := newCA(t, dir, c)
	check("staged: the signing CA", staged, oldFP, true, false)
	check("staged: the next CA", staged, Fingerprint(next), true, false)

	if err := PromoteNextCA(dir); err != nil {
		t.Fatal(err)
	}
	promoted := newCA(t, dir, c)
	if promoted.Fingerprint() != Fingerprint(next) {
		t.Fatalf("the promoted CA signs as %s, want the staged %s", promoted.Fingerprint(), Fingerprint(next))
	}
	check("promoted: the previous CA", promoted, oldFP, true, true)

	if err := RetirePreviousCA(dir); err != nil {
		t.Fatal(err)
	}
	check("retired: the previous CA", newCA(t, dir, c), oldFP, false, false)
}
