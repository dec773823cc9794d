// Package spool is the agent's durable outbox. Every report batch is
// appended here before it is sent and stays until the control plane
// acknowledges it, so an outage, a restart, a SIGKILL or a torn write at the
// end of the file loses nothing and duplicates nothing.
//
// Storage is one bbolt file, <dir>/spool.db. bbolt gives us copy-on-write
// pages, checksummed meta pages and fsync on commit, which is exactly the
// crash behaviour a hand-written segment log would have to re-derive. Each
// record is keyed by a big-endian uint64 from the bucket's NextSequence, so
// key order is append order and sequences are never reused, even after
// every record was acknowledged and the agent restarted. Values carry their
// own versioned, CRC-32C checksummed encoding (see DecodeRecord) so that
// disk corruption below bbolt's meta pages is caught; a record that fails
// to decode is moved to a quarantine bucket, never deleted and never in the
// way of the records after it.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	defaultMaxBytes = 256 << 20

	// lockTimeout bounds how long Open waits for another process's lock on
	// the file: long enough to ride out a previous agent that is still
	// exiting, short enough that a second agent on the same dir fails fast.
	lockTimeout = time.Second
)

var (
	recordsBucket    = []byte("records")
	quarantineBucket = []byte("quarantine")
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("spool is closed")

// Options configures Open.
type Options struct {
	Dir        string                // required
	MaxBytes   int64                 // size cap on stored record bytes; 0 = 256 MiB
	Logger     hclog.Logger          // nil = null logger
	Registerer prometheus.Registerer // nil = private registry
	Clock      func() time.Time      // nil = time.Now
}

// stats counts what the records bucket holds. Slot 0 collects values whose
// kind byte is not a known kind (corrupt, not yet quarantined); slots 1..5
// are the kinds.
type stats struct {
	records [KindActions + 1]int
	bytes   [KindActions + 1]int64
}

func slot(kindByte byte) int {
	if Kind(kindByte).valid() {
		return int(kindByte)
	}
	return 0
}

// kindByte reads a stored value's kind without trusting its length.
func kindByte(v []byte) byte {
	if len(v) < 2 {
		return 0
	}
	return v[1]
}

func (st *stats) add(v []byte) {
	i := slot(kindByte(v))
	st.records[i]++
	st.bytes[i] += int64(len(v))
}

func (st *stats) sub(kindByte byte, size int64) {
	i := slot(kindByte)
	st.records[i]--
	st.bytes[i] -= size
}

func (st *stats) totalRecords() int {
	n := 0
	for _, r := range st.records {
		n += r
	}
	return n
}

func (st *stats) totalBytes() int64 {
	var n int64
	for _, b := range st.bytes {
		n += b
	}
	return n
}

// Spool is safe for any number of appending goroutines plus one sender
// calling Peek and Ack.
type Spool struct {
	db       *bolt.DB
	path     string
	maxBytes int64
	log      hclog.Logger
	clock    func() time.Time
	m        *metrics
	notify   chan struct{}
	closed   atomic.Bool

	// wmu serialises every write transaction together with the stats
	// update that follows its commit, so the next writer's transaction
	// (which reads st to decide on drops) always sees committed numbers.
	wmu sync.Mutex
	// dropHint is a sequence below which no utilisation record remains,
	// so repeated drops do not rescan a head of undroppable records.
	dropHint uint64
	overCap  bool

	// smu guards st for the readers Len and Bytes; writers hold wmu too.
	smu sync.RWMutex
	st  stats
}

// Open opens or creates the spool in o.Dir, quarantining any record that
// no longer decodes.
func Open(o Options) (*Spool, error) {
	if o.Dir == "" {
		return nil, errors.New("opening spool: Options.Dir is required")
	}
	if o.MaxBytes < 0 {
		return nil, fmt.Errorf("opening spool: Options.MaxBytes is %d, want 0 (default) or a positive byte count", o.MaxBytes)
	}
	s := &Spool{
		path:     filepath.Join(o.Dir, "spool.db"),
		maxBytes: o.MaxBytes,
		log:      o.Logger,
		clock:    o.Clock,
		notify:   make(chan struct{}, 1),
	}
	if s.maxBytes == 0 {
		s.maxBytes = defaultMaxBytes
	}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	s.log = s.log.Named("spool")
	if s.clock == nil {
		s.clock = time.Now
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}

	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening spool: creating directory: %w", err)
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{
		Timeout:      lockTimeout,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("spool %s is locked by another process", s.path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening spool %s: %w", s.path, err)
	}
	s.db = db

	m, err := newMetrics(reg)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening spool %s: %w", s.path, err)
	}
	s.m = m

	if err := db.Update(s.load); err != nil {
		m.unregister()
		_ = db.Close()
		return nil, fmt.Errorf("opening spool %s: scanning records: %w", s.path, err)
	}
	s.publish()
	s.checkCap()
	if s.st.totalRecords() > 0 {
		s.notify <- struct{}{}
	}
	return s, nil
}

// load creates the buckets and recomputes the counters by decoding every
// record. A full scan is affordable: the cap keeps the spool at a few
// hundred MiB at most, CRC-32C runs at several GB/s, and it happens once per
// agent start; in exchange the counters can never drift from the file and
// corruption is found before the first send rather than mid-outage.
func (s *Spool) load(tx *bolt.Tx) error {
	b, err := tx.CreateBucketIfNotExists(recordsBucket)
	if err != nil {
		return fmt.Errorf("creating records bucket: %w", err)
	}
	if _, err := tx.CreateBucketIfNotExists(quarantineBucket); err != nil {
		return fmt.Errorf("creating quarantine bucket: %w", err)
	}
	var st stats
	var bad []uint64
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if _, err := DecodeRecord(v); err != nil {
			bad = append(bad, binary.BigEndian.Uint64(k))
			continue
		}
		st.add(v)
	}
	for _, seq := range bad {
		if err := s.quarantine(tx, seq); err != nil {
			return err
		}
	}
	s.st = st
	return nil
}

