package storetest

import (
	"slices"
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// testInventoryMembership checks anti-entropy: a unit's membership deletes
// what it no longer names whatever deltas were lost, spans several
// batches, ignores parts of an older sweep, reports ids it lacks, and a
// failed unit keeps its resources flagged stale with their last sighting.
func testInventoryMembership(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	const ec2, ebs = "aws_ec2_instance", "aws_ebs_volume"
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t1, t2, t3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	// Sweep t0 stored five instances and a volume; the deltas of sweep
	// t1, which deleted instances 1 and 2, were lost.
	var ups []*sirsiv1.Resource
	for i := 1; i <= 5; i++ {
		ups = append(ups, resource(i, ec2, "us-east-1", nil))
	}
	ups = append(ups, resource(9, ebs, "us-east-1", nil))
	must(ts.ApplyInventory(c, a.Id, "t0", store.InventoryBatch{Upserts: ups, ObservedAt: t0}))
	ids := func(typ string) []string {
		var out []string
		for _, r := range listAllResources(t, ts, store.ResourceFilter{Type: typ}, 100) {
			out = append(out, r.ResourceId)
		}
		return out
	}
	unit := func(typ string, last bool, total int64, ids ...string) *sirsiv1.InventoryUnit {
		return &sirsiv1.InventoryUnit{Type: typ, Region: "us-east-1", ResourceIds: ids, Last: last, Total: total}
	}

	// Sweep t1's membership comes in two parts; the first alone deletes
	// nothing.
	res := must(ts.ApplyInventory(c, a.Id, "t1-a", store.InventoryBatch{ObservedAt: t1, Units: []*sirsiv1.InventoryUnit{unit(ec2, false, 0, "i-00000003", "i-00000004")}}))
	if len(res.Missing) != 0 {
		t.Fatalf("missing %v, want none", res.Missing)
	}
	if got := ids(ec2); len(got) != 5 {
		t.Fatalf("after the first part %v, want all five still", got)
	}
	// A part of an older sweep, arriving late, changes nothing.
	must(ts.ApplyInventory(c, a.Id, "t0-late", store.InventoryBatch{ObservedAt: t0, Units: []*sirsiv1.InventoryUnit{unit(ec2, true, 1, "i-00000003")}}))
	if got := ids(ec2); len(got) != 5 {
		t.Fatalf("an older sweep's membership changed the inventory: %v", got)
	}
	// The last part names instance 5 and instance 6, whose upsert was lost.
	res = must(ts.ApplyInventory(c, a.Id, "t1-b", store.InventoryBatch{ObservedAt: t1, Units: []*sirsiv1.InventoryUnit{unit(ec2, true, 4, "i-00000005", "i-00000006")}}))
	if len(res.Missing) != 1 || res.Missing[0].ResourceId != "i-00000006" || res.Missing[0].Type != ec2 || res.Missing[0].Region != "us-east-1" {
		t.Fatalf("missing %v, want exactly i-00000006", res.Missing)
	}
	if got, want := ids(ec2), []string{"i-00000003", "i-00000004", "i-00000005"}; !slices.Equal(got, want) {
		t.Fatalf("after sweep t1 %v, want %v", got, want)
	}
	for _, r := range listAllResources(t, ts, store.ResourceFilter{Type: ec2}, 100) {
		if !r.LastSeenTime.AsTime().Equal(t1) || r.Stale {
			t.Fatalf("%s last seen %v stale %v, want seen at %v and current", r.ResourceId, r.LastSeenTime.AsTime(), r.Stale, t1)
		}
	}
	// The volume's unit was not part of sweep t1: untouched.
	if got := ids(ebs); !slices.Equal(got, []string{"i-00000009"}) {
		t.Fatalf("volumes %v, want the one untouched", got)
	}
	// A repeated batch is a duplicate and reports nothing again.
	if res := must(ts.ApplyInventory(c, a.Id, "t1-b", store.InventoryBatch{ObservedAt: t1, Units: []*sirsiv1.InventoryUnit{unit(ec2, true, 4, "i-00000005", "i-00000006")}})); !res.Duplicate || len(res.Missing) != 0 {
		t.Fatalf("repeated batch: %+v, want a duplicate with nothing missing", res)
	}

	// Sweep t2 cannot list volumes: the volume stays, flagged stale, last
	// seen at t0.
	must(ts.ApplyInventory(c, a.Id, "t2", store.InventoryBatch{ObservedAt: t2, Units: []*sirsiv1.InventoryUnit{{Type: ebs, Region: "us-east-1", Error: "AccessDenied", Last: true}}}))
	vols := listAllResources(t, ts, store.ResourceFilter{Type: ebs}, 100)
	if len(vols) != 1 || !vols[0].Stale || !vols[0].LastSeenTime.AsTime().Equal(t0) || vols[0].Size != ups[5].Size {
		t.Fatalf("volumes after a failed unit %v, want the one kept as it was, stale, last seen %v", vols, t0)
	}
	// Sweep t3 lists volumes again and the volume is gone: deleted at
	// once, though no deletion delta ever came.
	must(ts.ApplyInventory(c, a.Id, "t3", store.InventoryBatch{ObservedAt: t3, Units: []*sirsiv1.InventoryUnit{unit(ebs, true, 0)}}))
	if got := ids(ebs); len(got) != 0 {
		t.Fatalf("volumes after an empty complete unit %v, want none", got)
	}
	// An upsert re-sent from an older sweep does not overwrite a newer
	// record.
	old := resource(3, ec2, "us-east-1", nil)
	old.Size, old.LastSeenTime = "t2.nano", nil
	must(ts.ApplyInventory(c, a.Id, "t0-upsert", store.InventoryBatch{Upserts: []*sirsiv1.Resource{old}, ObservedAt: t0}))
	for _, r := range listAllResources(t, ts, store.ResourceFilter{Type: ec2}, 100) {
		if r.ResourceId == old.ResourceId && r.Size == "t2.nano" {
			t.Fatal("an upsert of an older sweep overwrote the newer record")
		}
	}
	// Deleting the account removes its units too.
	acct := must(ts.GetCloudAccount(c, a.Id))
	ok(t, ts.DeleteCloudAccount(c, a.Id, acct.Version))
}
