package agent

import (
	"fmt"
	"path/filepath"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/agent/spool"
	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/discovery"
)

// unitIDsPerBatch bounds the ids the membership parts of one inventory
// batch name, below the control plane's bound (MaxReportUnitIDs there)
// and well inside a gRPC message.
const unitIDsPerBatch = 20_000

// membershipBatches states every unit the sweep ran: a complete unit's ids
// in parts of at most unitIDsPerBatch per batch, the last part carrying
// the count; a failed unit its error. The control plane deletes what a
// complete unit no longer holds and flags what a failed one held as stale,
// whatever deltas before were lost or repeated.
func membershipBatches(snap *discovery.Snapshot) []*sirsiv1.ReportInventoryRequest {
	failed := map[discovery.Unit]string{}
	for _, u := range snap.Incomplete {
		failed[discovery.Unit{Type: u.Type, Region: u.Region}] = u.Err.Error()
	}
	ids := map[discovery.Unit][]string{}
	for r := range snap.Each {
		k := discovery.Unit{Type: r.GetType(), Region: r.GetRegion()}
		ids[k] = append(ids[k], r.GetResourceId())
	}
	observed := timestamppb.New(snap.Taken)
	var out []*sirsiv1.ReportInventoryRequest
	cur, room := (*sirsiv1.ReportInventoryRequest)(nil), 0
	add := func(u *sirsiv1.InventoryUnit) {
		if cur == nil || room < len(u.ResourceIds) || len(cur.Units) == maxUnitsPerBatch {
			cur, room = &sirsiv1.ReportInventoryRequest{ObserveTime: observed}, unitIDsPerBatch
			out = append(out, cur)
		}
		cur.Units = append(cur.Units, u)
		room -= len(u.ResourceIds)
	}
	for _, u := range snap.Units {
		if msg, ok := failed[u]; ok {
			add(&sirsiv1.InventoryUnit{Type: u.Type, Region: u.Region, Error: msg, Last: true})
			continue
		}
		all := ids[u]
		for lo := 0; ; lo += unitIDsPerBatch {
			part := &sirsiv1.InventoryUnit{Type: u.Type, Region: u.Region, ResourceIds: all[lo:min(lo+unitIDsPerBatch, len(all))]}
			if lo+unitIDsPerBatch >= len(all) {
				part.Last, part.Total = true, int64(len(all))
				add(part)
				break
			}
			add(part)
		}
	}
	return out
}

// maxUnitsPerBatch stays below the control plane's MaxReportUnits.
const maxUnitsPerBatch = 500

// pendingSweep is a discovery sweep whose batches are spooled but not all
// acknowledged: its snapshot becomes the delta baseline only when the
// control plane acknowledged lastBatch, so a delta lost to a crash, an
// outage or a refused batch is derived again from the older baseline.
type pendingSweep struct {
	snap      *discovery.Snapshot
	lastBatch string
	// missing are resources the control plane said it lacks; their records
	// are sent again before the sweep becomes the baseline.
	missing map[discovery.Unit]map[string]bool
}

// inventoryAccepted is called once the control plane applied (or had
// applied) an inventory batch, with the ids its units named that the
// control plane holds no record of.
func (s *sweeps) inventoryAccepted(batchID string, missing []*sirsiv1.ResourceRef) error {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	p := s.pending
	if p == nil {
		// A batch of a sweep already superseded: the next sweep's diff
		// sends these again.
		for _, m := range missing {
			s.resend[refKey(m)] = true
		}
		return nil
	}
	for _, m := range missing {
		u := discovery.Unit{Type: m.GetType(), Region: m.GetRegion()}
		if p.missing[u] == nil {
			p.missing[u] = map[string]bool{}
		}
		p.missing[u][m.GetResourceId()] = true
	}
	if batchID != p.lastBatch {
		return nil
	}
	if len(p.missing) > 0 {
		var ups []*sirsiv1.Resource
		for r := range p.snap.Each {
			// The sweep's records carry their estimates (estimate).
			if p.missing[discovery.Unit{Type: r.GetType(), Region: r.GetRegion()}][r.GetResourceId()] {
				ups = append(ups, r)
			}
		}
		p.missing = map[discovery.Unit]map[string]bool{}
		if len(ups) > 0 {
			s.a.log.Warn("the control plane lacked resources a sweep found; sending their records again", "resources", len(ups))
			last, err := s.enqueueUpserts(ups, nil, p.snap)
			if err != nil {
				return err
			}
			p.lastBatch = last
			return nil
		}
	}
	if err := p.snap.WriteFile(filepath.Join(s.a.cfg.DataDir, snapshotFile), 0o600); err != nil {
		return fmt.Errorf("saving the inventory snapshot: %w", err)
	}
	crashpoint.Hit(crashpoint.AgentAfterSnapshotSave)
	s.baseline, s.pending = p.snap, nil
	return nil
}

// enqueueUpserts spools the upserts in batches, the first carrying the
// delta's deletions and changes, and returns the last batch's id.
func (s *sweeps) enqueueUpserts(ups []*sirsiv1.Resource, delta *discovery.Delta, snap *discovery.Snapshot) (string, error) {
	observed := timestamppb.New(snap.Taken)
	n := s.a.cfg.ReportBatchSize
	var last string
	for i := 0; i == 0 || i < len(ups); i += n {
		req := &sirsiv1.ReportInventoryRequest{Upserts: ups[i:min(i+n, len(ups))], ObserveTime: observed}
		if i == 0 && delta != nil {
			req.Deletions, req.Changes = delta.Deletions, delta.Changes
		}
		last = uuid.NewString()
		if err := s.a.enqueueBatch(spool.KindInventory, last, req); err != nil {
			return "", err
		}
	}
	return last, nil
}

type resourceKey struct{ typ, region, id string }

func refKey(r interface {
	GetType() string
	GetRegion() string
	GetResourceId() string
}) resourceKey {
	return resourceKey{r.GetType(), r.GetRegion(), r.GetResourceId()}
}
