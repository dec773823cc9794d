package daemon

import (
	"bufio"
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/sqlite"
)

// TestAuditListFilters: each filter of `agentd server audit list` keeps
// exactly the events the log holds that match it, in sequence order, and
// a tenant's list holds none of another tenant's or operator events.
func TestAuditListFilters(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, sqliteFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const del = "/sirsi.v1.ManagementService/DeleteCloudAccount"
	for i := range 9 {
		tenant := []string{"tenant-a", "tenant-b", ""}[i%3]
		if _, err := st.AppendAudit(ctx, &sirsiv1.AuditEvent{TenantId: tenant, Time: timestamppb.New(t0.Add(time.Duration(i) * time.Hour)),
			Actor: []string{"token:x", "operator"}[i%2], Action: []string{del, "agent.enroll"}[i%2], Target: "cloud_account/" + string(rune('0'+i%4)),
			Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	all, _, err := st.Tenant("tenant-a").ListAuditEvents(ctx, store.AuditFilter{}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	list := func(args ...string) []*sirsiv1.AuditEvent {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := Main(append([]string{"server", "audit", "list", "-data-dir", dir}, args...), &stdout, &stderr); code != exitOK {
			t.Fatalf("audit list %v: exit %d: %s", args, code, stderr.String())
		}
		var out []*sirsiv1.AuditEvent
		sc := bufio.NewScanner(&stdout)
		for sc.Scan() {
			var ev sirsiv1.AuditEvent
			if err := protojson.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			out = append(out, &ev)
		}
		return out
	}
	seqs := func(evs []*sirsiv1.AuditEvent) []int64 {
		var s []int64
		for _, e := range evs {
			s = append(s, e.Sequence)
		}
		return s
	}
	// Tenant A holds events 0, 3, 6 (sequences 1, 4, 7).
	if got := seqs(list("-tenant", "tenant-a")); len(got) != 3 || got[0] != 1 || got[1] != 4 || got[2] != 7 || len(all) != 3 {
		t.Fatalf("tenant-a: %v", got)
	}
	if got := seqs(list()); len(got) != 3 || got[0] != 3 || got[1] != 6 || got[2] != 9 {
		t.Fatalf("operator events: %v", got)
	}
	for _, c := range []struct {
		args []string
		want []int64
	}{
		{[]string{"-tenant", "tenant-a", "-actor", "operator"}, []int64{4}},
		{[]string{"-tenant", "tenant-a", "-target", "cloud_account/2"}, []int64{7}},
		{[]string{"-tenant", "tenant-a", "-action", del}, []int64{1, 7}},
		{[]string{"-tenant", "tenant-a", "-since", t0.Add(3 * time.Hour).Format(time.RFC3339), "-until", t0.Add(6 * time.Hour).Format(time.RFC3339)}, []int64{4}},
		{[]string{"-tenant", "tenant-b", "-target", "cloud_account/0"}, []int64{5}},
	} {
		if got := seqs(list(c.args...)); len(got) != len(c.want) || (len(got) > 0 && (got[0] != c.want[0] || got[len(got)-1] != c.want[len(c.want)-1])) {
			t.Errorf("audit list %v: sequences %v, want %v", c.args, got, c.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"server", "audit", "list", "-data-dir", dir, "-since", "yesterday"}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "-since") {
		t.Errorf("bad -since: exit %d, %q", code, stderr.String())
	}
}
