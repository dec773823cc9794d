package processtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/controlplane"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/crashpoint"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/pgtest"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/postgres"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/store/storetest"
)

const killHookSecret = "processtest-webhook-secret-0123"

// hookReceiver records the deliveries it gets, each checked signed.
type hookReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	// got holds, per event id, the "type subject" of each receipt.
	got map[string][]string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{got: map[string][]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("receiver: %v", err)
			return
		}
		if !controlplane.VerifyWebhookSignature(killHookSecret, req.Header.Get("X-Sirsi-Timestamp"), string(body), req.Header.Get("X-Sirsi-Signature")) {
			t.Errorf("receiver: a delivery whose signature does not verify: %s", body)
		}
		var ev struct{ ID, Type, Subject string }
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get("X-Sirsi-Delivery") {
			t.Errorf("receiver: body %s (%v) does not carry the delivery id %q", body, err, req.Header.Get("X-Sirsi-Delivery"))
		}
		r.mu.Lock()
		r.got[ev.ID] = append(r.got[ev.ID], ev.Type+" "+ev.Subject)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// TestWebhookEventsExactlyOnceAcrossServerKills runs a real `agentd
// server` on PostgreSQL and, for each step of a delivery
// (crashpoint.WebhookPoints), makes one change of every event type while
// the server is down (each reported twice, storetest.EveryEventType),
// starts it with the crash point armed at the third delivery, lets it
// SIGKILL itself there, and starts it again. Every event must then be
// delivered, none dead, and the receiver must have got each change under
// exactly one event id, and no other event: an attempt whose answer the
// kill cut off is sent again under the same id, the idempotency key a
// receiver drops repeats by (after the send the repeat must be seen).
func TestWebhookEventsExactlyOnceAcrossServerKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agentd server several times")
	}
	url := pgtest.Database(t)
	dataDir := t.TempDir()
	// The operator budget is raised to its bound: the test polls every
	// 50 ms across several server lives, and since budgets are shared
	// through PostgreSQL a killed process's unspent share stays counted
	// until the window ends; rate limiting is not what this test checks.
	s := &serverProc{args: []string{"server", "-data-dir", dataDir, "-listen", freeAddr(t), "-agent-listen", freeAddr(t),
		"-http-listen", "127.0.0.1:0", "-insecure", "-log-format", "json", "-database-url", url,
		"-webhook-allow-loopback", "-webhook-timeout", "1s",
		"-rate-limit-operator-per-minute", strconv.Itoa(config.MaxRatePerMinute)}}
	s.start(t, nil)
	tok, err := os.ReadFile(filepath.Join(dataDir, "operator-token"))
	if err != nil {
		t.Fatal(err)
	}
	s.token = strings.TrimSpace(string(tok))
	op := s.operator(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	for _, point := range crashpoint.WebhookPoints {
		rcv := newHookReceiver(t)
		tn, err := op.CreateTenant(ctx, &sirsiv1.CreateTenantRequest{Tenant: &sirsiv1.Tenant{
			Name: strings.NewReplacer(".", "-", "_", "-").Replace(point), WebhookUrl: rcv.srv.URL + "/hook", WebhookSecret: killHookSecret,
		}})
		if err != nil {
			t.Fatal(err)
		}
		s.p.kill()
		want := storetest.EveryEventType(t, st, tn.Tenant.Id)
		s.p = startEnv(t, []string{crashpoint.EnvVar + "=" + point + "#3"}, s.args...)
		expectCrash(t, s.p, point)
		s.start(t, nil)
		waitUntil(t, "every event delivered after the kill at "+point, convergeBound, s.p, func() bool {
			resp, err := op.ListWebhookEvents(ctx, &sirsiv1.ListWebhookEventsRequest{TenantId: tn.Tenant.Id,
				State: sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_PENDING, PageSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(resp.Events) == 0
		})
		dead, err := op.ListWebhookEvents(ctx, &sirsiv1.ListWebhookEventsRequest{TenantId: tn.Tenant.Id,
			State: sirsiv1.WebhookEventState_WEBHOOK_EVENT_STATE_DEAD, PageSize: 1000})
		if err != nil || len(dead.Events) != 0 {
			t.Fatalf("%s: dead-lettered %v (%v)", point, dead.GetEvents(), err)
		}

		rcv.mu.Lock()
		var got []string
		repeats := 0
		for id, receipts := range rcv.got {
			for _, r := range receipts[1:] {
				if r != receipts[0] {
					t.Errorf("%s: event id %s carried %q and %q", point, id, receipts[0], r)
				}
			}
			repeats += len(receipts) - 1
			got = append(got, receipts[0])
		}
		rcv.mu.Unlock()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: received under distinct ids:\n%s\nwant each change once:\n%s", point, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if point == crashpoint.ServerWebhookAfterSend && repeats == 0 {
			t.Errorf("%s: the delivery the kill cut off was not sent again", point)
		}
		t.Logf("killed at %s: %d events, each under one id; %d repeated deliveries (same id)", point, len(got), repeats)
	}
}
