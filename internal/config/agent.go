package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/cpaddr"
)

// Agent is the configuration of `agentd agent`.
type Agent struct {
	// DataDir holds the agent's key and certificate, the spool and the
	// last inventory snapshot.
	DataDir string
	// Servers are host:port of the control plane's agent listeners, in the
	// order the agent tries them; set by servers, or by server (one).
	Servers []string
	// serversFrom is the setting Servers came from, to name it in errors.
	serversFrom string
	ServerName  string
	// CACertFile is the control plane's CA certificate, needed to enroll.
	CACertFile string
	// EnrollToken is the single-use enrollment token (or read from
	// EnrollTokenFile); only used while the data dir holds no identity.
	EnrollToken     string
	EnrollTokenFile string
	HTTPListen      string
	MetricsListen   string
	PprofListen     string
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration

	AWS      AgentAWS
	Vault    AgentVault
	Schedule AgentSchedule

	CostDays        int
	CostMinInterval time.Duration
	CostTagKeys     []string
	SpoolMaxBytes   int64
	// MemoryLimit is the Go runtime's soft memory limit in bytes; 0 leaves
	// the runtime's default (none). GOMEMLIMIT in the environment wins.
	MemoryLimit int64
	// SweepHealthMultiple: a sweep without a success for this many runs of
	// its schedule makes /readyz fail and sirsi_agent_sweep_healthy 0.
	SweepHealthMultiple int

	sources map[string]Source
}

// AgentAWS says how the agent reaches its AWS account.
type AgentAWS struct {
	Region        string
	Endpoint      string
	AssumeRoleARN string
	ExternalID    string
	RetryMode     string
	LimiterScale  float64
}

// AgentVault, when Address is set, takes AWS credentials from Vault's AWS
// secrets engine instead of the SDK's default chain.
type AgentVault struct {
	Address         string
	Namespace       string
	CACertFile      string
	Token           string
	AppRoleID       string
	AppRoleSecretID string
	AppRoleMount    string
	AWSMount        string
	AWSRole         string
}

// AgentSchedule holds the sweep crons.
type AgentSchedule struct {
	Discovery   string
	Utilization string
	Costs       string
	Optimize    string
	Jitter      time.Duration
}

// AgentDefaults returns the agent defaults.
func AgentDefaults() Agent {
	return Agent{
		HTTPListen:      "127.0.0.1:7481",
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: 30 * time.Second,
		AWS:             AgentAWS{Region: "us-east-1", RetryMode: "adaptive", LimiterScale: 1},
		Vault:           AgentVault{AppRoleMount: "approle", AWSMount: "aws"},
		Schedule:        AgentSchedule{Discovery: "@every 15m", Utilization: "@every 1h", Costs: "@every 6h", Optimize: "@every 1m", Jitter: 30 * time.Second},
		CostDays:        45,
		CostMinInterval: 6 * time.Hour,
		SpoolMaxBytes:   256 << 20,
		MemoryLimit:     100 << 20,

		SweepHealthMultiple: DefaultSweepHealthMultiple,
	}
}

// DefaultSweepHealthMultiple allows two missed runs of a sweep before the
// agent reports itself unready: one failure may be a throttled moment.
const DefaultSweepHealthMultiple = 3

// CheckSweepHealthMultiple bounds sweep_health_multiple.
func CheckSweepHealthMultiple(n int) error {
	if n < 1 || n > 100 {
		return fmt.Errorf("%d: must be a whole number of schedule runs between 1 and 100", n)
	}
	return nil
}

func (c *Agent) sourceMap() map[string]Source { return c.sources }

// SourceOf says where the value of a setting came from.
func (c *Agent) SourceOf(name string) Source { return sourceOf(c.sources, name) }

func (c *Agent) fieldErr(name string, err error) error {
	return fmt.Errorf("%s: %w (from %s)", name, err, c.SourceOf(name))
}

// AgentLoader merges defaults < file < environment < flags for the agent.
type AgentLoader struct {
	Defaults Agent
	File     string
	Env      func(string) (string, bool)
	Flags    *Flags[*Agent]
}