// quarantine moves the record at seq out of the way, keeping its bytes.
func (s *Spool) quarantine(tx *bolt.Tx, seq uint64) error {
	k := key(seq)
	b := tx.Bucket(recordsBucket)
	v := b.Get(k)
	if v == nil {
		return nil
	}
	_, decodeErr := DecodeRecord(v)
	if decodeErr == nil {
		return nil
	}
	if err := tx.Bucket(quarantineBucket).Put(k, append([]byte{}, v...)); err != nil {
		return fmt.Errorf("quarantining record %d: %w", seq, err)
	}
	if err := b.Delete(k); err != nil {
		return fmt.Errorf("quarantining record %d: %w", seq, err)
	}
	s.log.Error("quarantined a spool record that does not decode", "seq", seq, "bytes", len(v), "error", decodeErr)
	s.m.quarantined.Inc()
	return nil
}

func key(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// Append stores one batch and returns its sequence; the record is fsynced
// when Append returns. If the spool would exceed its cap, the oldest
// utilisation records are dropped first; other kinds are never dropped, so
// an append of them is accepted even above the cap.
func (s *Spool) Append(kind Kind, batchID string, payload []byte) (uint64, error) {
	if err := validate(kind, batchID, payload); err != nil {
		return 0, fmt.Errorf("appending to spool: %w", err)
	}
	v := encodeRecord(kind, batchID, payload, s.clock())

	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}

	var seq uint64
	var d drop
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(recordsBucket)
		if excess := s.st.totalBytes() + int64(len(v)) - s.maxBytes; excess > 0 {
			var err error
			if d, err = s.dropUtilization(b, excess); err != nil {
				return err
			}
		}
		var err error
		if seq, err = b.NextSequence(); err != nil {
			return fmt.Errorf("allocating a sequence: %w", err)
		}
		return b.Put(key(seq), v)
	})
	if err != nil {
		return 0, fmt.Errorf("appending %s batch %q to spool: %w", kind, batchID, err)
	}

	s.smu.Lock()
	for _, size := range d.sizes {
		s.st.sub(byte(KindUtilization), size)
	}
	s.st.add(v)
	s.smu.Unlock()
	if d.scanned {
		s.dropHint = d.hint
	}
	if len(d.sizes) > 0 {
		s.m.dropped.WithLabelValues(KindUtilization.String()).Add(float64(len(d.sizes)))
		s.log.Warn("spool size cap reached: dropped the oldest utilization records",
			"count", len(d.sizes), "bytes", d.bytes, "cap", s.maxBytes)
	}
	s.m.appended.WithLabelValues(kind.String()).Inc()
	s.publish()
	s.checkCap()

	select {
	case s.notify <- struct{}{}:
	default:
	}
	return seq, nil
}

// drop is what one dropUtilization call removed.
type drop struct {
	sizes   []int64
	bytes   int64
	scanned bool
	hint    uint64
}

// dropUtilization deletes the oldest utilisation records until at least
// excess bytes are freed or none are left.
func (s *Spool) dropUtilization(b *bolt.Bucket, excess int64) (drop, error) {
	d := drop{scanned: true, hint: s.dropHint}
	var victims [][]byte
	c := b.Cursor()
	for k, v := c.Seek(key(s.dropHint)); k != nil; k, v = c.Next() {
		seq := binary.BigEndian.Uint64(k)
		d.hint = seq + 1
		if Kind(kindByte(v)) != KindUtilization {
			continue
		}
		victims = append(victims, append([]byte{}, k...))
		d.sizes = append(d.sizes, int64(len(v)))
		d.bytes += int64(len(v))
		if d.bytes >= excess {
			break
		}
	}
	for _, k := range victims {
		if err := b.Delete(k); err != nil {
			return drop{}, fmt.Errorf("dropping utilization record %d: %w", binary.BigEndian.Uint64(k), err)
		}
	}
	return d, nil
}

