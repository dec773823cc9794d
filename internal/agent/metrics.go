package agent

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	batches      *prometheus.CounterVec
	bytesSent    *prometheus.CounterVec
	lastReport   prometheus.Gauge
	certExpiry   prometheus.Gauge
	renewals     *prometheus.CounterVec
	sweepSeconds *prometheus.HistogramVec
	sweepLastOK  *prometheus.GaugeVec
	sweepErrors  *prometheus.CounterVec
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_report_batches_total",
			Help: "Batches reported to the control plane by kind and outcome (sent, duplicate, rejected).",
		}, []string{"kind", "outcome"}),
		bytesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_report_bytes_total",
			Help: "Encoded bytes of the batches the control plane acknowledged, by kind.",
		}, []string{"kind"}),
		lastReport: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sirsi_agent_report_last_success_timestamp_seconds",
			Help: "When the control plane last acknowledged a batch.",
		}),
		certExpiry: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sirsi_agent_certificate_expiry_timestamp_seconds",
			Help: "When the agent's client certificate expires.",
		}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_certificate_renewals_total",
			Help: "Certificate renewal attempts by outcome.",
		}, []string{"outcome"}),
		sweepSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sirsi_agent_sweep_duration_seconds",
			Help:    "Duration of discovery, utilization and cost sweeps.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 14),
		}, []string{"sweep"}),
		sweepLastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sirsi_agent_sweep_last_success_timestamp_seconds",
			Help: "When each sweep last completed.",
		}, []string{"sweep"}),
		sweepErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_sweep_errors_total",
			Help: "Sweeps that failed, by sweep.",
		}, []string{"sweep"}),
	}
	for _, c := range []prometheus.Collector{m.batches, m.bytesSent, m.lastReport, m.certExpiry, m.renewals, m.sweepSeconds, m.sweepLastOK, m.sweepErrors} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("registering agent metrics: %w", err)
		}
	}
	return m, nil
}
