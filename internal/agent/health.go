package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sweepNames are the sweeps whose health /readyz and
// sirsi_agent_sweep_healthy report.
var sweepNames = []string{sweepDiscovery, sweepUtilization, sweepCosts, sweepOptimize}

// sweepError is a sweep's last failure.
type sweepError struct {
	at      time.Time
	message string
}

// schedule is the cron of a sweep.
func (c *Config) schedule(name string) string {
	switch name {
	case sweepDiscovery:
		return c.DiscoverySchedule
	case sweepUtilization:
		return c.UtilizationSchedule
	case sweepCosts:
		return c.CostSchedule
	}
	return c.OptimizeSchedule
}

// sweepHealth says why a sweep is unhealthy, or nil: it is unhealthy once
// SweepHealthMultiple firings of its schedule (plus the jitter) have passed
// since its last success, or since the agent started when it has not
// succeeded yet. The last error says what went wrong.
func (a *Agent) sweepHealth(name string) error {
	sched, err := cronParser.Parse(a.cfg.schedule(name))
	if err != nil {
		// Validate parsed it already.
		return fmt.Errorf("%s sweep: schedule: %w", name, err)
	}
	a.mu.Lock()
	last, ok := a.lastSweeps[name]
	failed := a.sweepErrors[name]
	a.mu.Unlock()
	since := a.started
	if ok {
		since = last
	}
	due := since
	for range a.cfg.SweepHealthMultiple {
		due = sched.Next(due)
	}
	due = due.Add(a.cfg.Jitter)
	if !a.now().After(due) {
		return nil
	}
	what := "no success since the agent started at " + since.UTC().Format(time.RFC3339)
	if ok {
		what = "last success at " + since.UTC().Format(time.RFC3339)
	}
	if failed.message != "" {
		what += fmt.Sprintf("; last error at %s: %s", failed.at.UTC().Format(time.RFC3339), failed.message)
	}
	return fmt.Errorf("%s sweep: %s, due by %s (%d runs of %q)", name, what, due.UTC().Format(time.RFC3339), a.cfg.SweepHealthMultiple, a.cfg.schedule(name))
}

// SweepsHealthy is the readiness check of the sweeps: an error naming
// every sweep that has not succeeded in time.
func (a *Agent) SweepsHealthy(context.Context) error {
	var errs []error
	for _, name := range sweepNames {
		errs = append(errs, a.sweepHealth(name))
	}
	return errors.Join(errs...)
}

// registerSweepHealth adds sirsi_agent_sweep_healthy{sweep}, worked out at
// each scrape.
func registerSweepHealth(r prometheus.Registerer, a *Agent) error {
	for _, name := range sweepNames {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "sirsi_agent_sweep_healthy",
			Help:        "1 while the sweep has succeeded within sweep_health_multiple runs of its schedule, else 0.",
			ConstLabels: prometheus.Labels{"sweep": name},
		}, func() float64 {
			if a.sweepHealth(name) != nil {
				return 0
			}
			return 1
		})
		if err := r.Register(g); err != nil {
			return fmt.Errorf("registering the sweep health gauge: %w", err)
		}
	}
	return nil
}

// maxSweepError is the control plane's bound on a reported error.
const maxSweepError = 4096
