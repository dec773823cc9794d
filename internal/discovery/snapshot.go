package discovery

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/atomicfile"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// Delta is what changed between two sweeps, in the shape of
// ReportInventoryRequest.
type Delta struct {
	// Upserts are new and changed resources, complete records.
	Upserts   []*sirsiv1.Resource
	Deletions []*sirsiv1.ResourceRef
	// Changes name the changed fields of resources present in both sweeps.
	Changes []*sirsiv1.ResourceChange
}

// Empty reports whether nothing changed.
func (d Delta) Empty() bool {
	return len(d.Upserts) == 0 && len(d.Deletions) == 0 && len(d.Changes) == 0
}

type resourceKey struct{ typ, region, id string }

func keyOf(r *sirsiv1.Resource) resourceKey { return resourceKey{r.Type, r.Region, r.ResourceId} }

func compareKeys(a, b *sirsiv1.Resource) int {
	return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Region, b.Region), strings.Compare(a.ResourceId, b.ResourceId))
}

type unitKey struct{ typ, region string }

// Len is the number of resources.
func (s *Snapshot) Len() int {
	if s.packed != nil {
		return s.packed.n
	}
	return len(s.Resources)
}

// Resource returns the i-th resource in (type, region, resource_id)
// order. Of a compacted snapshot it is a fresh copy the caller may keep
// and change; otherwise it is the Resources element itself. It is safe
// for concurrent use.
func (s *Snapshot) Resource(i int) *sirsiv1.Resource {
	if s.packed == nil {
		return s.Resources[i]
	}
	return s.packed.resource(i)
}

// Each yields the resources in (type, region, resource_id) order, as
// Resource returns them, until yield returns false; it fits range-over-func:
// for r := range snap.Each { ... }.
func (s *Snapshot) Each(yield func(*sirsiv1.Resource) bool) {
	for i := range s.Len() {
		if !yield(s.Resource(i)) {
			return
		}
	}
}

// blockRecords is how many resources one compressed block holds: enough
// for tag keys, ARN prefixes and attribute names to repeat within a block,
// few enough that reading one resource inflates some tens of KiB.
const blockRecords = 128

// packed is a compacted snapshot's resources: blocks of blockRecords
// protobuf records, each record preceded by its length as a uvarint, each
// block DEFLATE-compressed.
type packed struct {
	n      int
	blocks [][]byte

	// The last inflated block: Each and Diff read in order, and the
	// utilisation chunks stride through a block several times in a row.
	mu       sync.Mutex
	cached   int
	raw      bytes.Buffer
	recs     [][]byte
	inflater io.ReadCloser
}

