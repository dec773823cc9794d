package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

func testAudit(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newTenant(t, s, "acme")
	b := newTenant(t, s, "other")
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var appended []*sirsiv1.AuditEvent
	for i := range 12 {
		tenant := []string{a.TenantID(), b.TenantID(), ""}[i%3]
		e := must(s.AppendAudit(c, &sirsiv1.AuditEvent{
			TenantId: tenant, Actor: fmt.Sprintf("token:%d", i%2), Action: "/sirsi.v1.ManagementService/CreatePolicy",
			Target: fmt.Sprintf("policy/%d", i), Outcome: []string{"ok", "PermissionDenied"}[i%2], Detail: "d", RequestId: fmt.Sprint(i),
			SourceAddress: "127.0.0.1:1", Time: timestampAt(t0.Add(time.Duration(i) * time.Minute)),
		}))
		if e.Id == "" || e.Sequence == 0 {
			t.Fatalf("append did not assign id and sequence: %v", e)
		}
		if len(appended) > 0 && e.Sequence <= appended[len(appended)-1].Sequence {
			t.Fatalf("sequence %d after %d", e.Sequence, appended[len(appended)-1].Sequence)
		}
		appended = append(appended, e)
	}
	// An event appended again under its id (a report retried after a
	// crash) is the stored one, not a second entry.
	again := proto.Clone(appended[0]).(*sirsiv1.AuditEvent)
	again.Sequence, again.Detail = 0, "retried"
	if e := must(s.AppendAudit(c, again)); e.Sequence != appended[0].Sequence || e.Detail != "d" {
		t.Fatalf("appending id %s again gave %v, want the stored event %v", again.Id, e, appended[0])
	}
	if br := must(s.VerifyAudit(c)); br != nil {
		t.Fatalf("intact chain reported broken: %+v", br)
	}
	listAll := func(list func(store.Page) ([]*sirsiv1.AuditEvent, string, error)) []*sirsiv1.AuditEvent {
		var out []*sirsiv1.AuditEvent
		tok := ""
		for range 20 {
			l, next, err := list(store.Page{Size: 2, Token: tok})
			ok(t, err)
			out = append(out, l...)
			if tok = next; tok == "" {
				return out
			}
		}
		t.Fatal("pagination does not end")
		return nil
	}
	got := listAll(func(p store.Page) ([]*sirsiv1.AuditEvent, string, error) {
		return a.ListAuditEvents(c, store.AuditFilter{}, p)
	})
	if len(got) != 4 {
		t.Fatalf("tenant A sees %d events, want 4", len(got))
	}
	for _, e := range got {
		if e.TenantId != a.TenantID() {
			t.Fatalf("tenant A sees %v", e)
		}
	}
	op := listAll(func(p store.Page) ([]*sirsiv1.AuditEvent, string, error) {
		return s.ListOperatorAuditEvents(c, store.AuditFilter{}, p)
	})
	if len(op) != 4 {
		t.Fatalf("operator log has %d events, want 4", len(op))
	}
	for _, e := range op {
		if e.TenantId != "" {
			t.Fatalf("operator log shows %v", e)
		}
	}
	filtered, _, err := a.ListAuditEvents(c, store.AuditFilter{Outcome: "ok", Actor: "token:0", Start: t0.Add(time.Minute), End: t0.Add(7 * time.Minute)}, store.Page{})
	ok(t, err)
	// Tenant A has events 0, 3, 6, 9; ok/token:0 are the even ones; the
	// window [1m, 7m) leaves event 6.
	if len(filtered) != 1 || filtered[0].Target != "policy/6" {
		t.Fatalf("filtered = %v", filtered)
	}
	byTarget, _ := must2(a.ListAuditEvents(c, store.AuditFilter{Target: "policy/9"}, store.Page{}))
	if len(byTarget) != 1 || byTarget[0].Sequence != appended[9].Sequence {
		t.Fatalf("by target policy/9: %v", byTarget)
	}
	if other, _ := must2(a.ListAuditEvents(c, store.AuditFilter{Target: "policy/1"}, store.Page{})); len(other) != 0 {
		t.Fatalf("tenant A lists tenant B's event by its target: %v", other)
	}
	_, _, err = a.ListAuditEvents(c, store.AuditFilter{Outcome: "ok"}, store.Page{Token: "%%%"})
	wantErr(t, err, store.ErrInvalidPageToken, "garbage token")

	// Appends from many goroutines still make one chain.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				if _, err := s.AppendAudit(c, &sirsiv1.AuditEvent{Actor: fmt.Sprintf("g%d", g), Action: "x", Target: fmt.Sprint(i), Outcome: "ok"}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if br := must(s.VerifyAudit(c)); br != nil {
		t.Fatalf("chain broken after concurrent appends: %+v", br)
	}
	all := listAll(func(p store.Page) ([]*sirsiv1.AuditEvent, string, error) {
		return s.ListOperatorAuditEvents(c, store.AuditFilter{Action: "x"}, p)
	})
	if len(all) != 40 {
		t.Fatalf("concurrent appends stored %d events, want 40", len(all))
	}
}

