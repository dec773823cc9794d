package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlstore"
)

// Backend opens stores by location, so tests can close a store and open
// the same database again.
type Backend struct {
	// Fresh returns the location of a new, empty database.
	Fresh func(t *testing.T) string
	Open  func(ctx context.Context, location string) (store.Store, error)
	// Exec runs one statement on the database outside the store.
	Exec func(t *testing.T, location, stmt string)
	// UndoResourceRecord are the statements that take the resources table
	// back to its shape before migration 2 (no record column, and
	// whatever else the dialect's migration 2 changed), for the test that
	// the migration fills in the records of existing rows.
	UndoResourceRecord []string
	// UndoLedgerTotals drops what only the dialect's migration 19 made
	// (its triggers), before the migrations after 2 are undone.
	UndoLedgerTotals []string
}

// RunReopen runs the tests that need to reopen a database or touch it
// behind the store's back: restart with data intact, idempotent and
// concurrent migration, a tampered audit log detected, newer schema
// refused.
func RunReopen(t *testing.T, b Backend) {
	open := func(t *testing.T, loc string) store.Store {
		t.Helper()
		s, err := b.Open(ctx(t), loc)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("Restart", func(t *testing.T) {
		loc := b.Fresh(t)
		s := open(t, loc)
		f := Sample(t, s, "restart")
		ok(t, s.Close())
		s = open(t, loc)
		defer s.Close()
		CheckSample(t, s, f)
	})
	t.Run("MigrationsIdempotent", func(t *testing.T) {
		defer guard(t)
		loc := b.Fresh(t)
		for range 3 {
			s := open(t, loc)
			if v := must(s.SchemaVersion(ctx(t))); v != sqlstore.LatestSchemaVersion() {
				t.Fatalf("schema version %d, want %d", v, sqlstore.LatestSchemaVersion())
			}
			ok(t, s.Close())
		}
	})
	t.Run("ConcurrentOpen", func(t *testing.T) {
		loc := b.Fresh(t)
		var wg sync.WaitGroup
		stores := make([]store.Store, 4)
		errs := make([]error, 4)
		for i := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stores[i], errs[i] = b.Open(context.Background(), loc)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("opener %d: %v", i, err)
				continue
			}
			stores[i].Close()
		}
	})
	t.Run("APITokenCapAcrossReplicas", func(t *testing.T) {
		defer guard(t)
		loc := b.Fresh(t)
		stores := make([]store.Store, 3)
		for i := range stores {
			stores[i] = open(t, loc)
			defer stores[i].Close()
		}
		ts := newTenant(t, stores[0], "acme")
		raceTokenCap(t, stores, ts.TenantID())
	})
	t.Run("AuditTamperDetected", func(t *testing.T) {
		defer guard(t)
		loc := b.Fresh(t)
		s := open(t, loc)
		Sample(t, s, "tamper")
		ok(t, s.Close())
		b.Exec(t, loc, `UPDATE audit_events SET outcome = 'ok', detail = 'edited' WHERE sequence = 3`)
		s = open(t, loc)
		defer s.Close()
		br := must(s.VerifyAudit(ctx(t)))
		if br == nil || br.Sequence != 3 || br.ID == "" {
			t.Fatalf("edited event 3 not reported: %+v", br)
		}
	})
	t.Run("AuditPruneTampering", func(t *testing.T) { testAuditPruneTampering(t, b) })
	t.Run("ResourceRecordBackfill", func(t *testing.T) {
		defer guard(t)
		loc := b.Fresh(t)
		s := open(t, loc)
		ts := newTenant(t, s, "backfill")
		acct := must(ts.CreateCloudAccount(ctx(t), &sirsiv1.CloudAccount{Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "000000000042"}))
		ups := []*sirsiv1.Resource{
			resource(1, "aws_ec2_instance", "us-east-1", map[string]string{"env": "prod", "quote\"key": "new\nline"}),
			resource(2, "aws_ebs_volume", "eu-west-1", nil),
		}
		must(ts.ApplyInventory(ctx(t), acct.Id, "b1", store.InventoryBatch{Upserts: ups, ObservedAt: time.Unix(1700000000, 5)}))
		before := listAllResources(t, ts, store.ResourceFilter{}, 100)
		ok(t, s.Close())
		// Back to schema version 1: the migrations after 2 are undone as
		// well, since a database is at the highest version it recorded.
		for _, stmt := range append(b.UndoLedgerTotals, undoAfterResourceRecord...) {
			b.Exec(t, loc, stmt)
		}
		for _, stmt := range b.UndoResourceRecord {
			b.Exec(t, loc, stmt)
		}
		b.Exec(t, loc, `DELETE FROM schema_migrations WHERE version >= 2`)
		s = open(t, loc)
		defer s.Close()
		after := listAllResources(t, s.Tenant(ts.TenantID()), store.ResourceFilter{}, 100)
		if len(after) != len(before) {
			t.Fatalf("%d resources after the migration, want %d", len(after), len(before))
		}
		for i := range before {
			if !proto.Equal(after[i], before[i]) {
				t.Fatalf("resource %d after the migration:\n%v\nwant\n%v", i, after[i], before[i])
			}
		}
		// The tag filter works on the migrated rows too.
		if l := listAllResources(t, s.Tenant(ts.TenantID()), store.ResourceFilter{Tags: map[string]string{"env": "prod"}}, 100); len(l) != 1 || l[0].ResourceId != "i-00000001" {
			t.Fatalf("tag filter after the migration: %v", l)
		}
	})
	t.Run("LedgerTotalsBackfill", func(t *testing.T) {
		defer guard(t)
		loc := b.Fresh(t)
		s := open(t, loc)
		ts := newTenant(t, s, "ledger-totals")
		acct := newAccount(t, ts, "000000000042")
		// Entries closed, open, rolled back and unpriced, written before
		// the ledger had totals, are in them after the migration: the
		// summary is unchanged.
		t0 := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
		must(ts.ApplyActions(ctx(t), acct.Id, "l1", []*sirsiv1.Action{
			ledgerAction("l-1", "p", "i-1", "resize", "m5.large", succeeded, t0, t0, 192_000, 96_000),
			ledgerAction("l-2", "p", "i-1", "resize", "m5.medium", succeeded, t0.Add(5*time.Hour), t0.Add(5*time.Hour), 96_000, 48_000),
			ledgerAction("l-3", "q", "i-2", "stop", "", succeeded, t0, t0, 50_000, 0),
			ledgerAction("l-4", "q", "i-3", "stop", "", succeeded, t0, t0, -1, 0),
			ledgerAction("l-5", "q", "i-4", "stop", "", succeeded, t0, t0, -1, 0),
		}))
		must(ts.ApplyActions(ctx(t), acct.Id, "l2", []*sirsiv1.Action{
			ledgerAction("l-3", "q", "i-2", "stop", "", rolledBack, t0, t0.Add(time.Hour), 50_000, 0),
			ledgerAction("l-6", "q", "i-4", "start", "", succeeded, t0.Add(2*time.Hour), t0.Add(2*time.Hour), -1, 0),
		}))
		at := t0.Add(30 * time.Hour)
		want := must(ts.SavingsSummary(ctx(t), at))
		if want.ToDate.AccruedSavings.GetMicros() != 5*96_000+25*48_000 || want.UnknownEntries != 2 || want.OpenEntries != 1 {
			t.Fatalf("summary before the migration is undone: %v", want)
		}
		ok(t, s.Close())
		for _, stmt := range slices.Concat(undoAfterLedgerTotals, b.UndoLedgerTotals, undoLedgerTotals) {
			b.Exec(t, loc, stmt)
		}
		b.Exec(t, loc, fmt.Sprintf(`DELETE FROM schema_migrations WHERE version >= %d`, ledgerTotalsMigration))
		s = open(t, loc)
		defer s.Close()
		if got := must(s.Tenant(ts.TenantID()).SavingsSummary(ctx(t), at)); !proto.Equal(got, want) {
			t.Fatalf("savings summary after the migration:\n%v\nwant\n%v", got, want)
		}
	})
	t.Run("WebhookMigration", func(t *testing.T) {
		defer guard(t)
		loc := b.Fresh(t)
		s := open(t, loc)
		const url, secret = "https://hooks.example.com/sirsi", "0123456789abcdef-migrated"
		hooked := must(s.CreateTenant(ctx(t), &sirsiv1.Tenant{Name: "hooked", WebhookUrl: url, WebhookSecret: secret}))
		plain := newTenant(t, s, "plain")
		ts := s.Tenant(hooked.Id)
		acct := newAccount(t, ts, "000000000042")
		action := &sirsiv1.Action{Id: "act-1", ResourceId: "i-1", ResourceType: "ec2_instance", Action: "resize", Status: sirsiv1.ActionStatus_ACTION_STATUS_RUNNING}
		must(ts.ApplyActions(ctx(t), acct.Id, "a1", []*sirsiv1.Action{action}))
		ok(t, s.Close())
		// Back to the single tenant webhook: the URL and secret in the
		// tenant's row, the outbox without endpoints.
		for _, stmt := range slices.Concat(undoSkipReasons, undoTenantSettings, undoWebhooks) {
			b.Exec(t, loc, stmt)
		}
		b.Exec(t, loc, fmt.Sprintf(`DELETE FROM schema_migrations WHERE version >= %d`, webhooksMigration))
		s = open(t, loc)
		defer s.Close()
		ts = s.Tenant(hooked.Id)
		hooks, _, err := ts.ListWebhooks(ctx(t), store.Page{})
		ok(t, err)
		if len(hooks) != 1 || hooks[0].Id != hooked.Id || hooks[0].Url != url || hooks[0].Secret != secret || !hooks[0].GetEnabled() || len(hooks[0].EventTypes) != 0 {
			t.Fatalf("endpoints after the migration = %v, want the tenant's webhook as one endpoint for every event", hooks)
		}
		if got := must(s.GetTenant(ctx(t), hooked.Id)); got.WebhookUrl != url || got.WebhookSecret != secret {
			t.Fatalf("tenant after the migration = %v, want its webhook_url and secret unchanged", got)
		}
		if none, _, err := s.Tenant(plain.TenantID()).ListWebhooks(ctx(t), store.Page{}); err != nil || len(none) != 0 {
			t.Fatalf("tenant without a webhook has endpoints %v (%v)", none, err)
		}
		// The event queued before goes to the migrated endpoint, and the
		// same change reported again is not queued a second time.
		must(ts.ApplyActions(ctx(t), acct.Id, "a2", []*sirsiv1.Action{action}))
		events, _, err := ts.ListWebhookEvents(ctx(t), sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_UNSPECIFIED, store.Page{})
		ok(t, err)
		if len(events) != 1 || events[0].WebhookId != hooked.Id || events[0].Type != "action.started" {
			t.Fatalf("events after the migration = %v, want the one queued before, for the migrated endpoint", events)
		}
	})
	t.Run("SchemaTooNew", func(t *testing.T) {
		loc := b.Fresh(t)
		ok(t, open(t, loc).Close())
		b.Exec(t, loc, `INSERT INTO schema_migrations (version, name, apply_time) VALUES (9999, '9999_future.sql', 0)`)
		s, err := b.Open(ctx(t), loc)
		if err == nil {
			s.Close()
		}
		wantErr(t, err, store.ErrSchemaTooNew, "open a database from a newer binary")
	})
}

