package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
)

// syncBuffer collects log output from any goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	dir  string
	reg  *prometheus.Registry
	logs *syncBuffer
	now  time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{
		dir:  t.TempDir(),
		reg:  prometheus.NewRegistry(),
		logs: &syncBuffer{},
		now:  time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
	}
}

func (h *harness) options(maxBytes int64) Options {
	return Options{
		Dir:        h.dir,
		MaxBytes:   maxBytes,
		Logger:     hclog.New(&hclog.LoggerOptions{Output: h.logs, Level: hclog.Trace}),
		Registerer: h.reg,
		Clock:      func() time.Time { return h.now },
	}
}

func (h *harness) open(t *testing.T, maxBytes int64) *Spool {
	t.Helper()
	s, err := Open(h.options(maxBytes))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// metric reads one sample; kind "" means the metric has no labels.
func (h *harness) metric(t *testing.T, name, kind string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := kind == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					match = true
				}
			}
			if !match {
				continue
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s{kind=%q} not found", name, kind)
	return 0
}

func mustAppend(t *testing.T, s *Spool, kind Kind, id string, payload []byte) uint64 {
	t.Helper()
	seq, err := s.Append(kind, id, payload)
	if err != nil {
		t.Fatalf("Append(%s, %q): %v", kind, id, err)
	}
	return seq
}

func peekIDs(t *testing.T, s *Spool) []string {
	t.Helper()
	recs, err := s.Peek(1 << 20)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.BatchID
	}
	return ids
}

func TestRoundTripAndOrder(t *testing.T) {
	h := newHarness(t)
	s := h.open(t, 0)

	type in struct {
		kind    Kind
		id      string
		payload []byte
	}
	ins := []in{
		{KindInventory, "inv-1", []byte("inventory payload")},
		{KindUtilization, "util-1", nil},
		{KindCosts, "costs-1", bytes.Repeat([]byte{0xff, 0x00}, 40000)},
		{KindRecommendations, "rec-1", []byte{1}},
		{KindActions, strings.Repeat("a", 64), []byte("act")},
	}
	var seqs []uint64
	for i, x := range ins {
		h.now = h.now.Add(time.Duration(i) * time.Second)
		seqs = append(seqs, mustAppend(t, s, x.kind, x.id, x.payload))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("sequences not increasing: %v", seqs)
		}
	}

	recs, err := s.Peek(10)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	if len(recs) != len(ins) {
		t.Fatalf("Peek returned %d records, want %d", len(recs), len(ins))
	}
	want := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for i, r := range recs {
		want = want.Add(time.Duration(i) * time.Second)
		x := ins[i]
		if r.Seq != seqs[i] || r.Kind != x.kind || r.BatchID != x.id || !bytes.Equal(r.Payload, x.payload) || !r.Enqueued.Equal(want) {
			t.Errorf("record %d = {%d %s %q %d bytes %s}, want {%d %s %q %d bytes %s}",
				i, r.Seq, r.Kind, r.BatchID, len(r.Payload), r.Enqueued, seqs[i], x.kind, x.id, len(x.payload), want)
		}
	}

	two, err := s.Peek(2)
	if err != nil {
		t.Fatalf("Peek(2): %v", err)
	}
	if len(two) != 2 || two[0].Seq != seqs[0] || two[1].Seq != seqs[1] {
		t.Fatalf("Peek(2) = %+v, want the two oldest", two)
	}
	if s.Len() != len(ins) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(ins))
	}
	var wantBytes int64
	for _, x := range ins {
		wantBytes += int64(headerLen + len(x.id) + len(x.payload))
	}
	if s.Bytes() != wantBytes {
		t.Fatalf("Bytes = %d, want %d", s.Bytes(), wantBytes)
	}
	if got := h.metric(t, "sirsi_agent_spool_bytes", ""); got != float64(wantBytes) {
		t.Fatalf("bytes gauge = %v, want %d", got, wantBytes)
	}
	if got := h.metric(t, "sirsi_agent_spool_records", "costs"); got != 1 {
		t.Fatalf("records{costs} = %v, want 1", got)
	}
	if got := h.metric(t, "sirsi_agent_spool_appended_total", "actions"); got != 1 {
		t.Fatalf("appended_total{actions} = %v, want 1", got)
	}
}

func TestPeekRejectsNonPositiveLimit(t *testing.T) {
	s := newHarness(t).open(t, 0)
	if _, err := s.Peek(0); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Peek(0) error = %v, want one naming limit", err)
	}
}