func testSettings(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.GetSetting(c, "operator_token_hash")
	wantErr(t, err, store.ErrNotFound, "missing setting")
	var wg sync.WaitGroup
	results := make([][]byte, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.PutSettingIfAbsent(c, "operator_token_hash", []byte{byte(i), 0xff, 0})
		}()
	}
	wg.Wait()
	for i := range results {
		ok(t, errs[i])
		if !bytes.Equal(results[i], results[0]) {
			t.Fatalf("racing initialisers disagree: %x vs %x", results[i], results[0])
		}
	}
	if got := must(s.GetSetting(c, "operator_token_hash")); !bytes.Equal(got, results[0]) {
		t.Fatalf("stored %x, initialisers got %x", got, results[0])
	}
	ok(t, s.PutSetting(c, "operator_token_hash", []byte("new")))
	if got := must(s.GetSetting(c, "operator_token_hash")); string(got) != "new" {
		t.Fatalf("after put: %q", got)
	}
	if got := must(s.PutSettingIfAbsent(c, "operator_token_hash", []byte("ignored"))); string(got) != "new" {
		t.Fatalf("put-if-absent over a set key returned %q", got)
	}
}

func testTryLeader(t *testing.T, s store.Store) {
	c := ctx(t)
	var inner, other bool
	ran, err := s.TryLeader(c, "sweep", func(ctx context.Context) error {
		var err error
		inner, err = s.TryLeader(ctx, "sweep", func(context.Context) error {
			t.Error("second holder of the same lock ran")
			return nil
		})
		if err != nil {
			return err
		}
		other, err = s.TryLeader(ctx, "other-job", func(context.Context) error { return nil })
		return err
	})
	ok(t, err)
	if !ran || inner || !other {
		t.Fatalf("ran %v, nested same-name %v (want false), other name %v (want true)", ran, inner, other)
	}
	ran, err = s.TryLeader(c, "sweep", func(context.Context) error { return fmt.Errorf("job failed") })
	if !ran || err == nil {
		t.Fatalf("lock not free again after release, or fn's error lost: ran %v err %v", ran, err)
	}
	if ran, err = s.TryLeader(c, "sweep", func(context.Context) error { return nil }); !ran || err != nil {
		t.Fatalf("lock not released after a failed fn: ran %v err %v", ran, err)
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	a := newAccount(t, ts, "123456789012")
	const workers, perWorker = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*3)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				if _, err := ts.CreatePolicy(c, &sirsiv1.OptimizationPolicy{Name: fmt.Sprintf("p-%d-%d", w, i)}); err != nil {
					errs <- err
				}
				// Each batch has 20 resources of its own and 10 shared by
				// every worker, so writers collide on the same rows.
				var ups []*sirsiv1.Resource
				for r := range 20 {
					ups = append(ups, resource(1000+w*100+i*20+r, "aws_ec2_instance", "us-east-1", nil))
				}
				for r := range 10 {
					ups = append(ups, resource(r, "aws_ec2_instance", "us-east-1", map[string]string{"writer": fmt.Sprint(w)}))
				}
				if _, err := ts.ApplyInventory(c, a.Id, fmt.Sprintf("b-%d-%d", w, i), store.InventoryBatch{Upserts: ups, ObservedAt: time.Now()}); err != nil {
					errs <- err
				}
				// Everyone also sends one batch id that only one may apply.
				if _, err := ts.ApplyInventory(c, a.Id, "shared", store.InventoryBatch{Upserts: []*sirsiv1.Resource{resource(999999, "aws_ebs_volume", "us-east-1", nil)}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	tok := ""
	for {
		l, next, err := ts.ListPolicies(c, store.Page{Size: 7, Token: tok})
		ok(t, err)
		n += len(l)
		if tok = next; tok == "" {
			break
		}
	}
	if n != workers*perWorker {
		t.Fatalf("%d policies, want %d", n, workers*perWorker)
	}
	if got := len(listAllResources(t, ts, store.ResourceFilter{}, 1000)); got != workers*perWorker*20+10+1 {
		t.Fatalf("%d resources, want %d", got, workers*perWorker*20+10+1)
	}
}

func testForceDelete(t *testing.T, s store.Store) {
	c := ctx(t)
	ts := newTenant(t, s, "acme")
	keep := newTenant(t, s, "keep")
	fillTenant(t, s, ts, 10)
	fk := fillTenant(t, s, keep, 20)
	must(s.AppendAudit(c, &sirsiv1.AuditEvent{TenantId: ts.TenantID(), Actor: "operator", Action: "x", Outcome: "ok"}))
	ok(t, s.DeleteTenant(c, ts.TenantID(), 0, true))
	_, err := s.GetTenant(c, ts.TenantID())
	wantErr(t, err, store.ErrNotFound, "force-deleted tenant")
	_, err = s.LookupAPIToken(c, []byte(ts.TenantID()+"-api"))
	wantErr(t, err, store.ErrNotFound, "token of force-deleted tenant")
	if l, _, _ := ts.ListResources(c, store.ResourceFilter{}, store.Page{}); len(l) != 0 {
		t.Fatalf("resources survived: %d", len(l))
	}
	if ev, _, _ := ts.ListAuditEvents(c, store.AuditFilter{}, store.Page{}); len(ev) != 2 {
		t.Fatalf("audit events of the deleted tenant: %d, want both kept", len(ev))
	}
	if br := must(s.VerifyAudit(c)); br != nil {
		t.Fatalf("chain broken by tenant delete: %+v", br)
	}
	assertFilled(t, s, keep, fk)
	// The name is free again and the new tenant starts empty.
	again := newTenant(t, s, "acme")
	if l, _, _ := again.ListCloudAccounts(c, store.Page{}); len(l) != 0 {
		t.Fatalf("recreated tenant inherited %d accounts", len(l))
	}
}
