package sqlstore

import (
	"context"
	"fmt"
	"slices"
)

// tenantTable is a table whose rows belong to one tenant (its tenant_id
// column). Every such table is listed here: a forced tenant delete and a
// tenant export both walk this list, and a test compares it with the
// schema, so a new table is either listed or the test fails.
type tenantTable struct {
	name string
	// secret columns are never exported: token hashes (a stolen hash
	// lets nobody in, but it confirms a guessed token), sealed envelopes
	// of webhook secrets and external ids.
	secret []string
	// keptOnDelete rows outlive the tenant: the audit log is one hash
	// chain across tenants and is pruned only by retention.
	keptOnDelete bool
}

// tenantTables lists every tenant-owned table, children before parents,
// which is the order a forced delete needs.
var tenantTables = []tenantTable{
	{name: "event_outbox"},
	{name: "webhooks", secret: []string{"secret"}},
	{name: "applied_batches"},
	{name: "action_reservations"},
	{name: "action_plans"},
	{name: "savings_ledger"},
	// Kept up to date by triggers on savings_ledger: deleting the
	// ledger's rows first empties it already.
	{name: "savings_ledger_totals"},
	{name: "resource_costs"},
	{name: "actions"},
	{name: "pruned_action_counts"},
	{name: "recommendations"},
	{name: "cost_anomalies"},
	{name: "cost_records"},
	{name: "utilization"},
	{name: "inventory_units"},
	{name: "resources"},
	{name: "inventory_versions"},
	{name: "agents"},
	{name: "oidc_trusts"},
	{name: "api_tokens", secret: []string{"secret_hash"}},
	{name: "enrollment_tokens", secret: []string{"secret_hash"}},
	{name: "policies"},
	{name: "cloud_accounts", secret: []string{"external_id"}},
	{name: "audit_events", keptOnDelete: true},
}

// checkTenantTables refuses a schema with a tenant_id table missing from
// tenantTables: such a table would survive a forced delete and be left out
// of exports without anyone deciding so. Every test opening a store
// fails until the table is listed (with its secret columns).
func (s *Store) checkTenantTables(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, s.d.TenantTablesQuery)
	if err != nil {
		return fmt.Errorf("list the tables with a tenant_id column: %w", err)
	}
	names, err := collect(rows, func(r interface{ Scan(...any) error }) (string, error) {
		var n string
		return n, r.Scan(&n)
	})
	if err != nil {
		return fmt.Errorf("list the tables with a tenant_id column: %w", err)
	}
	var unlisted []string
	for _, n := range names {
		if !slices.ContainsFunc(tenantTables, func(t tenantTable) bool { return t.name == n }) {
			unlisted = append(unlisted, n)
		}
	}
	if len(unlisted) > 0 {
		return fmt.Errorf("tables %v have a tenant_id column but are not in sqlstore's tenantTables (tenant_tables.go): list each, with its secret columns", unlisted)
	}
	return nil
}
