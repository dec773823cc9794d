package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

// TestServerExportWritesJSONLines: the export of one tenant through the
// CLI is its rows as JSON lines (the webhook secret not among them), the
// file appears with mode 0600, and the export is audited; a missing
// tenant fails and leaves no file.
func TestServerExportWritesJSONLines(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, sqliteFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "0123456789abcdef-cli-export"
	tn, err := st.CreateTenant(ctx, &sirsiv1.Tenant{Name: "acme", WebhookUrl: "https://hooks.example.com/x", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateTenant(ctx, &sirsiv1.Tenant{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.Tenant(tn.Id).CreateCloudAccount(ctx, &sirsiv1.CloudAccount{Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "123456789012", Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::123456789012:role/sirsi", ExternalId: "ext-secret-id"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Tenant(other.Id).CreateCloudAccount(ctx, &sirsiv1.CloudAccount{Cloud: sirsiv1.Cloud_CLOUD_AWS, AccountId: "210987654321", Regions: []string{"us-east-1"},
		RoleArn: "arn:aws:iam::210987654321:role/sirsi", ExternalId: "ext-other"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := filepath.Join(dir, "acme.jsonl")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"server", "export", "-data-dir", dir, "-tenant", tn.Id, "-o", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("export: exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", fi.Mode().Perm())
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), "ext-secret-id") {
		t.Fatalf("the export holds a secret:\n%s", b)
	}
	tables := map[string][]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l struct {
			Table  string         `json:"table"`
			Record map[string]any `json:"record"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		tables[l.Table] = append(tables[l.Table], l.Record)
	}
	if len(tables["tenants"]) != 1 || tables["tenants"][0]["name"] != "acme" {
		t.Errorf("tenant lines %v", tables["tenants"])
	}
	// The tenant's webhook is its own endpoint, exported without its secret.
	if w := tables["webhooks"]; len(w) != 1 || w[0]["url"] != "https://hooks.example.com/x" || w[0]["id"] != tn.Id || w[0]["secret"] != nil {
		t.Errorf("webhook lines %v", w)
	}
	if len(tables["cloud_accounts"]) != 1 || tables["cloud_accounts"][0]["id"] != acct.Id || tables["cloud_accounts"][0]["account_id"] != "123456789012" {
		t.Errorf("account lines %v (only acme's one wanted)", tables["cloud_accounts"])
	}

	missing := filepath.Join(dir, "missing.jsonl")
	stderr.Reset()
	if code := Main([]string{"server", "export", "-data-dir", dir, "-tenant", "0190c0de-0000-7000-8000-000000000000", "-o", missing}, &stdout, &stderr); code != exitFailure || !strings.Contains(stderr.String(), "not found") {
		t.Errorf("export of a missing tenant: exit %d, stderr %q", code, stderr.String())
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s (%v)", missing, err)
	}
	if code := Main([]string{"server", "export", "-data-dir", dir}, &stdout, &stderr); code != exitUsage {
		t.Errorf("export without -tenant: exit %d", code)
	}

	st, err = sqlite.Open(ctx, filepath.Join(dir, sqliteFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev, _, err := st.Tenant(tn.Id).ListAuditEvents(ctx, store.AuditFilter{Action: exportAction}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].Outcome != "ok" || ev[0].Target != "tenant/"+tn.Id {
		t.Errorf("audited exports %v, want one ok", ev)
	}
}
