package storetest

import (
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/money"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
)

// exported is one tenant export: the records of each table, in order.
type exported map[string][]map[string]any

func exportOf(t *testing.T, s store.Store, tenantID string, during func(table string)) (exported, string, error) {
	t.Helper()
	out := exported{}
	var raw strings.Builder
	err := s.ExportTenant(ctx(t), tenantID, func(table string, record []byte) error {
		var m map[string]any
		if err := json.Unmarshal(record, &m); err != nil {
			t.Fatalf("a record of %s is not a JSON object: %v: %s", table, err, record)
		}
		out[table] = append(out[table], m)
		raw.Write(record)
		raw.WriteByte('\n')
		if during != nil {
			during(table)
		}
		return nil
	})
	return out, raw.String(), err
}

// testExport: an export holds the tenant's row and every row it owns, in
// every table fillTenant and the webhook, trust and ledger writes reach,
// nothing of another tenant and no secret; a forced delete committed while
// an export runs does not change what it returns (one snapshot), and an
// export after it is ErrNotFound.
func testExport(t *testing.T, s store.Store) {
	c := ctx(t)
	const secret = "0123456789abcdef-export-secret"
	tn := must(s.CreateTenant(c, &sirsiv1.Tenant{Name: "exported", WebhookUrl: "https://hooks.example.com/x", WebhookSecret: secret}))
	ts := s.Tenant(tn.Id)
	other := newTenant(t, s, "other")
	f := fillTenant(t, s, ts, 10)
	fillTenant(t, s, other, 20)
	must(ts.CreateOIDCTrust(c, oidcTrust("hcp", "https://app.terraform.io")))
	// An anomaly report on a tenant with a webhook writes an outbox event.
	must(ts.ApplyCosts(c, f.Account, "cost-2", nil, []*sirsiv1.CostAnomaly{{Day: "2026-11-02", Service: "RDS", ExpectedAmount: money.USDFromFloat(1), ActualAmount: money.USDFromFloat(9)}}))

	got, raw, err := exportOf(t, s, tn.Id, nil)
	ok(t, err)
	want := []string{"tenants", "cloud_accounts", "policies", "enrollment_tokens", "api_tokens", "agents", "resources", "utilization",
		"cost_records", "cost_anomalies", "recommendations", "actions", "action_plans", "action_reservations", "applied_batches",
		"audit_events", "oidc_trusts", "event_outbox"}
	for _, table := range want {
		if len(got[table]) == 0 {
			t.Errorf("the export has no %s records; tables exported: %v", table, slices.Sorted(maps.Keys(got)))
		}
	}
	if len(got["tenants"]) != 1 || got["tenants"][0]["id"] != tn.Id || got["tenants"][0]["name"] != "exported" {
		t.Fatalf("tenant records %v", got["tenants"])
	}
	for table, recs := range got {
		for _, r := range recs {
			if table != "tenants" && r["tenant_id"] != tn.Id {
				t.Fatalf("a %s record of another tenant: %v", table, r)
			}
		}
	}
	if n := len(got["cost_anomalies"]); n != 2 {
		t.Errorf("%d anomalies exported, want the 2 stored", n)
	}
	// Field by field for one table: the account as the store reads it.
	acct := must(ts.GetCloudAccount(c, f.Account))
	if r := got["cloud_accounts"][0]; r["id"] != acct.Id || r["account_id"] != acct.AccountId || r["role_arn"] != acct.RoleArn || r["display_name"] != acct.DisplayName {
		t.Errorf("exported account %v, stored %v", r, acct)
	}
	for _, leak := range []string{
		secret,
		hex.EncodeToString([]byte(tn.Id + "-api")), hex.EncodeToString([]byte(tn.Id + "-enroll")),
		"ext-123456789012",
		`"secret_hash"`, `"webhook_secret"`, `"external_id"`,
	} {
		if strings.Contains(raw, leak) {
			t.Errorf("the export contains %q", leak)
		}
	}

	// A forced delete commits after the export read the tenant row: the
	// export goes on from its snapshot and returns what it would have.
	deleted := false
	during, _, err := exportOf(t, s, tn.Id, func(table string) {
		if deleted {
			return
		}
		deleted = true
		ok(t, s.DeleteTenant(c, tn.Id, 0, true))
	})
	ok(t, err)
	if !deleted {
		t.Fatal("the export emitted nothing")
	}
	for _, table := range slices.Sorted(maps.Keys(got)) {
		if len(during[table]) != len(got[table]) {
			t.Errorf("export during the delete: %d %s records, before it %d", len(during[table]), table, len(got[table]))
		}
	}
	_, _, err = exportOf(t, s, tn.Id, nil)
	wantErr(t, err, store.ErrNotFound, "export of a deleted tenant")
}
