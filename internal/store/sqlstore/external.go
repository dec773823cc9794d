package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/ledger"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/optimizer"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// rightsizingCandidate is a right-sizing recommendation whose resource
// stood, before an inventory batch, at the size it proposed to change.
type rightsizingCandidate struct {
	id, policy, action, proposed string
	curCost, propCost            sql.NullInt64
}

// externalCandidates reads, inside an inventory batch's transaction and
// before its upserts, the right-sizing recommendations (open, approved, or
// superseded: the optimizer may have reported the resource's new size
// before the sweep did) whose resource is still at the recommendation's
// current size, the newest first per resource.
func (t *tenantStore) externalCandidates(ctx context.Context, tx *sql.Tx, account string, ups []*sirsiv1.Resource) (map[ledgerKey][]rightsizingCandidate, error) {
	if len(ups) == 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, t.q(`SELECT c.id, c.policy_id, c.region, c.resource_type, c.resource_id, c.action, c.proposed_size,
c.current_monthly_cost_micros, c.proposed_monthly_cost_micros FROM recommendations c JOIN resources r ON r.tenant_id = c.tenant_id
AND r.cloud_account_id = c.cloud_account_id AND r.region = c.region AND r.type = c.resource_type AND r.resource_id = c.resource_id
WHERE c.tenant_id = ? AND c.cloud_account_id = ? AND c.status IN (?, ?, ?) AND c.action IN (?, ?) AND r.size = c.current_size AND c.proposed_size <> c.current_size
ORDER BY c.update_time DESC, c.id`),
		t.id, account, statusOpen, statusApproved, int64(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED), optimizer.ActionResize, optimizer.ActionSetMemory)
	if err != nil {
		return nil, fmt.Errorf("read right-sizing recommendations: %w", err)
	}
	out := map[ledgerKey][]rightsizingCandidate{}
	_, err = collect(rows, func(r interface{ Scan(...any) error }) (struct{}, error) {
		var k ledgerKey
		var c rightsizingCandidate
		if err := r.Scan(&c.id, &c.policy, &k.region, &k.typ, &k.id, &c.action, &c.proposed, &c.curCost, &c.propCost); err != nil {
			return struct{}{}, err
		}
		out[k] = append(out[k], c)
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read right-sizing recommendations: %w", err)
	}
	return out, nil
}

// closeExecutedExternally closes, inside an inventory batch's transaction,
// the newest candidate recommendation (externalCandidates) of each
// resource the batch shows moved to the proposed size: someone (a
// Terraform apply) carried it out. It is marked executed by "external"
// and credited in the savings ledger from the time the sweep saw the
// resource (see internal/ledger).
func (t *tenantStore) closeExecutedExternally(ctx context.Context, tx *sql.Tx, account string, cands map[ledgerKey][]rightsizingCandidate, ups []*sirsiv1.Resource, observed int64) error {
	if len(cands) == 0 {
		return nil
	}
	if observed == 0 {
		observed = time.Now().UnixNano()
	}
	for _, r := range ups {
		for _, l := range cands[ledgerKey{r.Region, r.Type, r.ResourceId}] {
			if r.Size != l.proposed {
				continue
			}
			seen := tsNanos(r.LastSeenTime)
			if seen == 0 {
				seen = observed
			}
			res, err := tx.ExecContext(ctx, t.q(`UPDATE recommendations SET status = ?, executed_by = ?, update_time = ?
WHERE tenant_id = ? AND id = ? AND status IN (?, ?, ?)`),
				int64(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_EXECUTED), ledger.ExecutedByExternal, seen, t.id, l.id,
				statusOpen, statusApproved, int64(sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_SUPERSEDED))
			if err != nil {
				return fmt.Errorf("close recommendation %q executed externally: %w", l.id, err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue
			}
			closed, err := t.recEvents(ctx, tx, validation.EventRecommendationClosed, []string{l.id})
			if err != nil {
				return err
			}
			if err := t.enqueueEvents(ctx, tx, closed); err != nil {
				return err
			}
			var before, after any
			source := ledger.RateUnknown
			if l.curCost.Valid && l.propCost.Valid {
				before, after, source = ledger.HourlyFromMonthly(l.curCost.Int64), ledger.HourlyFromMonthly(l.propCost.Int64), ledger.RateFromRecommendation
			}
			if err := t.openLedgerEntry(ctx, tx, ledger.ExternalEntryID(l.id), account, l.policy, r.Region, r.Type, r.ResourceId, l.action, l.proposed,
				before, after, source, seen); err != nil {
				return fmt.Errorf("open the ledger entry of recommendation %q executed externally: %w", l.id, err)
			}
			// One change carries out one recommendation: the newest.
			break
		}
	}
	return nil
}
