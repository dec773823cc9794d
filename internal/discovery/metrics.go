package discovery

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	sweep    prometheus.Gauge
	duration *prometheus.GaugeVec
	found    *prometheus.GaugeVec
	errors   *prometheus.CounterVec
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sweep: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sirsi_discovery_sweep_duration_seconds",
			Help: "Wall time of the last complete discovery sweep.",
		}),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sirsi_discovery_type_duration_seconds",
			Help: "Wall time of the slowest region of a resource type in the last sweep.",
		}, []string{"type"}),
		found: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sirsi_discovery_resources",
			Help: "Resources found in the last sweep, by type.",
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_discovery_unit_errors_total",
			Help: "(type, region) units that could not be collected, by type and region.",
		}, []string{"type", "region"}),
	}
	var err error
	if m.sweep, err = register(r, m.sweep); err != nil {
		return nil, err
	}
	if m.duration, err = register(r, m.duration); err != nil {
		return nil, err
	}
	if m.found, err = register(r, m.found); err != nil {
		return nil, err
	}
	if m.errors, err = register(r, m.errors); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to r, or returns the collector already registered under
// the same description: an agent that rebuilds its Discoverer after a
// configuration change keeps its series.
func register[C prometheus.Collector](r prometheus.Registerer, c C) (C, error) {
	err := r.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("registering discovery metrics: %w", err)
}