// Compact re-encodes Resources as compressed blocks of protobuf records and
// drops the messages: a sweep's messages, with a map each for tags and
// attributes, take several times the bytes of their encoding, and a
// snapshot kept between sweeps is read only record by record (Diff, Each).
// Afterwards Resources is nil; Len, Resource and Each read the records.
func (s *Snapshot) Compact() error {
	if s.packed != nil {
		return nil
	}
	if !slices.IsSortedFunc(s.Resources, compareKeys) {
		slices.SortFunc(s.Resources, compareKeys)
	}
	p := &packed{n: len(s.Resources), cached: -1}
	opts := proto.MarshalOptions{Deterministic: true}
	var raw, rec []byte
	var out bytes.Buffer
	w, err := flate.NewWriter(&out, flate.BestSpeed)
	if err != nil {
		return fmt.Errorf("compacting snapshot: %w", err)
	}
	for lo := 0; lo < len(s.Resources); lo += blockRecords {
		raw = raw[:0]
		for _, r := range s.Resources[lo:min(lo+blockRecords, len(s.Resources))] {
			if rec, err = opts.MarshalAppend(rec[:0], r); err != nil {
				return fmt.Errorf("compacting snapshot resource %s %s: %w", r.Type, r.ResourceId, err)
			}
			raw = binary.AppendUvarint(raw, uint64(len(rec)))
			raw = append(raw, rec...)
		}
		out.Reset()
		w.Reset(&out)
		if _, err := w.Write(raw); err != nil {
			return fmt.Errorf("compacting snapshot: %w", err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("compacting snapshot: %w", err)
		}
		p.blocks = append(p.blocks, bytes.Clone(out.Bytes()))
	}
	s.packed, s.Resources = p, nil
	return nil
}

func (p *packed) resource(i int) *sirsiv1.Resource {
	if i < 0 || i >= p.n {
		panic(fmt.Sprintf("discovery: snapshot resource %d of %d", i, p.n))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Compact wrote these bytes: failing to read them back is memory
	// corruption, not input to handle.
	if b := i / blockRecords; b != p.cached {
		if err := p.inflate(b); err != nil {
			panic(fmt.Sprintf("discovery: compacted snapshot block %d does not decode: %v", b, err))
		}
	}
	r := &sirsiv1.Resource{}
	if err := proto.Unmarshal(p.recs[i%blockRecords], r); err != nil {
		panic(fmt.Sprintf("discovery: compacted snapshot record %d does not decode: %v", i, err))
	}
	return r
}

func (p *packed) inflate(b int) error {
	p.cached = -1
	src := bytes.NewReader(p.blocks[b])
	if p.inflater == nil {
		p.inflater = flate.NewReader(src)
	} else if err := p.inflater.(flate.Resetter).Reset(src, nil); err != nil {
		return err
	}
	p.raw.Reset()
	if _, err := p.raw.ReadFrom(p.inflater); err != nil {
		return err
	}
	p.recs = p.recs[:0]
	for rest := p.raw.Bytes(); len(rest) > 0; {
		size, n := binary.Uvarint(rest)
		if n <= 0 || size > uint64(len(rest)-n) {
			return errors.New("bad record length")
		}
		p.recs = append(p.recs, rest[n:n+int(size)])
		rest = rest[n+int(size):]
	}
	if want := min(blockRecords, p.n-b*blockRecords); len(p.recs) != want {
		return fmt.Errorf("%d records, want %d", len(p.recs), want)
	}
	p.cached = b
	return nil
}

// Diff compares two sweeps; prev may be nil (everything is new). Resources
// of units incomplete in either snapshot are never reported as deleted: a
// failed call is not a deleted fleet. Changed fields are proto field names
// ("size", "state", "tags", "name", "arn", "account_id") and
// "attributes.<key>" per changed attribute; launch, first-seen and
// last-seen times and monthly_cost are not compared (the first three are
// facts of a sighting, the last is priced elsewhere). Upserts are next's
// own messages (a compacted next yields copies).
func Diff(prev, next *Snapshot) Delta {
	var d Delta
	if next == nil {
		return d
	}
	if prev == nil {
		prev = &Snapshot{}
	}
	incomplete := map[unitKey]bool{}
	for _, u := range slices.Concat(prev.Incomplete, next.Incomplete) {
		incomplete[unitKey{u.Type, u.Region}] = true
	}
	deleted := func(r *sirsiv1.Resource) {
		if !incomplete[unitKey{r.Type, r.Region}] {
			d.Deletions = append(d.Deletions, &sirsiv1.ResourceRef{Type: r.Type, Region: r.Region, ResourceId: r.ResourceId})
		}
	}
	// Both sides are in key order, so one merge pass pairs them without an
	// index of either: prev may be a compacted snapshot of the whole fleet.
	olds, news := sorted(prev), sorted(next)
	i, j := 0, 0
	var p *sirsiv1.Resource
	for j < news.Len() {
		r := news.Resource(j)
		if p == nil && i < olds.Len() {
			p = olds.Resource(i)
		}
		c := 1
		if p != nil {
			c = compareKeys(p, r)
		}
		switch {
		case c < 0:
			deleted(p)
			p, i = nil, i+1
			continue
		case c > 0:
			d.Upserts = append(d.Upserts, r)
		default:
			if fields := changedFields(p, r); len(fields) > 0 {
				d.Upserts = append(d.Upserts, r)
				d.Changes = append(d.Changes, &sirsiv1.ResourceChange{ResourceId: r.ResourceId, Type: r.Type, Region: r.Region, ChangedFields: fields})
			} else if !proto.Equal(p.GetMonthlyCost(), r.GetMonthlyCost()) {
				// A new estimate is news for the inventory but not a change
				// someone made to the resource.
				d.Upserts = append(d.Upserts, r)
			}
			p, i = nil, i+1
		}
		j++
	}
	if p != nil {
		deleted(p)
		i++
	}
	for ; i < olds.Len(); i++ {
		deleted(olds.Resource(i))
	}
	slices.SortFunc(d.Deletions, func(a, b *sirsiv1.ResourceRef) int {
		return strings.Compare(a.Type+"\x00"+a.Region+"\x00"+a.ResourceId, b.Type+"\x00"+b.Region+"\x00"+b.ResourceId)
	})
	return d
}

// sorted returns s, or a view of s in key order when its Resources were
// put out of order after the sweep; compacted snapshots are always sorted.
func sorted(s *Snapshot) *Snapshot {
	if s.packed != nil || slices.IsSortedFunc(s.Resources, compareKeys) {
		return s
	}
	rs := slices.Clone(s.Resources)
	slices.SortFunc(rs, compareKeys)
	return &Snapshot{Resources: rs}
}

func changedFields(a, b *sirsiv1.Resource) []string {
	var f []string
	for _, c := range []struct {
		name   string
		before string
		after  string
	}{
		{"account_id", a.AccountId, b.AccountId},
		{"arn", a.Arn, b.Arn},
		{"name", a.Name, b.Name},
		{"size", a.Size, b.Size},
		{"state", a.State, b.State},
	} {
		if c.before != c.after {
			f = append(f, c.name)
		}
	}
	if !maps.Equal(a.Tags, b.Tags) {
		f = append(f, "tags")
	}
	for _, k := range slices.Sorted(maps.Keys(union(a.Attributes, b.Attributes))) {
		va, oka := a.Attributes[k]
		vb, okb := b.Attributes[k]
		if va != vb || oka != okb {
			f = append(f, "attributes."+k)
		}
	}
	return f
}

func union(a, b map[string]string) map[string]struct{} {
	u := make(map[string]struct{}, len(a)+len(b))
	for k := range a {
		u[k] = struct{}{}
	}
	for k := range b {
		u[k] = struct{}{}
	}
	return u
}

// snapshotVersion is the persisted format; UnmarshalSnapshot refuses any
// other, so an agent downgrade starts from a full report instead of
// misreading a newer file.
const snapshotVersion = 1

// persisted is the document Encode writes field by field.
type persisted struct {
	Version    int               `json:"version"`
	Taken      time.Time         `json:"taken"`
	Resources  []json.RawMessage `json:"resources"`
	Incomplete []persistedError  `json:"incomplete,omitempty"`
}

type persistedError struct {
	Type   string `json:"type"`
	Region string `json:"region"`
	Error  string `json:"error"`
}

// Marshal encodes the snapshot for UnmarshalSnapshot: versioned JSON with
// each resource in protobuf's JSON mapping.
func (s *Snapshot) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	if err := s.Encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Encode writes what Marshal returns, one resource at a time: a fleet's
// document is tens of megabytes, and building it whole would hold it (and
// its parts) in memory next to the snapshot.
func (s *Snapshot) Encode(w io.Writer) error {
	bw := bufio.NewWriter(w)
	head, err := json.Marshal(struct {
		Version int       `json:"version"`
		Taken   time.Time `json:"taken"`
	}{snapshotVersion, s.Taken})
	if err != nil {
		return fmt.Errorf("encoding snapshot: %w", err)
	}
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"resources":[`)
	var compact bytes.Buffer
	for i := range s.Len() {
		r := s.Resource(i)
		b, err := protojson.Marshal(r)
		if err != nil {
			return fmt.Errorf("encoding snapshot resource %s %s: %w", r.Type, r.ResourceId, err)
		}
		// protojson varies its whitespace from build to build; compact
		// records keep the document stable.
		compact.Reset()
		if err := json.Compact(&compact, b); err != nil {
			return fmt.Errorf("encoding snapshot resource %s %s: %w", r.Type, r.ResourceId, err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(compact.Bytes())
	}
	bw.WriteByte(']')
	if len(s.Incomplete) > 0 {
		inc := make([]persistedError, 0, len(s.Incomplete))
		for _, u := range s.Incomplete {
			inc = append(inc, persistedError{Type: u.Type, Region: u.Region, Error: u.Err.Error()})
		}
		b, err := json.Marshal(inc)
		if err != nil {
			return fmt.Errorf("encoding snapshot: %w", err)
		}
		bw.WriteString(`,"incomplete":`)
		bw.Write(b)
	}
	bw.WriteByte('}')
	// bufio.Writer keeps the first write error and returns it here.
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	return nil
}

// WriteFile encodes the snapshot into path atomically: a temporary file in
// the same directory, synced, then renamed over path.
func (s *Snapshot) WriteFile(path string, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), atomicfile.TempPattern(path))
	if err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	if err := s.Encode(tmp); err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving snapshot %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("saving snapshot %s: syncing the directory: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("saving snapshot %s: syncing the directory: %w", path, err)
	}
	return nil
}

// UnmarshalSnapshot decodes and validates what Marshal wrote.
func UnmarshalSnapshot(b []byte) (*Snapshot, error) {
	var p persisted
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decoding snapshot: not a discovery snapshot: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decoding snapshot: data after the snapshot document")
	}
	if p.Version != snapshotVersion {
		return nil, fmt.Errorf("decoding snapshot: version %d: this agent reads version %d", p.Version, snapshotVersion)
	}
	if p.Taken.IsZero() {
		return nil, errors.New("decoding snapshot: taken: is required")
	}
	s := &Snapshot{Taken: p.Taken, Resources: make([]*sirsiv1.Resource, len(p.Resources))}
	seen := make(map[resourceKey]bool, len(p.Resources))
	for i, raw := range p.Resources {
		r := &sirsiv1.Resource{}
		if err := protojson.Unmarshal(raw, r); err != nil {
			return nil, fmt.Errorf("decoding snapshot: resources[%d]: %w", i, err)
		}
		if err := checkRef(r.Type, r.Region, r.ResourceId); err != nil {
			return nil, fmt.Errorf("decoding snapshot: resources[%d].%w", i, err)
		}
		if seen[keyOf(r)] {
			return nil, fmt.Errorf("decoding snapshot: resources[%d]: %s %s in %s is listed twice", i, r.Type, r.ResourceId, r.Region)
		}
		seen[keyOf(r)] = true
		s.Resources[i] = r
	}
	sortResources(s.Resources)
	for i, u := range p.Incomplete {
		if err := checkRef(u.Type, u.Region, "-"); err != nil {
			return nil, fmt.Errorf("decoding snapshot: incomplete[%d].%w", i, err)
		}
		s.Incomplete = append(s.Incomplete, UnitError{Type: u.Type, Region: u.Region, Err: errors.New(u.Error)})
	}
	return s, nil
}

func checkRef(typ, region, id string) error {
	if err := validation.ResourceType(typ); err != nil {
		return fmt.Errorf("type: %w", err)
	}
	if err := validation.Region(region); err != nil {
		return fmt.Errorf("region: %w", err)
	}
	if err := validation.ID(id); err != nil {
		return fmt.Errorf("resource_id: %w", err)
	}
	return nil
}
