package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
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

type unitKey struct{ typ, region string }

// Diff compares two sweeps; prev may be nil (everything is new). Resources
// of units incomplete in either snapshot are never reported as deleted: a
// failed call is not a deleted fleet. Changed fields are proto field names
// ("size", "state", "tags", "name", "arn", "account_id") and
// "attributes.<key>" per changed attribute; launch, first-seen and
// last-seen times and monthly_cost are not compared (the first three are
// facts of a sighting, the last is priced elsewhere).
func Diff(prev, next *Snapshot) Delta {
	var d Delta
	if next == nil {
		return d
	}
	old := map[resourceKey]*sirsiv1.Resource{}
	incomplete := map[unitKey]bool{}
	if prev != nil {
		for _, r := range prev.Resources {
			old[keyOf(r)] = r
		}
		for _, u := range prev.Incomplete {
			incomplete[unitKey{u.Type, u.Region}] = true
		}
	}
	for _, u := range next.Incomplete {
		incomplete[unitKey{u.Type, u.Region}] = true
	}
	for _, r := range next.Resources {
		k := keyOf(r)
		p, ok := old[k]
		delete(old, k)
		if !ok {
			d.Upserts = append(d.Upserts, r)
			continue
		}
		if fields := changedFields(p, r); len(fields) > 0 {
			d.Upserts = append(d.Upserts, r)
			d.Changes = append(d.Changes, &sirsiv1.ResourceChange{ResourceId: r.ResourceId, Type: r.Type, Region: r.Region, ChangedFields: fields})
		}
	}
	for k := range old {
		if !incomplete[unitKey{k.typ, k.region}] {
			d.Deletions = append(d.Deletions, &sirsiv1.ResourceRef{Type: k.typ, Region: k.region, ResourceId: k.id})
		}
	}
	slices.SortFunc(d.Deletions, func(a, b *sirsiv1.ResourceRef) int {
		return strings.Compare(a.Type+"\x00"+a.Region+"\x00"+a.ResourceId, b.Type+"\x00"+b.Region+"\x00"+b.ResourceId)
	})
	return d
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
	p := persisted{Version: snapshotVersion, Taken: s.Taken, Resources: make([]json.RawMessage, len(s.Resources))}
	for i, r := range s.Resources {
		b, err := protojson.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encoding snapshot resource %s %s: %w", r.Type, r.ResourceId, err)
		}
		p.Resources[i] = b
	}
	for _, u := range s.Incomplete {
		p.Incomplete = append(p.Incomplete, persistedError{Type: u.Type, Region: u.Region, Error: u.Err.Error()})
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding snapshot: %w", err)
	}
	return b, nil
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
