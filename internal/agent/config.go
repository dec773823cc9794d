package agent

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/awsclient"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/cpaddr"
)

// Config is everything the runtime needs; internal/config fills it from
// HCL, environment and flags, agentd dev fills it in-process.
type Config struct {
	// DataDir holds the identity, the spool and the discovery snapshot.
	DataDir string
	// Servers are host:port of the control plane's agent listeners, one per
	// replica (or one name with several DNS records, or a balancer): the
	// agent uses the first that answers and moves on when it stops.
	Servers []string
	// ServerName is the TLS name to verify on every replica; default: each
	// entry's own host.
	ServerName string
	// CACertPEM is the trust anchor for the first contact, before the
	// data dir holds the CA bundle enrollment returns.
	CACertPEM []byte
	// EnrollToken is the single-use enrollment token; only read when the
	// data dir holds no identity.
	EnrollToken string
	Hostname    string
	Version     string

	// AWS reaches the account. Region is the home region (STS; Cost
	// Explorer and Pricing use us-east-1 regardless). Limiter and Metrics
	// are set by the agent.
	AWS awsclient.Options
	// LimiterScale scales AWS's published quotas for the client-side
	// buckets; default 1.
	LimiterScale float64

	// Cron schedules (robfig/cron syntax, "@every 15m" included).
	DiscoverySchedule   string
	UtilizationSchedule string
	CostSchedule        string
	// OptimizeSchedule is how often policies are run: off-hours firings
	// and action windows are checked at this resolution.
	OptimizeSchedule string
	// ActionPollInterval is how often an action's waits poll AWS; default
	// the actuator's.
	ActionPollInterval time.Duration
	// Jitter delays each scheduled sweep by a random time up to this, so a
	// fleet of agents does not hit AWS at the same second.
	Jitter time.Duration
	// SweepHealthMultiple: a sweep without a success for this many runs of
	// its schedule makes the agent unready; default
	// config.DefaultSweepHealthMultiple.
	SweepHealthMultiple int
	// CostDays is how many days of daily costs each pull asks for.
	CostDays int
	// CostMinInterval: Cost Explorer is asked at most this often.
	CostMinInterval time.Duration
	// CostTagKeys are cost-allocation tags to group costs by.
	CostTagKeys []string
	// SpoolMaxBytes caps the spool; 0 is the spool's default.
	SpoolMaxBytes int64
	// ReportBatchSize bounds the records of one batch (upserts, summaries,
	// cost records); default 2000.
	ReportBatchSize int

	Logger     hclog.Logger
	Registerer prometheus.Registerer
	Clock      func() time.Time
}

// Defaults fills what was left empty.
func (c *Config) defaults() {
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	if c.LimiterScale == 0 {
		c.LimiterScale = 1
	}
	if c.DiscoverySchedule == "" {
		c.DiscoverySchedule = "@every 15m"
	}
	if c.UtilizationSchedule == "" {
		c.UtilizationSchedule = "@every 1h"
	}
	if c.CostSchedule == "" {
		c.CostSchedule = "@every 6h"
	}
	if c.OptimizeSchedule == "" {
		c.OptimizeSchedule = "@every 1m"
	}
	if c.CostDays == 0 {
		c.CostDays = 45
	}
	if c.SweepHealthMultiple == 0 {
		c.SweepHealthMultiple = config.DefaultSweepHealthMultiple
	}
	if c.CostMinInterval == 0 {
		c.CostMinInterval = 6 * time.Hour
	}
	if c.ReportBatchSize == 0 {
		c.ReportBatchSize = 2000
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Validate names the first wrong setting.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("data_dir: required")
	}
	if _, err := cpaddr.Parse(c.Servers); err != nil {
		return fmt.Errorf("servers: %w", err)
	}
	for name, spec := range map[string]string{"discovery_schedule": c.DiscoverySchedule, "utilization_schedule": c.UtilizationSchedule, "cost_schedule": c.CostSchedule, "optimize_schedule": c.OptimizeSchedule} {
		if _, err := cronParser.Parse(spec); err != nil {
			return fmt.Errorf("%s %q: %w", name, spec, err)
		}
	}
	if c.Jitter < 0 || c.Jitter > time.Hour {
		return fmt.Errorf("jitter %s: must be between 0 and 1h", c.Jitter)
	}
	if err := config.CheckSweepHealthMultiple(c.SweepHealthMultiple); err != nil {
		return fmt.Errorf("sweep_health_multiple: %w", err)
	}
	if c.CostDays < 2 || c.CostDays > 365 {
		return fmt.Errorf("cost_days %d: must be between 2 and 365", c.CostDays)
	}
	if c.CostMinInterval < time.Minute {
		return fmt.Errorf("cost_min_interval %s: must be at least 1m (each Cost Explorer call is billed)", c.CostMinInterval)
	}
	if c.LimiterScale <= 0 || c.LimiterScale > 10 {
		return fmt.Errorf("limiter_scale %v: must be in (0, 10]", c.LimiterScale)
	}
	if c.ReportBatchSize < 1 || c.ReportBatchSize > 5000 {
		return fmt.Errorf("report_batch_size %d: must be between 1 and 5000", c.ReportBatchSize)
	}
	if c.SpoolMaxBytes < 0 {
		return fmt.Errorf("spool_max_bytes %d: must not be negative", c.SpoolMaxBytes)
	}
	if err := c.AWS.Validate(); err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	return nil
}
