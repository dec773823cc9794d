package spool

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	reg         prometheus.Registerer
	records     *prometheus.GaugeVec
	bytes       prometheus.Gauge
	appended    *prometheus.CounterVec
	acked       *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	quarantined prometheus.Counter
	overCap     prometheus.Gauge
	collectors  []prometheus.Collector
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reg: reg,
		records: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sirsi_agent_spool_records",
			Help: "Records held in the agent spool, by kind.",
		}, []string{"kind"}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sirsi_agent_spool_bytes",
			Help: "Stored record bytes in the agent spool (what the size cap counts).",
		}),
		appended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_spool_appended_total",
			Help: "Records appended to the agent spool, by kind.",
		}, []string{"kind"}),
		acked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_spool_acked_total",
			Help: "Records removed from the agent spool after the control plane acknowledged them, by kind.",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_spool_dropped_records_total",
			Help: "Records dropped unsent to keep the agent spool under its size cap, by kind.",
		}, []string{"kind"}),
		quarantined: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sirsi_agent_spool_quarantined_total",
			Help: "Records that failed to decode and were moved to the quarantine bucket.",
		}),
		overCap: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sirsi_agent_spool_over_cap",
			Help: "1 while the agent spool holds more than its size cap because only undroppable records remain.",
		}),
	}
	// Touch every label value so dashboards see zeros instead of gaps.
	for _, k := range kinds {
		m.records.WithLabelValues(k.String())
		m.appended.WithLabelValues(k.String())
		m.acked.WithLabelValues(k.String())
	}
	m.dropped.WithLabelValues(KindUtilization.String())

	all := []prometheus.Collector{m.records, m.bytes, m.appended, m.acked, m.dropped, m.quarantined, m.overCap}
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, fmt.Errorf("registering spool metrics: %w", err)
		}
		m.collectors = append(m.collectors, c)
	}
	return m, nil
}

// unregister lets the same Registerer take a reopened spool's metrics.
func (m *metrics) unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}