// Sample writes one of everything into a new tenant called name, plus an
// audit trail, and returns what it wrote.
func Sample(t *testing.T, s store.Store, name string) Fixture {
	t.Helper()
	defer guard(t)
	ts := newTenant(t, s, name)
	for range 5 {
		must(s.AppendAudit(ctx(t), &sirsiv1.AuditEvent{Actor: "operator", Action: "sample", Outcome: "ok"}))
	}
	return fillTenant(t, s, ts, 10)
}

// CheckSample asserts that what Sample wrote is intact and the audit chain
// verifies.
func CheckSample(t *testing.T, s store.Store, f Fixture) {
	t.Helper()
	defer guard(t)
	must(s.GetTenant(ctx(t), f.Tenant))
	assertFilled(t, s, s.Tenant(f.Tenant), f)
	if br := must(s.VerifyAudit(ctx(t))); br != nil {
		t.Fatalf("audit chain broken: %+v", br)
	}
	if ev, _, err := s.ListOperatorAuditEvents(ctx(t), store.AuditFilter{Action: "sample"}, store.Page{}); err != nil || len(ev) != 5 {
		t.Fatalf("operator audit events: %d, %v; want 5", len(ev), err)
	}
}

// undoTenantSettings takes back the tenant settings migration (the
// newest).
var undoTenantSettings = []string{
	`DROP INDEX cost_anomalies_detect`,
	`DROP INDEX actions_end`,
	`DROP INDEX utilization_window_end`,
	`DROP TABLE pruned_action_counts`,
	`ALTER TABLE tenants DROP COLUMN audit_retention_days`,
	`ALTER TABLE tenants DROP COLUMN anomaly_retention_days`,
	`ALTER TABLE tenants DROP COLUMN action_retention_days`,
	`ALTER TABLE tenants DROP COLUMN utilization_retention_days`,
	`ALTER TABLE tenants DROP COLUMN max_api_tokens`,
	`ALTER TABLE tenants DROP COLUMN tenant_rate_limit_per_minute`,
}

