package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/pprof"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Readiness collects the named checks behind /readyz: the store is
// reachable, the listeners are serving. Checks can be added while serving.
type Readiness struct {
	mu     sync.RWMutex
	checks map[string]func(context.Context) error
}

// NewReadiness returns an empty set; with no checks the daemon is ready.
func NewReadiness() *Readiness {
	return &Readiness{checks: map[string]func(context.Context) error{}}
}

// Add registers (or replaces) the check called name.
func (r *Readiness) Add(name string, check func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks[name] = check
}

// Check runs every check and returns the failures by name.
func (r *Readiness) Check(ctx context.Context) map[string]error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	failed := map[string]error{}
	for name, check := range r.checks {
		if err := check(ctx); err != nil {
			failed[name] = err
		}
	}
	return failed
}

// Flag is a readiness check that fails until Set(true): a listener sets it
// once it serves and clears it when it stops.
type Flag struct {
	mu   sync.Mutex
	up   bool
	what string
}

// NewFlag returns a lowered flag; what says what is not ready.
func NewFlag(what string) *Flag { return &Flag{what: what} }

// Set raises or lowers the flag.
func (f *Flag) Set(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = up
}

// Check is the readiness check.
func (f *Flag) Check(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.up {
		return errors.New(f.what + " is not serving")
	}
	return nil
}

// HTTPOptions configures NewHTTPHandler.
type HTTPOptions struct {
	// Gatherer backs /metrics; nil leaves /metrics out (it is served on a
	// separate listener).
	Gatherer prometheus.Gatherer
	// Ready backs /readyz; nil leaves /readyz out.
	Ready *Readiness
	// Health adds /healthz.
	Health bool
	// ReadyTimeout bounds the readiness checks; default 2s.
	ReadyTimeout time.Duration
}

// NewHTTPHandler serves the health and metrics endpoints with security
// headers on every response, unknown paths included.
func NewHTTPHandler(o HTTPOptions) http.Handler {
	mux := http.NewServeMux()
	if o.Health {
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
		})
	}
	if o.Ready != nil {
		timeout := o.ReadyTimeout
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			failed := o.Ready.Check(ctx)
			if len(failed) == 0 {
				writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
				return
			}
			names := make([]string, 0, len(failed))
			reasons := map[string]string{}
			for name, err := range failed {
				names = append(names, name)
				reasons[name] = err.Error()
			}
			sort.Strings(names)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "failing": names, "reasons": reasons})
		})
	}
	if o.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	}
	return SecurityHeaders(mux)
}

// NewPprofHandler serves net/http/pprof. It belongs on its own opt-in
// listener: profiles and goroutine dumps reveal memory contents.
func NewPprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// SecurityHeaders sets headers that keep browsers from sniffing, framing,
// caching or running anything these endpoints return.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