func TestAckIsIdempotent(t *testing.T) {
	h := newHarness(t)
	s := h.open(t, 0)
	a := mustAppend(t, s, KindInventory, "a", []byte("1"))
	b := mustAppend(t, s, KindInventory, "b", []byte("2"))
	c := mustAppend(t, s, KindCosts, "c", []byte("3"))

	if err := s.Ack(b); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if err := s.Ack(b, b, 9999); err != nil {
		t.Fatalf("second Ack of the same and an unknown seq: %v", err)
	}
	if err := s.Ack(); err != nil {
		t.Fatalf("empty Ack: %v", err)
	}
	if got := peekIDs(t, s); strings.Join(got, ",") != "a,c" {
		t.Fatalf("after acking b: %v, want [a c]", got)
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
	if got := h.metric(t, "sirsi_agent_spool_acked_total", "inventory"); got != 1 {
		t.Fatalf("acked_total{inventory} = %v, want 1 (duplicates must not count)", got)
	}
	if err := s.Ack(a, c); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if s.Len() != 0 || s.Bytes() != 0 {
		t.Fatalf("Len, Bytes = %d, %d after acking everything, want 0, 0", s.Len(), s.Bytes())
	}
}

func TestReopenKeepsUnackedAndNeverReusesSequences(t *testing.T) {
	h := newHarness(t)
	s, err := Open(h.options(0))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var last uint64
	for i := 1; i <= 4; i++ {
		last = mustAppend(t, s, Kind(i), fmt.Sprintf("b-%d", i), bytes.Repeat([]byte{byte(i)}, i*100))
	}
	if err := s.Ack(1, 3); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	wantLen, wantBytes := s.Len(), s.Bytes()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(h.options(0))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if got := peekIDs(t, s); strings.Join(got, ",") != "b-2,b-4" {
		t.Fatalf("after reopen: %v, want [b-2 b-4]", got)
	}
	if s.Len() != wantLen || s.Bytes() != wantBytes {
		t.Fatalf("after reopen Len, Bytes = %d, %d, want %d, %d", s.Len(), s.Bytes(), wantLen, wantBytes)
	}
	if got := h.metric(t, "sirsi_agent_spool_records", "utilization"); got != 1 {
		t.Fatalf("records{utilization} after reopen = %v, want 1", got)
	}
	select {
	case <-s.Wait():
	default:
		t.Fatal("Wait not primed after reopening a spool that holds records")
	}
	if err := s.Ack(2, 4); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = h.open(t, 0)
	if s.Len() != 0 {
		t.Fatalf("Len = %d after acking everything and reopening, want 0", s.Len())
	}
	if seq := mustAppend(t, s, KindInventory, "b-5", nil); seq <= last {
		t.Fatalf("sequence %d after reopening an empty spool reuses a sequence (last was %d)", seq, last)
	}
}

func TestAppendValidation(t *testing.T) {
	s := newHarness(t).open(t, 0)
	cases := []struct {
		name    string
		kind    Kind
		id      string
		payload []byte
		want    string
	}{
		{"kind zero", 0, "b", nil, "kind 0 is unknown"},
		{"kind too big", KindActions + 1, "b", nil, "kind 6 is unknown"},
		{"empty batch id", KindInventory, "", nil, "batch id \"\" has length 0"},
		{"long batch id", KindInventory, strings.Repeat("x", 65), nil, "has length 65"},
		{"control byte", KindInventory, "b\n1", nil, "byte 0x0a at offset 1"},
		{"non-ascii", KindInventory, "bé", nil, "byte 0xc3 at offset 1"},
		{"payload too big", KindInventory, "b", make([]byte, MaxPayload+1), "payload of 16777217 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Append(c.kind, c.id, c.payload)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Append error = %v, want one containing %q", err, c.want)
			}
		})
	}
	if s.Len() != 0 {
		t.Fatalf("rejected appends left %d records", s.Len())
	}
	mustAppend(t, s, KindInventory, strings.Repeat("~", 64), make([]byte, MaxPayload))
}

