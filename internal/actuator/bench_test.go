package actuator

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
)

// BenchmarkJournalStep is the cost of one durable (fsynced) step, the
// floor under every step of every flow.
func BenchmarkJournalStep(b *testing.B) {
	j, err := openJournal(b.TempDir(), hclog.NewNullLogger(), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := j.close(); err != nil {
			b.Error(err)
		}
	})
	rec := &record{Req: resizeReq("i-0123456789abcdef0"), Phase: phaseStop, Start: time.Now()}
	rec.Req.ID = uuid.NewString()
	for b.Loop() {
		rec.addStep(phaseStop, statusSucceeded, time.Now(), "")
		if len(rec.Steps) > 20 {
			rec.Steps = rec.Steps[:0]
		}
		if err := j.put(rec); err != nil {
			b.Fatal(err)
		}
	}
}
