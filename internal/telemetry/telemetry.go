// Package telemetry is the daemon's observability plumbing: one hclog root
// logger whose level can change at run time, a Prometheus registry of our
// own (never the global default, so tests and embedded servers do not
// collide), and the HTTP handlers for /healthz, /readyz, /metrics and the
// opt-in pprof listener.
package telemetry

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewLogger returns the root logger. Loggers made from it with Named share
// its level, so SetLevel on the root (SIGHUP) reaches every component.
func NewLogger(w io.Writer, level, format string) (hclog.Logger, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	var jsonFormat bool
	switch format {
	case "text", "":
	case "json":
		jsonFormat = true
	default:
		return nil, fmt.Errorf("log format %q is not text or json", format)
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:              "agentd",
		Level:             lvl,
		Output:            w,
		JSONFormat:        jsonFormat,
		IncludeLocation:   false,
		DisableTime:       false,
		Color:             hclog.ColorOff,
		IndependentLevels: false,
	}), nil
}

// ParseLevel accepts trace, debug, info, warn and error. hclog's own parser
// maps anything unknown to NoLevel, which would silently change verbosity.
func ParseLevel(s string) (hclog.Level, error) {
	switch strings.ToLower(s) {
	case "trace":
		return hclog.Trace, nil
	case "debug":
		return hclog.Debug, nil
	case "info", "":
		return hclog.Info, nil
	case "warn":
		return hclog.Warn, nil
	case "error":
		return hclog.Error, nil
	}
	return hclog.NoLevel, fmt.Errorf("log level %q is not one of trace, debug, info, warn, error", s)
}

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}
