package storetest

import (
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// testRecommendationSkipReasons: a recommendation's skip reason and detail
// are stored as reported, read back by Get and List field by field, and
// replaced by each later report of the same recommendation (kept id): a
// reason that no longer applies is cleared, a new one set, an approved
// recommendation's too.
func testRecommendationSkipReasons(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	p := newPolicy(t, ts, "rightsize")
	const (
		asgDetail  = "never stopped or resized by the agent: a member of Auto Scaling group web"
		exclDetail = "excluded: carries the policy's exclude tag team=payments: a person excluded it"
		refused    = "the attempt at 2026-12-06T05:00:00Z was refused by its live check (tried again at the next run): i-3 is m5.2xlarge, not from_size m5.xlarge"
	)
	rec := func(res string, why sirsiv1.SkipReason, detail string) *sirsiv1.Recommendation {
		return &sirsiv1.Recommendation{ResourceId: res, ResourceType: "aws_ec2_instance", Region: "us-east-1", Action: "resize",
			CurrentSize: "m5.xlarge", ProposedSize: "m5.large", Reason: "low cpu", SkipReason: why, SkipDetail: detail}
	}
	type skip struct {
		reason sirsiv1.SkipReason
		detail string
	}
	check := func(when string, ids []string, want []skip) {
		t.Helper()
		for i, id := range ids {
			r := must(ts.GetRecommendation(c, id))
			if r.SkipReason != want[i].reason || r.SkipDetail != want[i].detail {
				t.Fatalf("%s: GetRecommendation %s: skip %v %q, want %v %q", when, r.ResourceId, r.SkipReason, r.SkipDetail, want[i].reason, want[i].detail)
			}
		}
		byID := map[string]*sirsiv1.Recommendation{}
		for _, st := range []sirsiv1.RecommendationStatus{sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_OPEN, sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED} {
			list, _, _, err := ts.ListRecommendations(c, store.RecommendationFilter{PolicyID: p.Id, Status: st}, store.Page{})
			ok(t, err)
			for _, r := range list {
				byID[r.Id] = r
			}
		}
		if len(byID) != len(ids) {
			t.Fatalf("%s: listed %d recommendations, want %d", when, len(byID), len(ids))
		}
		for i, id := range ids {
			if r := byID[id]; r == nil || r.SkipReason != want[i].reason || r.SkipDetail != want[i].detail {
				t.Fatalf("%s: ListRecommendations %s: %v, want skip %v %q", when, id, r, want[i].reason, want[i].detail)
			}
		}
	}
	ids := newBatch(ts.ApplyRecommendations(c, a.Id, "s1", p.Id, nil, []*sirsiv1.Recommendation{
		rec("i-1", sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP, asgDetail),
		rec("i-2", sirsiv1.SkipReason_SKIP_REASON_EXCLUDED, exclDetail),
		rec("i-3", 0, ""),
	}))
	check("first report", ids, []skip{{sirsiv1.SkipReason_SKIP_REASON_AUTO_SCALING_GROUP, asgDetail}, {sirsiv1.SkipReason_SKIP_REASON_EXCLUDED, exclDetail}, {}})

	// i-2 is approved; then i-1 leaves its group, i-2 loses the tag and
	// i-3's attempt is refused.
	must(ts.ApproveRecommendation(c, ids[1], "token:t1", must(ts.GetRecommendation(c, ids[1])).CreateTime.AsTime()))
	ids2 := newBatch(ts.ApplyRecommendations(c, a.Id, "s2", p.Id, nil, []*sirsiv1.Recommendation{
		rec("i-1", 0, ""),
		rec("i-2", 0, ""),
		rec("i-3", sirsiv1.SkipReason_SKIP_REASON_CHECK_REFUSED, refused),
	}))
	for i := range ids {
		if ids2[i] != ids[i] {
			t.Fatalf("second report ids %v, first %v: the same recommendations must keep their ids", ids2, ids)
		}
	}
	check("second report", ids, []skip{{}, {}, {sirsiv1.SkipReason_SKIP_REASON_CHECK_REFUSED, refused}})
	if r := must(ts.GetRecommendation(c, ids[1])); r.Status != sirsiv1.RecommendationStatus_RECOMMENDATION_STATUS_APPROVED {
		t.Fatalf("approved recommendation after the second report: %v", r.Status)
	}
}

// newBatch is must for the (ids, duplicate, error) of
// ApplyRecommendations, refusing a duplicate: each call here is a new
// batch.
func newBatch(ids []string, dup bool, err error) []string {
	ids = must(ids, err)
	if dup {
		panic(failure{"a new batch was taken for a duplicate"})
	}
	return ids
}