// checkCap keeps the over-cap gauge and its once-per-crossing warning in
// step with the stored bytes. Callers hold wmu (or own s exclusively).
func (s *Spool) checkCap() {
	s.smu.RLock()
	held := s.st.totalBytes()
	s.smu.RUnlock()
	over := held > s.maxBytes
	switch {
	case over && !s.overCap:
		s.log.Warn("spool is over its size cap and holds only records that must not be dropped; keeping them",
			"bytes", held, "cap", s.maxBytes)
		s.m.overCap.Set(1)
	case !over && s.overCap:
		s.log.Info("spool is back under its size cap", "bytes", held, "cap", s.maxBytes)
		s.m.overCap.Set(0)
	}
	s.overCap = over
}

// publish copies the counters into the gauges.
func (s *Spool) publish() {
	s.smu.RLock()
	defer s.smu.RUnlock()
	for _, k := range kinds {
		s.m.records.WithLabelValues(k.String()).Set(float64(s.st.records[k]))
	}
	s.m.bytes.Set(float64(s.st.totalBytes()))
}

// Peek returns up to limit of the oldest unacknowledged records, oldest
// first. Records that no longer decode are quarantined on the way and do
// not count towards limit.
func (s *Spool) Peek(limit int) ([]Record, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("peeking spool: limit is %d, want a positive count", limit)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	for {
		var out []Record
		var bad []uint64
		err := s.db.View(func(tx *bolt.Tx) error {
			out = make([]Record, 0, min(limit, 64))
			bad = nil
			c := tx.Bucket(recordsBucket).Cursor()
			for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
				seq := binary.BigEndian.Uint64(k)
				r, err := DecodeRecord(v)
				if err != nil {
					bad = append(bad, seq)
					continue
				}
				r.Seq = seq
				out = append(out, r)
			}
			return nil
		})
		if err != nil {
			if s.closed.Load() {
				return nil, ErrClosed
			}
			return nil, fmt.Errorf("peeking spool: %w", err)
		}
		if len(bad) == 0 {
			return out, nil
		}
		if err := s.quarantineAll(bad); err != nil {
			return nil, fmt.Errorf("peeking spool: %w", err)
		}
	}
}

// quarantineAll moves records found corrupt after Open. Their kind byte
// may be what got corrupted, so the per-kind counters are recomputed from
// the file rather than adjusted; this path only runs on real corruption.
func (s *Spool) quarantineAll(seqs []uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	var st stats
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, seq := range seqs {
			if err := s.quarantine(tx, seq); err != nil {
				return err
			}
		}
		return tx.Bucket(recordsBucket).ForEach(func(_, v []byte) error {
			st.add(v)
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.smu.Lock()
	s.st = st
	s.smu.Unlock()
	s.publish()
	s.checkCap()
	return nil
}

// Ack removes acknowledged records durably. Unknown or already-acked
// sequences are ignored, so a retried Ack is harmless.
func (s *Spool) Ack(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	type gone struct {
		kind byte
		size int64
	}
	var removed []gone
	err := s.db.Update(func(tx *bolt.Tx) error {
		removed = removed[:0]
		b := tx.Bucket(recordsBucket)
		for _, seq := range seqs {
			k := key(seq)
			v := b.Get(k)
			if v == nil {
				continue
			}
			removed = append(removed, gone{kind: kindByte(v), size: int64(len(v))})
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("deleting record %d: %w", seq, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("acknowledging %d spool records: %w", len(seqs), err)
	}
	s.smu.Lock()
	for _, g := range removed {
		s.st.sub(g.kind, g.size)
	}
	s.smu.Unlock()
	for _, g := range removed {
		if Kind(g.kind).valid() {
			s.m.acked.WithLabelValues(Kind(g.kind).String()).Inc()
		}
	}
	s.publish()
	s.checkCap()
	return nil
}

// Len returns the number of records held.
func (s *Spool) Len() int {
	s.smu.RLock()
	defer s.smu.RUnlock()
	return s.st.totalRecords()
}

// Bytes returns the stored record bytes, the quantity MaxBytes caps: the
// encoded values, header included, without bbolt's own page overhead.
func (s *Spool) Bytes() int64 {
	s.smu.RLock()
	defer s.smu.RUnlock()
	return s.st.totalBytes()
}

// Wait returns a channel that delivers one value once something was
// appended since the last receive (Open primes it when records are already
// held), so a sender loop can block on it between drains. Close closes it.
func (s *Spool) Wait() <-chan struct{} {
	return s.notify
}

// Close releases the file and unregisters the metrics so a reopened spool
// can register them again. Calling it twice is harmless.
func (s *Spool) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	close(s.notify)
	s.m.unregister()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing spool %s: %w", s.path, err)
	}
	return nil
}