// Load merges, validates and reads EnrollTokenFile; all problems are
// reported together.
func (l AgentLoader) Load() (*Agent, error) {
	c := l.Defaults
	c.CostTagKeys = append([]string(nil), l.Defaults.CostTagKeys...)
	c.sources = map[string]Source{}
	if err := merge(&c, agentFields, l.File, l.Env, l.Flags); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.EnrollTokenFile != "" {
		b, err := os.ReadFile(c.EnrollTokenFile)
		if err != nil {
			return nil, c.fieldErr("enroll_token_file", fmt.Errorf("reading the token: %w", err))
		}
		c.EnrollToken = strings.TrimSpace(string(b))
	}
	if c.DataDir != "" {
		abs, err := filepath.Abs(c.DataDir)
		if err != nil {
			return nil, c.fieldErr("data_dir", fmt.Errorf("making the path absolute: %w", err))
		}
		c.DataDir = abs
	}
	return &c, nil
}

func (c *Agent) validate() error {
	errs := checkAll(c, agentFields)
	errs = append(errs, c.checkServers()...)
	if c.EnrollToken != "" && c.EnrollTokenFile != "" {
		errs = append(errs, c.fieldErr("enroll_token_file", errors.New("cannot be combined with enroll_token: give the token one way")))
	}
	if c.AWS.ExternalID != "" && c.AWS.AssumeRoleARN == "" {
		errs = append(errs, c.fieldErr("aws.external_id", errors.New("only used together with aws.assume_role_arn")))
	}
	if c.Vault.Address != "" && c.Vault.AWSRole == "" {
		errs = append(errs, c.fieldErr("vault.aws_role", errors.New("required with vault.address: the AWS secrets engine role to read credentials from")))
	}
	if c.Vault.Address == "" && (c.Vault.Token != "" || c.Vault.AppRoleID != "" || c.Vault.AWSRole != "") {
		errs = append(errs, c.fieldErr("vault.address", errors.New("required when any other vault setting is given")))
	}
	return errors.Join(errs...)
}

// checkServers checks the control-plane addresses, naming the setting they
// came from; server and servers given by the same source contradict each
// other (a later source replaces an earlier one, as for any setting).
func (c *Agent) checkServers() []error {
	one, many := c.sources["server"], c.sources["servers"]
	if one.Kind != FromDefault && one.Kind == many.Kind {
		return []error{fmt.Errorf("server (from %s) and servers (from %s): give the control-plane addresses one way", one, many)}
	}
	name := c.serversFrom
	if name == "" {
		name = "servers"
	}
	if _, err := cpaddr.Parse(c.Servers); err != nil {
		return []error{c.fieldErr(name, err)}
	}
	return nil
}

