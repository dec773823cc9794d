package actuator

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	actions *prometheus.CounterVec
	steps   *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_agent_actions_total",
			Help: "Actions the agent finished, by action and outcome (succeeded, failed, rolled_back, refused).",
		}, []string{"action", "outcome"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sirsi_agent_action_step_seconds",
			Help: "Duration of each action step, waits included.",
			// From one API call to a quarter-hour wait for an instance.
			Buckets: prometheus.ExponentialBuckets(0.05, 3, 10),
		}, []string{"step"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.actions, m.steps} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering actuator metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) outcome(action, outcome string) {
	known := false
	for k := range flowKinds {
		known = known || k.action == action
	}
	if !known {
		action = "unknown" // a refused request's action is outside input
	}
	m.actions.WithLabelValues(action, outcome).Inc()
}

func (m *metrics) step(name string, d time.Duration) {
	m.steps.WithLabelValues(name).Observe(d.Seconds())
}