func TestOpenValidation(t *testing.T) {
	if _, err := Open(Options{}); err == nil || !strings.Contains(err.Error(), "Options.Dir") {
		t.Fatalf("Open without Dir: %v, want an error naming Options.Dir", err)
	}
	if _, err := Open(Options{Dir: t.TempDir(), MaxBytes: -1}); err == nil || !strings.Contains(err.Error(), "Options.MaxBytes") {
		t.Fatalf("Open with negative MaxBytes: %v, want an error naming Options.MaxBytes", err)
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	h := newHarness(t)
	h.dir = filepath.Join(h.dir, "nested", "spool")
	h.open(t, 0)
	for path, want := range map[string]os.FileMode{h.dir: 0o700, filepath.Join(h.dir, "spool.db"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if fi.Mode().Perm()&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", path, fi.Mode().Perm(), want)
		}
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	h := newHarness(t)
	h.open(t, 0)
	_, err := Open(Options{Dir: h.dir})
	want := fmt.Sprintf("spool %s is locked by another process", filepath.Join(h.dir, "spool.db"))
	if err == nil || err.Error() != want {
		t.Fatalf("second Open error = %v, want %q", err, want)
	}
}

func TestCapDropsOldestUtilizationOnly(t *testing.T) {
	h := newHarness(t)
	payload := make([]byte, 1000)
	const size = headerLen + 5 + 1000 // every id below has 5 bytes
	s := h.open(t, 4*size)

	mustAppend(t, s, KindInventory, "inv-1", payload)
	mustAppend(t, s, KindUtilization, "utl-1", payload)
	mustAppend(t, s, KindUtilization, "utl-2", payload)
	mustAppend(t, s, KindCosts, "cst-1", payload)
	if s.Bytes() != 4*size {
		t.Fatalf("Bytes = %d, want %d", s.Bytes(), 4*size)
	}

	mustAppend(t, s, KindUtilization, "utl-3", payload)
	if got := strings.Join(peekIDs(t, s), ","); got != "inv-1,utl-2,cst-1,utl-3" {
		t.Fatalf("after one drop: %s, want the oldest utilization record gone", got)
	}
	if got := h.metric(t, "sirsi_agent_spool_dropped_records_total", "utilization"); got != 1 {
		t.Fatalf("dropped_records_total = %v, want 1", got)
	}
	if !strings.Contains(h.logs.String(), "count=1 bytes=1021") {
		t.Fatalf("no warn line with the drop count and bytes in:\n%s", h.logs.String())
	}

	mustAppend(t, s, KindInventory, "inv-2", payload)
	mustAppend(t, s, KindActions, "act-1", payload)
	if got := strings.Join(peekIDs(t, s), ","); got != "inv-1,cst-1,inv-2,act-1" {
		t.Fatalf("after two more drops: %s", got)
	}
	if got := h.metric(t, "sirsi_agent_spool_over_cap", ""); got != 0 {
		t.Fatalf("over_cap = %v while at the cap, want 0", got)
	}

	mustAppend(t, s, KindRecommendations, "rec-1", payload)
	mustAppend(t, s, KindInventory, "inv-3", payload)
	if got := strings.Join(peekIDs(t, s), ","); got != "inv-1,cst-1,inv-2,act-1,rec-1,inv-3" {
		t.Fatalf("undroppable records were dropped: %s", got)
	}
	if got := h.metric(t, "sirsi_agent_spool_over_cap", ""); got != 1 {
		t.Fatalf("over_cap = %v above the cap, want 1", got)
	}
	if n := strings.Count(h.logs.String(), "over its size cap"); n != 1 {
		t.Fatalf("%d over-cap warnings for one crossing, want 1", n)
	}

	if err := s.Ack(1, 4, 6); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if got := h.metric(t, "sirsi_agent_spool_over_cap", ""); got != 0 {
		t.Fatalf("over_cap = %v back under the cap, want 0", got)
	}
	mustAppend(t, s, KindInventory, "inv-4", payload)
	mustAppend(t, s, KindInventory, "inv-5", payload)
	if n := strings.Count(h.logs.String(), "over its size cap"); n != 2 {
		t.Fatalf("%d over-cap warnings after a second crossing, want 2", n)
	}
	if got := h.metric(t, "sirsi_agent_spool_dropped_records_total", "utilization"); got != 3 {
		t.Fatalf("dropped_records_total = %v, want 3", got)
	}
}

// corrupt rewrites one stored value through bbolt directly.
func corrupt(tx *bolt.Tx, seq uint64, mutate func([]byte)) error {
	b := tx.Bucket(recordsBucket)
	v := append([]byte{}, b.Get(key(seq))...)
	if len(v) == 0 {
		return fmt.Errorf("record %d not found", seq)
	}
	mutate(v)
	return b.Put(key(seq), v)
}

func TestCorruptRecordIsQuarantinedOnOpen(t *testing.T) {
	h := newHarness(t)
	s, err := Open(h.options(0))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i := 1; i <= 3; i++ {
		mustAppend(t, s, KindInventory, fmt.Sprintf("b-%d", i), []byte("payload"))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	path := filepath.Join(h.dir, "spool.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	var corrupted []byte
	err = db.Update(func(tx *bolt.Tx) error {
		return corrupt(tx, 2, func(v []byte) {
			v[len(v)-1] ^= 0x01
			corrupted = append([]byte{}, v...)
		})
	})
	if err != nil {
		t.Fatalf("corrupting: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("bolt Close: %v", err)
	}

	s, err = Open(h.options(0))
	if err != nil {
		t.Fatalf("reopen with a corrupt record: %v", err)
	}
	if got := strings.Join(peekIDs(t, s), ","); got != "b-1,b-3" {
		t.Fatalf("after reopen: %s, want the corrupt record skipped", got)
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
	if got := h.metric(t, "sirsi_agent_spool_quarantined_total", ""); got != 1 {
		t.Fatalf("quarantined_total = %v, want 1", got)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "[ERROR]") || !strings.Contains(logs, "seq=2") || !strings.Contains(logs, "checksum mismatch") {
		t.Fatalf("no error log naming seq 2 and the reason in:\n%s", logs)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	err = db.View(func(tx *bolt.Tx) error {
		if got := tx.Bucket(quarantineBucket).Get(key(2)); !bytes.Equal(got, corrupted) {
			return fmt.Errorf("quarantine holds %x, want the corrupted bytes %x", got, corrupted)
		}
		if tx.Bucket(recordsBucket).Get(key(2)) != nil {
			return errors.New("corrupt record still in the records bucket")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCorruptRecordIsQuarantinedOnPeek(t *testing.T) {
	h := newHarness(t)
	s := h.open(t, 0)
	mustAppend(t, s, KindInventory, "b-1", []byte("one"))
	mustAppend(t, s, KindUtilization, "b-2", []byte("two"))
	mustAppend(t, s, KindCosts, "b-3", []byte("three"))
	// The kind byte sits outside the checksum; an unknown value must
	// still be caught, and the per-kind counts must not go wrong.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return corrupt(tx, 2, func(v []byte) { v[1] = 0x7f })
	}); err != nil {
		t.Fatalf("corrupting: %v", err)
	}

	recs, err := s.Peek(2)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	if len(recs) != 2 || recs[0].BatchID != "b-1" || recs[1].BatchID != "b-3" {
		t.Fatalf("Peek(2) = %+v, want b-1 and b-3 (the corrupt record must not take a slot)", recs)
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
	if got := h.metric(t, "sirsi_agent_spool_records", "utilization"); got != 0 {
		t.Fatalf("records{utilization} = %v, want 0", got)
	}
	if got := h.metric(t, "sirsi_agent_spool_quarantined_total", ""); got != 1 {
		t.Fatalf("quarantined_total = %v, want 1", got)
	}
	if !strings.Contains(h.logs.String(), "kind 127 is unknown") {
		t.Fatalf("quarantine log does not name the reason:\n%s", h.logs.String())
	}
}

func TestWaitSignalsAppends(t *testing.T) {
	h := newHarness(t)
	s := h.open(t, 0)
	select {
	case <-s.Wait():
		t.Fatal("Wait fired on an empty spool")
	default:
	}
	mustAppend(t, s, KindInventory, "a", nil)
	mustAppend(t, s, KindInventory, "b", nil)
	select {
	case <-s.Wait():
	default:
		t.Fatal("Wait did not fire after Append")
	}
	select {
	case <-s.Wait():
		t.Fatal("Wait fired twice for appends made before one receive")
	default:
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, ok := <-s.Wait(); ok {
		t.Fatal("Wait channel still open after Close")
	}
	if _, err := s.Append(KindInventory, "c", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Peek(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Peek after Close: %v, want ErrClosed", err)
	}
}

// TestConcurrentAppendersAndSender runs several appenders against one
// sender draining through Wait/Peek/Ack; every batch must be delivered
// exactly once.
func TestConcurrentAppendersAndSender(t *testing.T) {
	s := newHarness(t).open(t, 0)
	const appenders, each = 4, 50
	errc := make(chan error, appenders+1)
	var wg sync.WaitGroup
	for a := 0; a < appenders; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := s.Append(Kind(i%5+1), fmt.Sprintf("a%d-%03d", a, i), []byte{byte(i)}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}

	seen := map[string]int{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(seen) < appenders*each {
			if _, ok := <-s.Wait(); !ok {
				return
			}
			for {
				recs, err := s.Peek(7)
				if err != nil {
					errc <- err
					return
				}
				if len(recs) == 0 {
					break
				}
				seqs := make([]uint64, len(recs))
				for i, r := range recs {
					seen[r.BatchID]++
					seqs[i] = r.Seq
				}
				if err := s.Ack(seqs...); err != nil {
					errc <- err
					return
				}
			}
		}
	}()
	wg.Wait()
	<-done
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("batch %s delivered %d times", id, n)
		}
	}
	if len(seen) != appenders*each || s.Len() != 0 {
		t.Fatalf("delivered %d distinct batches, %d left, want %d and 0", len(seen), s.Len(), appenders*each)
	}
}
