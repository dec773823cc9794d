package controlplane

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	storeOps *prometheus.HistogramVec
	jobRuns  *prometheus.CounterVec

	ratelimited  *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	lockouts     prometheus.Counter
	oidcRefusals *prometheus.CounterVec
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_grpc_requests_total",
			Help: "gRPC requests handled, by full method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sirsi_grpc_request_duration_seconds",
			Help:    "Time to handle a gRPC request, interceptors included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method"}),
		storeOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sirsi_store_operation_duration_seconds",
			Help:    "Time spent in one store operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"op"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sirsi_background_job_runs_total",
			Help: "Background job attempts: ran, skipped (another replica holds the lock) or failed.",
		}, []string{"job", "outcome"}),
	}
	m.ratelimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sirsi_ratelimited_total",
		Help: "Calls refused with ResourceExhausted before their handler, by budget: token, tenant (all its tokens), operator, agent, unauthenticated (per source) or lockout.",
	}, []string{"kind"})
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sirsi_auth_failures_total",
		Help: "Refused bearer and enrollment tokens, by reason: missing, malformed, invalid, expired, oidc, enroll_invalid, enroll_expired, enroll_used.",
	}, []string{"reason"})
	m.lockouts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sirsi_auth_lockouts_total",
		Help: "Source addresses blocked after repeated failed authentications.",
	})
	m.oidcRefusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sirsi_oidc_refusals_total",
		Help: "OIDC bearer tokens refused, by the check that failed (internal/oidcverify's reasons); each is also counted in sirsi_auth_failures_total{reason=\"oidc\"}.",
	}, []string{"reason"})
	for _, c := range []prometheus.Collector{m.ratelimited, m.authFailures, m.lockouts, m.oidcRefusals} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("register abuse-resistance metrics: %w", err)
		}
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.storeOps, m.jobRuns} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("register control plane metrics: %w", err)
		}
	}
	return m, nil
}
