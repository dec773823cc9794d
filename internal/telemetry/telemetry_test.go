package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

func TestLoggerLevelReachesNamedLoggers(t *testing.T) {
	var buf bytes.Buffer
	root, err := NewLogger(&buf, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	child := root.Named("store")
	child.Debug("hidden")
	if buf.Len() != 0 {
		t.Fatalf("debug line written at info: %q", buf.String())
	}
	root.SetLevel(hclog.Debug)
	child.Debug("shown")
	if !strings.Contains(buf.String(), "agentd.store: shown") {
		t.Fatalf("after SetLevel(debug) the named logger wrote %q", buf.String())
	}
}

func TestLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	root, err := NewLogger(&buf, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	root.Named("grpc").Info("listening", "addr", "127.0.0.1:1")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %q: %v", buf.String(), err)
	}
	if line["@module"] != "agentd.grpc" || line["addr"] != "127.0.0.1:1" || line["@message"] != "listening" {
		t.Errorf("line = %v", line)
	}
}

func TestLoggerRejectsBadSettings(t *testing.T) {
	if _, err := NewLogger(io.Discard, "loud", "text"); err == nil || !strings.Contains(err.Error(), "loud") {
		t.Errorf("bad level: err = %v", err)
	}
	if _, err := NewLogger(io.Discard, "info", "xml"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("bad format: err = %v", err)
	}
}

func TestRegistryHasRuntimeCollectors(t *testing.T) {
	families, err := NewRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var goroutines, process bool
	for _, f := range families {
		switch {
		case f.GetName() == "go_goroutines":
			goroutines = true
		case strings.HasPrefix(f.GetName(), "process_"):
			process = true
		}
	}
	if !goroutines || !process {
		t.Errorf("go collector %v, process collector %v", goroutines, process)
	}
}

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func TestHTTPHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "sirsi_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	ready := NewReadiness()
	listener := NewFlag("grpc listener")
	ready.Add("grpc", listener.Check)
	storeErr := errors.New("database is locked")
	ready.Add("store", func(context.Context) error { return storeErr })
	h := NewHTTPHandler(HTTPOptions{Gatherer: reg, Ready: ready, Health: true})

	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/nope"} {
		resp := get(t, h, path)
		for k, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "no-store",
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
	if resp := get(t, h, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}

	resp := get(t, h, "/readyz")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "database is locked") || !strings.Contains(string(body), "grpc listener is not serving") {
		t.Errorf("/readyz with failing checks = %d %s", resp.StatusCode, body)
	}
	listener.Set(true)
	storeErr = nil
	ready.Add("store", func(context.Context) error { return nil })
	if resp := get(t, h, "/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz with passing checks = %d", resp.StatusCode)
	}

	resp = get(t, h, "/metrics")
	body, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "sirsi_test_total 3") {
		t.Errorf("/metrics = %s", body)
	}
	if resp := get(t, h, "/debug/pprof/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("pprof reachable on the main handler: %d", resp.StatusCode)
	}
}

func TestHTTPHandlerWithoutMetrics(t *testing.T) {
	h := NewHTTPHandler(HTTPOptions{Health: true, Ready: NewReadiness()})
	if resp := get(t, h, "/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics served although moved to its own listener: %d", resp.StatusCode)
	}
	if resp := get(t, h, "/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz with no checks = %d", resp.StatusCode)
	}
}

func TestPprofHandler(t *testing.T) {
	resp := get(t, NewPprofHandler(), "/debug/pprof/goroutine?debug=1")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("pprof goroutine = %d %.100s", resp.StatusCode, body)
	}
}