// undoAfterResourceRecord takes back the migrations after 2, newest first;
// the same statements work on both dialects. A new migration adds its undo
// here.
// undoSkipReasons takes back the skip reasons' migration, the newest.
var undoSkipReasons = []string{
	`ALTER TABLE recommendations DROP COLUMN skip_detail`,
	`ALTER TABLE recommendations DROP COLUMN skip_reason`,
}

// undoAfterLedgerTotals takes back the migrations after the ledger
// totals, newest first.
var undoAfterLedgerTotals = slices.Concat(undoSkipReasons, undoTenantSettings, undoWebhooks, []string{
	`DROP TABLE audit_pruned`,
	`DROP TABLE audit_checkpoints`,
	`DROP TABLE inventory_versions`,
	`ALTER TABLE actions DROP COLUMN error_code`,
})

// webhooksMigration is the migration that moved the tenant's webhook into
// the webhooks table; undoWebhooks takes it back, the tenant's endpoint
// returning to the tenant's columns.
const webhooksMigration = 23

var undoWebhooks = []string{
	`ALTER TABLE tenants ADD COLUMN webhook_url TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE tenants ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT ''`,
	`UPDATE tenants SET webhook_url = COALESCE((SELECT url FROM webhooks w WHERE w.tenant_id = tenants.id AND w.id = tenants.id), ''),
webhook_secret = COALESCE((SELECT secret FROM webhooks w WHERE w.tenant_id = tenants.id AND w.id = tenants.id), '')`,
	`DROP TABLE webhooks`,
	`UPDATE event_outbox SET dedup_key = SUBSTR(dedup_key, LENGTH(webhook_id) + 2)`,
	`ALTER TABLE event_outbox DROP COLUMN webhook_id`,
}

