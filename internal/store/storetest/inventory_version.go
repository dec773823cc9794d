package storetest

import (
	"testing"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// testInventoryVersion: the version ListResources pages are cached under
// changes with every committed change to the tenant's resources and with
// nothing else: not a duplicate or refused batch, not another tenant's
// ingest, not a refused account deletion.
func testInventoryVersion(t *testing.T, s store.Store) {
	a, b := newTenant(t, s, "a"), newTenant(t, s, "b")
	acctA, acctB := newAccount(t, a, "111111111111"), newAccount(t, b, "222222222222")
	version := func(ts store.TenantStore) int64 { t.Helper(); return must(ts.InventoryVersion(ctx(t))) }
	if v := version(a); v != 0 {
		t.Fatalf("version before any change = %d, want 0", v)
	}
	seen := map[int64]bool{0: true}
	// changed asserts that the tenant's version is one it never had.
	changed := func(ts store.TenantStore, what string) int64 {
		t.Helper()
		v := version(ts)
		if seen[v] {
			t.Fatalf("%s: version %d was seen before", what, v)
		}
		seen[v] = true
		return v
	}
	unchanged := func(ts store.TenantStore, want int64, what string) {
		t.Helper()
		if v := version(ts); v != want {
			t.Fatalf("%s: version %d, want it unchanged at %d", what, v, want)
		}
	}
	now := time.Now()
	batch := store.InventoryBatch{Upserts: []*sirsiv1.Resource{resource(1, "aws_ec2_instance", "us-east-1", nil)}, ObservedAt: now}
	must(a.ApplyInventory(ctx(t), acctA.Id, "b1", batch))
	va := changed(a, "upsert")
	unchanged(b, 0, "other tenant after tenant a's upsert")

	must(a.ApplyInventory(ctx(t), acctA.Id, "b1", batch))
	unchanged(a, va, "duplicate batch")
	bad := store.InventoryBatch{Upserts: []*sirsiv1.Resource{resource(2, "aws_ec2_instance", "us-east-1", nil), {ResourceId: "no-type"}}}
	if _, err := a.ApplyInventory(ctx(t), acctA.Id, "b2", bad); err == nil {
		t.Fatal("a batch with a resource without type was accepted")
	}
	unchanged(a, va, "refused batch")

	must(b.ApplyInventory(ctx(t), acctB.Id, "b1", batch))
	vb := changed(b, "other tenant's upsert")
	unchanged(a, va, "tenant a after tenant b's upsert")

	// A failed unit only marks resources stale: still a change.
	must(a.ApplyInventory(ctx(t), acctA.Id, "b3", store.InventoryBatch{ObservedAt: now.Add(time.Minute),
		Units: []*sirsiv1.InventoryUnit{{Region: "us-east-1", Type: "aws_ec2_instance", Error: "AccessDenied"}}}))
	changed(a, "unit failure")
	must(a.ApplyInventory(ctx(t), acctA.Id, "b4", store.InventoryBatch{
		Deletions: []*sirsiv1.ResourceRef{{ResourceId: "i-00000001", Type: "aws_ec2_instance", Region: "us-east-1"}}}))
	va = changed(a, "deletion")

	acct := must(a.GetCloudAccount(ctx(t), acctA.Id))
	wantErr(t, a.DeleteCloudAccount(ctx(t), acct.Id, acct.Version+1), store.ErrVersionMismatch, "delete with a stale version")
	unchanged(a, va, "refused account deletion")
	ok(t, a.DeleteCloudAccount(ctx(t), acct.Id, acct.Version))
	changed(a, "account deletion")
	unchanged(b, vb, "tenant b after tenant a's account deletion")
}
