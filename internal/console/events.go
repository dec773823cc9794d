package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Change tells a tenant's browsers that one kind of data changed, so the
// views showing it fetch it again. It carries no data itself: every read
// goes through the API's authorisation.
type Change struct {
	TenantID string `json:"tenant_id"`
	// Kind is costs, resources, recommendations, actions or agents.
	Kind string `json:"kind"`
}

// Notifier carries changes to every replica (PostgreSQL NOTIFY); its
// listener hands what arrives to Hub.Deliver.
type Notifier interface {
	Notify(ctx context.Context, c Change) error
}

// subscriberBuffer is how many changes a slow browser may fall behind
// before further ones are dropped for it; a dropped change costs nothing
// but freshness, since the next one makes the view fetch again.
const subscriberBuffer = 64

// Hub fans changes out to the event streams of this process: directly
// with a single server (SQLite), through a Notifier with several replicas.
type Hub struct {
	notifier Notifier
	mu       sync.Mutex
	subs     map[string]map[chan Change]struct{}
}

// NewHub returns a hub; notifier nil delivers in process.
func NewHub(notifier Notifier) *Hub {
	return &Hub{notifier: notifier, subs: map[string]map[chan Change]struct{}{}}
}

// Publish announces a change to every replica's browsers of its tenant.
func (h *Hub) Publish(ctx context.Context, c Change) {
	if h.notifier == nil {
		h.Deliver(c)
		return
	}
	if err := h.notifier.Notify(ctx, c); err != nil {
		// Other replicas miss it, this one need not.
		h.Deliver(c)
	}
}

// Deliver hands c to this process's subscribers of its tenant.
func (h *Hub) Deliver(c Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[c.TenantID] {
		select {
		case ch <- c:
		default:
		}
	}
}

// Subscribe returns the changes of tenant until cancel is called.
func (h *Hub) Subscribe(tenant string) (<-chan Change, func()) {
	ch := make(chan Change, subscriberBuffer)
	h.mu.Lock()
	if h.subs[tenant] == nil {
		h.subs[tenant] = map[chan Change]struct{}{}
	}
	h.subs[tenant][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs[tenant], ch)
		if len(h.subs[tenant]) == 0 {
			delete(h.subs, tenant)
		}
	}
}

// Subscribers is how many streams of tenant this process serves.
func (h *Hub) Subscribers(tenant string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[tenant])
}

// recheckEvery is how often an open stream re-authenticates its token
// (and sends a keep-alive), so a revoked or expired token ends it.
const recheckEvery = 20 * time.Second

// events streams the tenant's changes as Server-Sent Events.
func (h *Hub) serve(w http.ResponseWriter, r *http.Request, tenant string, stillValid func() bool) {
	rc := http.NewResponseController(w)
	changes, cancel := h.Subscribe(tenant)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) bool {
		// The listener's write timeout is for ordinary responses; a
		// stream gets a fresh one for every write.
		_ = rc.SetWriteDeadline(time.Now().Add(recheckEvery + 10*time.Second))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 3000\nevent: ready\ndata: {}\n\n") {
		return
	}
	tick := time.NewTicker(recheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case c := <-changes:
			b, _ := json.Marshal(c) // a struct of strings always encodes
			if !send("event: change\ndata: %s\n\n", b) {
				return
			}
		case <-tick.C:
			if !stillValid() {
				_ = send("event: signed-out\ndata: {}\n\n")
				return
			}
			if !send(": keep-alive\n\n") {
				return
			}
		}
	}
}

func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	if h.changes == nil {
		writeError(w, http.StatusServiceUnavailable, "live updates are not enabled on this server")
		return
	}
	c, id, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	h.changes.serve(w, r, id.GetTenantId(), func() bool {
		_, err := h.identity(r.Context(), c)
		return err == nil
	})
}