var undoAfterResourceRecord = slices.Concat(undoAfterLedgerTotals, undoLedgerTotals, []string{
	`DROP TABLE limit_windows`,
	`ALTER TABLE agents DROP COLUMN stale_marked`,
	`ALTER TABLE recommendations DROP COLUMN executed_by`,
	`ALTER TABLE cloud_accounts DROP COLUMN action_denials`,
	`DROP TABLE event_outbox`,
	`DROP INDEX savings_ledger_verification`,
	`ALTER TABLE savings_ledger DROP COLUMN verify_note`,
	`DROP TABLE resource_costs`,
	`DROP TABLE oidc_trusts`,
	`ALTER TABLE agents DROP COLUMN last_sweep_failures`,
	`DROP TABLE savings_ledger`,
	`ALTER TABLE resources ADD COLUMN monthly_cost DOUBLE PRECISION NOT NULL DEFAULT 0`,
	`UPDATE resources SET monthly_cost = COALESCE(monthly_cost_micros, 0) / 1000000.0`,
	`ALTER TABLE resources DROP COLUMN monthly_cost_micros`,
	`ALTER TABLE cost_records ADD COLUMN amount DOUBLE PRECISION NOT NULL DEFAULT 0`,
	`UPDATE cost_records SET amount = amount_micros / 1000000.0`,
	`ALTER TABLE cost_records DROP COLUMN amount_micros`,
	`ALTER TABLE cost_anomalies ADD COLUMN expected_amount DOUBLE PRECISION NOT NULL DEFAULT 0`,
	`ALTER TABLE cost_anomalies ADD COLUMN actual_amount DOUBLE PRECISION NOT NULL DEFAULT 0`,
	`UPDATE cost_anomalies SET expected_amount = expected_amount_micros / 1000000.0, actual_amount = actual_amount_micros / 1000000.0`,
	`ALTER TABLE cost_anomalies DROP COLUMN expected_amount_micros`,
	`ALTER TABLE cost_anomalies DROP COLUMN actual_amount_micros`,
	`ALTER TABLE cost_anomalies DROP COLUMN currency`,
	`ALTER TABLE recommendations ADD COLUMN current_monthly_cost DOUBLE PRECISION NOT NULL DEFAULT 0`,
	`ALTER TABLE recommendations ADD COLUMN proposed_monthly_cost DOUBLE PRECISION NOT NULL DEFAULT 0`,
	`ALTER TABLE recommendations ADD COLUMN estimated_monthly_savings DOUBLE PRECISION NOT NULL DEFAULT 0`,
	`ALTER TABLE recommendations DROP COLUMN current_monthly_cost_micros`,
	`ALTER TABLE recommendations DROP COLUMN proposed_monthly_cost_micros`,
	`ALTER TABLE recommendations DROP COLUMN estimated_monthly_savings_micros`,
	`ALTER TABLE actions ADD COLUMN realized_monthly_savings DOUBLE PRECISION NOT NULL DEFAULT 0`,
	`ALTER TABLE actions DROP COLUMN realized_monthly_savings_micros`,
	`ALTER TABLE cloud_accounts DROP COLUMN status_detail`,
	`ALTER TABLE agents DROP COLUMN status_detail`,
	`DROP TABLE inventory_units`,
	`ALTER TABLE resources DROP COLUMN stale`,
	`DROP TABLE action_reservations`,
	`DROP TABLE action_plans`,
	`DROP INDEX actions_plan`,
	`ALTER TABLE actions DROP COLUMN plan_id`,
	`ALTER TABLE recommendations DROP COLUMN approve_time`,
	`ALTER TABLE recommendations DROP COLUMN approved_by`,
	`ALTER TABLE tenants DROP COLUMN max_actions_per_hour`,
	`ALTER TABLE tenants DROP COLUMN rate_limit_per_minute`,
	`ALTER TABLE tenants DROP COLUMN webhook_secret`,
	`ALTER TABLE tenants DROP COLUMN webhook_url`,
	`ALTER TABLE agents DROP COLUMN prev_cert_expire_time`,
	`ALTER TABLE agents DROP COLUMN prev_cert_serial`,
})

// ledgerTotalsMigration is the version of the migration that keeps the
// ledger's totals; undoLedgerTotals takes back its part common to both
// dialects (Backend.UndoLedgerTotals, its triggers, goes first).
const ledgerTotalsMigration = 19

var undoLedgerTotals = []string{
	`DROP INDEX savings_ledger_open`,
	`CREATE INDEX savings_ledger_open ON savings_ledger (tenant_id, action, policy_id, cloud_account_id, verified_by,
  opened_at, rate_before_micros, rate_after_micros, reconciled_hourly_savings_micros) WHERE closed_at IS NULL`,
	`DROP INDEX savings_ledger_closed_opened`,
	`CREATE INDEX savings_ledger_verification ON savings_ledger (tenant_id, close_reason, verified_by, verify_note)`,
	`CREATE INDEX savings_ledger_closed ON savings_ledger (tenant_id, action, policy_id, cloud_account_id, verified_by, accrued_micros, opened_at) WHERE closed_at IS NOT NULL`,
	`DROP TABLE savings_ledger_totals`,
}