var agentFields = []*field[*Agent]{
	{name: "data_dir", env: "SIRSI_DATA_DIR", flag: "data-dir", usage: "`directory` for the agent's identity, spool and inventory snapshot",
		set: func(c *Agent, v string) error { c.DataDir = v; return nil }},
	{name: "servers", env: "SIRSI_AGENT_SERVERS", flag: "servers", usage: "comma-separated `host:port` list of the control plane's agent listeners (replicas, or DNS names with several records), tried in order",
		set: func(c *Agent, v string) error { c.Servers, c.serversFrom = cpaddr.Split(v), "servers"; return nil }},
	{name: "server", env: "SIRSI_AGENT_SERVER", flag: "server", usage: "`host:port` of the control plane's agent listener: servers with one address",
		set: func(c *Agent, v string) error {
			if strings.Contains(v, ",") {
				return fmt.Errorf("%q: server takes one address; list several with servers", v)
			}
			c.Servers, c.serversFrom = []string{strings.TrimSpace(v)}, "server"
			return nil
		}},
	{name: "server_name", env: "SIRSI_AGENT_SERVER_NAME", flag: "server-name", usage: "TLS `name` to verify on the server certificate (default: the server's host)",
		set: func(c *Agent, v string) error { c.ServerName = v; return nil }},
	{name: "ca_cert_file", env: "SIRSI_CA_CERT_FILE", flag: "ca-cert-file", usage: "the control plane's CA certificate `file`, to enroll",
		set: func(c *Agent, v string) error { c.CACertFile = v; return nil }, check: func(c *Agent) error { return checkReadable(c.CACertFile) }},
	{name: "enroll_token", env: "SIRSI_ENROLL_TOKEN", flag: "enroll-token", usage: "single-use enrollment `token` (only read until the agent is enrolled)",
		set: func(c *Agent, v string) error { c.EnrollToken = strings.TrimSpace(v); return nil }},
	{name: "enroll_token_file", env: "SIRSI_ENROLL_TOKEN_FILE", flag: "enroll-token-file", usage: "`file` holding the enrollment token",
		set: func(c *Agent, v string) error { c.EnrollTokenFile = v; return nil }, check: func(c *Agent) error { return checkReadable(c.EnrollTokenFile) }},
	{name: "http_listen", env: "SIRSI_HTTP_LISTEN", flag: "http-listen", usage: "`host:port` of /healthz, /readyz and /metrics",
		set: func(c *Agent, v string) error { c.HTTPListen = v; return nil }, check: func(c *Agent) error { return checkListen(c.HTTPListen, true) }},
	{name: "metrics_listen", env: "SIRSI_METRICS_LISTEN", flag: "metrics-listen", usage: "`host:port` of a separate /metrics listener",
		set: func(c *Agent, v string) error { c.MetricsListen = v; return nil }, check: func(c *Agent) error { return checkListen(c.MetricsListen, false) }},
	{name: "pprof_listen", env: "SIRSI_PPROF_LISTEN", flag: "pprof-listen", usage: "`host:port` of net/http/pprof (default: off)",
		set: func(c *Agent, v string) error { c.PprofListen = v; return nil }, check: func(c *Agent) error { return checkListen(c.PprofListen, false) }},
	{name: "log_level", env: "SIRSI_LOG_LEVEL", flag: "log-level", usage: "log `level`: trace, debug, info, warn, error",
		set: func(c *Agent, v string) error { c.LogLevel = strings.ToLower(v); return nil }, check: func(c *Agent) error { return oneOf(c.LogLevel, LogLevels) }},
	{name: "log_format", env: "SIRSI_LOG_FORMAT", flag: "log-format", usage: "log `format`: text or json",
		set: func(c *Agent, v string) error { c.LogFormat = strings.ToLower(v); return nil }, check: func(c *Agent) error { return oneOf(c.LogFormat, []string{"text", "json"}) }},
	{name: "shutdown_timeout", env: "SIRSI_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", usage: "bound on the drain after SIGTERM (`duration`)",
		set: func(c *Agent, v string) error { return setDuration(&c.ShutdownTimeout, v) }, check: func(c *Agent) error { return positive(c.ShutdownTimeout) }},
	{name: "aws.region", env: "SIRSI_AWS_REGION", flag: "aws-region", usage: "home AWS `region` (STS)",
		set: func(c *Agent, v string) error { c.AWS.Region = v; return nil }},
	{name: "aws.endpoint", env: "SIRSI_AWS_ENDPOINT", flag: "aws-endpoint", usage: "`URL` replacing every AWS endpoint (a simulator); empty: AWS",
		set: func(c *Agent, v string) error { c.AWS.Endpoint = v; return nil }},
	{name: "aws.assume_role_arn", env: "SIRSI_AWS_ASSUME_ROLE_ARN", flag: "aws-assume-role-arn", usage: "IAM role `ARN` to assume on top of the base credentials",
		set: func(c *Agent, v string) error { c.AWS.AssumeRoleARN = v; return nil }},
	{name: "aws.external_id", env: "SIRSI_AWS_EXTERNAL_ID", flag: "aws-external-id", usage: "external `id` for the role assumption",
		set: func(c *Agent, v string) error { c.AWS.ExternalID = v; return nil }},
	{name: "aws.retry_mode", env: "SIRSI_AWS_RETRY_MODE", flag: "aws-retry-mode", usage: "`adaptive` or standard",
		set: func(c *Agent, v string) error { c.AWS.RetryMode = v; return nil }, check: func(c *Agent) error { return oneOf(c.AWS.RetryMode, []string{"adaptive", "standard"}) }},
	{name: "aws.limiter_scale", env: "SIRSI_AWS_LIMITER_SCALE", flag: "aws-limiter-scale", usage: "`factor` on AWS's published request rates for the client-side buckets",
		set: func(c *Agent, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 10 {
				return fmt.Errorf("%q is not a number in (0, 10]", v)
			}
			c.AWS.LimiterScale = f
			return nil
		}},
	{name: "vault.address", env: "SIRSI_VAULT_ADDR", flag: "vault-address", usage: "Vault `URL`; set to take AWS credentials from Vault's AWS secrets engine",
		set: setVault(func(v *AgentVault) *string { return &v.Address })},
	{name: "vault.namespace", env: "SIRSI_VAULT_NAMESPACE", flag: "vault-namespace", usage: "Vault `namespace`",
		set: setVault(func(v *AgentVault) *string { return &v.Namespace })},
	{name: "vault.ca_cert_file", env: "SIRSI_VAULT_CACERT", flag: "vault-ca-cert-file", usage: "CA certificate `file` for Vault's TLS",
		set: setVault(func(v *AgentVault) *string { return &v.CACertFile }), check: func(c *Agent) error { return checkReadable(c.Vault.CACertFile) }},
	{name: "vault.token", env: "SIRSI_VAULT_TOKEN", flag: "vault-token", usage: "Vault `token` (or use AppRole)",
		set: setVault(func(v *AgentVault) *string { return &v.Token })},
	{name: "vault.approle_role_id", env: "SIRSI_VAULT_ROLE_ID", flag: "vault-approle-role-id", usage: "AppRole role `id`",
		set: setVault(func(v *AgentVault) *string { return &v.AppRoleID })},
	{name: "vault.approle_secret_id", env: "SIRSI_VAULT_SECRET_ID", flag: "vault-approle-secret-id", usage: "AppRole secret `id`",
		set: setVault(func(v *AgentVault) *string { return &v.AppRoleSecretID })},
	{name: "vault.approle_mount", env: "SIRSI_VAULT_APPROLE_MOUNT", flag: "vault-approle-mount", usage: "AppRole auth `mount`",
		set: setVault(func(v *AgentVault) *string { return &v.AppRoleMount })},
	{name: "vault.aws_mount", env: "SIRSI_VAULT_AWS_MOUNT", flag: "vault-aws-mount", usage: "AWS secrets engine `mount`",
		set: setVault(func(v *AgentVault) *string { return &v.AWSMount })},
	{name: "vault.aws_role", env: "SIRSI_VAULT_AWS_ROLE", flag: "vault-aws-role", usage: "AWS secrets engine `role` to read credentials from",
		set: setVault(func(v *AgentVault) *string { return &v.AWSRole })},
	{name: "schedule.discovery", env: "SIRSI_SCHEDULE_DISCOVERY", flag: "schedule-discovery", usage: "discovery sweep `cron`",
		set: func(c *Agent, v string) error { c.Schedule.Discovery = v; return nil }, check: func(c *Agent) error { return checkCron(c.Schedule.Discovery) }},
	{name: "schedule.utilization", env: "SIRSI_SCHEDULE_UTILIZATION", flag: "schedule-utilization", usage: "utilisation sweep `cron`",
		set: func(c *Agent, v string) error { c.Schedule.Utilization = v; return nil }, check: func(c *Agent) error { return checkCron(c.Schedule.Utilization) }},
	{name: "schedule.costs", env: "SIRSI_SCHEDULE_COSTS", flag: "schedule-costs", usage: "cost sweep `cron`",
		set: func(c *Agent, v string) error { c.Schedule.Costs = v; return nil }, check: func(c *Agent) error { return checkCron(c.Schedule.Costs) }},
	{name: "schedule.optimize", env: "SIRSI_SCHEDULE_OPTIMIZE", flag: "schedule-optimize", usage: "`cron` of policy runs: off-hours firings and action windows are checked this often",
		set: func(c *Agent, v string) error { c.Schedule.Optimize = v; return nil }, check: func(c *Agent) error { return checkCron(c.Schedule.Optimize) }},
	{name: "schedule.jitter", env: "SIRSI_SCHEDULE_JITTER", flag: "schedule-jitter", usage: "random delay up to this `duration` before each scheduled sweep",
		set: func(c *Agent, v string) error { return setDuration(&c.Schedule.Jitter, v) },
		check: func(c *Agent) error {
			if c.Schedule.Jitter < 0 || c.Schedule.Jitter > time.Hour {
				return fmt.Errorf("must be between 0 and 1h, not %s", c.Schedule.Jitter)
			}
			return nil
		}},
	{name: "sweep_health_multiple", env: "SIRSI_SWEEP_HEALTH_MULTIPLE", flag: "sweep-health-multiple", usage: "a sweep that has not succeeded for this many runs of its schedule (`n`) makes /readyz fail and sirsi_agent_sweep_healthy 0",
		set: func(c *Agent, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			c.SweepHealthMultiple = n
			return nil
		}, check: func(c *Agent) error { return CheckSweepHealthMultiple(c.SweepHealthMultiple) }},
	{name: "cost_days", env: "SIRSI_COST_DAYS", flag: "cost-days", usage: "days of daily costs each pull asks for (`n`)",
		set: func(c *Agent, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 2 || n > 365 {
				return fmt.Errorf("%q is not a whole number of days between 2 and 365", v)
			}
			c.CostDays = n
			return nil
		}},
	{name: "cost_min_interval", env: "SIRSI_COST_MIN_INTERVAL", flag: "cost-min-interval", usage: "Cost Explorer is asked at most this often (`duration`; each call is billed)",
		set: func(c *Agent, v string) error { return setDuration(&c.CostMinInterval, v) },
		check: func(c *Agent) error {
			if c.CostMinInterval < time.Minute {
				return fmt.Errorf("must be at least 1m, not %s", c.CostMinInterval)
			}
			return nil
		}},
	{name: "cost_tag_keys", env: "SIRSI_COST_TAG_KEYS", flag: "cost-tag-keys", usage: "cost-allocation tag `keys` to group costs by (comma-separated)",
		set: func(c *Agent, v string) error { c.CostTagKeys = splitList(v); return nil }},
	{name: "spool_max_bytes", env: "SIRSI_SPOOL_MAX_BYTES", flag: "spool-max-bytes", usage: "spool size cap in `bytes`; beyond it the oldest utilisation data is dropped (never inventory)",
		set: func(c *Agent, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1<<20 {
				return fmt.Errorf("%q is not a byte count of at least 1048576", v)
			}
			c.SpoolMaxBytes = n
			return nil
		}},
	{name: "memory_limit", env: "SIRSI_MEMORY_LIMIT", flag: "memory-limit", usage: "Go soft memory `limit`, GOMEMLIMIT's syntax (120MiB, 1GiB) or off; GOMEMLIMIT in the environment wins",
		set: func(c *Agent, v string) error {
			n, err := parseMemoryLimit(v)
			if err != nil {
				return err
			}
			c.MemoryLimit = n
			return nil
		}},
}

// minMemoryLimit keeps a typo ("100KiB") from making the collector run
// back to back: below it the agent's working set alone exceeds the limit.
const minMemoryLimit = 32 << 20

// parseMemoryLimit reads GOMEMLIMIT's syntax (a byte count with an optional
// B, KiB, MiB, GiB or TiB suffix) or "off".
func parseMemoryLimit(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "off" {
		return 0, nil
	}
	num, shift := v, 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"B", 0}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a byte count such as 120MiB or 1GiB, or off", v)
	}
	if n<<shift < minMemoryLimit {
		return 0, fmt.Errorf("%q is below the minimum of 32MiB (use off for no limit)", v)
	}
	return n << shift, nil
}

func setVault(f func(*AgentVault) *string) func(*Agent, string) error {
	return func(c *Agent, v string) error { *f(&c.Vault) = v; return nil }
}

// checkCron accepts what the agent's scheduler parses: five fields or a
// descriptor such as @hourly or @every 15m.
func checkCron(spec string) error {
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("%q is not a cron schedule: %w", spec, err)
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
