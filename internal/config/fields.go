package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/validation"
)

// field is one setting in all its spellings. set parses a raw value (the
// same text whatever the source); check validates the merged result.
type field[T any] struct {
	name string // HCL attribute; "block.attr" inside a block
	env  string
	// deprecatedEnv is a former name of env, still read when env is unset
	// (Deprecations reports its use).
	deprecatedEnv string
	flag          string
	boolean       bool
	usage         string
	set           func(c T, v string) error
	check         func(c T) error
}

// fields are the settings of agentd server and agentd dev.
var fields = []*field[*Server]{
	{
		name: "data_dir", env: "SIRSI_DATA_DIR", flag: "data-dir",
		usage: "`directory` for the SQLite database, CA and generated files",
		set:   func(c *Server, v string) error { c.DataDir = v; return nil },
	},
	{
		name: "database_url", env: "SIRSI_DATABASE_URL", flag: "database-url",
		usage: "PostgreSQL `URL` (postgres://...); empty uses SQLite in the data dir",
		set:   func(c *Server, v string) error { c.DatabaseURL = v; return nil },
		check: func(c *Server) error { return checkDatabaseURL(c.DatabaseURL) },
	},
	{
		name: "grpc_listen", env: "SIRSI_GRPC_LISTEN", flag: "listen",
		usage: "`host:port` of the gRPC API",
		set:   func(c *Server, v string) error { c.GRPCListen = v; return nil },
		check: func(c *Server) error { return checkListen(c.GRPCListen, true) },
	},
	{
		name: "http_listen", env: "SIRSI_HTTP_LISTEN", flag: "http-listen",
		usage: "`host:port` of /healthz, /readyz and /metrics",
		set:   func(c *Server, v string) error { c.HTTPListen = v; return nil },
		check: func(c *Server) error { return checkListen(c.HTTPListen, true) },
	},
	{
		name: "metrics_listen", env: "SIRSI_METRICS_LISTEN", flag: "metrics-listen",
		usage: "`host:port` of a separate /metrics listener (default: on the HTTP listener)",
		set:   func(c *Server, v string) error { c.MetricsListen = v; return nil },
		check: func(c *Server) error { return checkListen(c.MetricsListen, false) },
	},
	{
		name: "pprof_listen", env: "SIRSI_PPROF_LISTEN", flag: "pprof-listen",
		usage: "`host:port` of net/http/pprof (default: off)",
		set:   func(c *Server, v string) error { c.PprofListen = v; return nil },
		check: func(c *Server) error { return checkListen(c.PprofListen, false) },
	},
	{
		name: "tls.cert_file", env: "SIRSI_TLS_CERT_FILE", flag: "tls-cert-file",
		usage: "PEM server certificate `file` (default: issued by the CA in the data dir)",
		set:   func(c *Server, v string) error { c.TLS.CertFile = v; return nil },
		check: func(c *Server) error { return checkReadable(c.TLS.CertFile) },
	},
	{
		name: "tls.key_file", env: "SIRSI_TLS_KEY_FILE", flag: "tls-key-file",
		usage: "PEM private key `file` of the server certificate",
		set:   func(c *Server, v string) error { c.TLS.KeyFile = v; return nil },
		check: func(c *Server) error { return checkReadable(c.TLS.KeyFile) },
	},
	{
		name: "tls.client_ca_file", env: "SIRSI_TLS_CLIENT_CA_FILE", flag: "tls-client-ca-file",
		usage: "PEM `file` of the CAs whose client certificates are required and accepted",
		set:   func(c *Server, v string) error { c.TLS.ClientCAFile = v; return nil },
		check: func(c *Server) error { return checkReadable(c.TLS.ClientCAFile) },
	},
	{
		// SIRSI_INSECURE also meant "do not verify" to the provider; the
		// server's meaning got its own name.
		name: "insecure", env: "SIRSI_PLAINTEXT", deprecatedEnv: "SIRSI_INSECURE", flag: "insecure", boolean: true,
		usage: "serve gRPC without TLS (plaintext; for loopback testing only)",
		set: func(c *Server, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not a boolean (true or false)", v)
			}
			c.Insecure = b
			return nil
		},
	},
	{
		name: "server_names", env: "SIRSI_SERVER_NAMES", flag: "server-names",
		usage: "comma-separated extra DNS `names`/IPs for the generated server certificate",
		set: func(c *Server, v string) error {
			c.ServerNames = splitList(v)
			return nil
		},
		check: func(c *Server) error {
			for _, n := range c.ServerNames {
				if net.ParseIP(n) == nil && !validation.DNSName(n) {
					return fmt.Errorf("%q is neither an IP address nor a DNS name", n)
				}
			}
			return nil
		},
	},
	{
		name: "log_level", env: "SIRSI_LOG_LEVEL", flag: "log-level",
		usage: "`level`: trace, debug, info, warn or error",
		set:   func(c *Server, v string) error { c.LogLevel = strings.ToLower(v); return nil },
		check: func(c *Server) error { return oneOf(c.LogLevel, LogLevels) },
	},
	{
		name: "log_format", env: "SIRSI_LOG_FORMAT", flag: "log-format",
		usage: "`format`: text or json",
		set:   func(c *Server, v string) error { c.LogFormat = strings.ToLower(v); return nil },
		check: func(c *Server) error { return oneOf(c.LogFormat, []string{"text", "json"}) },
	},
	{
		name: "operator_token", env: "SIRSI_OPERATOR_TOKEN", flag: "operator-token",
		usage: "bootstrap operator `token` (visible in ps; prefer the file) (default: generated on first start into <data-dir>/operator-token)",
		set:   func(c *Server, v string) error { c.OperatorToken = v; return nil },
		check: func(c *Server) error {
			if c.OperatorToken == "" {
				return nil
			}
			return checkToken(c.OperatorToken)
		},
	},
	{
		name: "operator_token_file", env: "SIRSI_OPERATOR_TOKEN_FILE", flag: "operator-token-file",
		usage: "`file` holding the operator token",
		set:   func(c *Server, v string) error { c.OperatorTokenFile = v; return nil },
	},
	{
		name: "agent_stale_after", env: "SIRSI_AGENT_STALE_AFTER", flag: "agent-stale-after",
		usage: "`duration` of silence after which an agent is marked stale",
		set:   func(c *Server, v string) error { return setDuration(&c.AgentStaleAfter, v) },
		check: func(c *Server) error { return positive(c.AgentStaleAfter) },
	},
	{
		name: "webhook_allow_loopback", env: "SIRSI_WEBHOOK_ALLOW_LOOPBACK", flag: "webhook-allow-loopback", boolean: true,
		usage: "let webhook deliveries reach loopback, link-local and unspecified addresses (refused by default; for tests and single-machine setups)",
		set: func(c *Server, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not a boolean (true or false)", v)
			}
			c.WebhookAllowLoopback = b
			return nil
		},
	},
	{
		name: "webhook_timeout", env: "SIRSI_WEBHOOK_TIMEOUT", flag: "webhook-timeout",
		usage: "`duration` one webhook delivery attempt may take; a claimed event stays hidden from other replicas for 16 times this",
		set:   func(c *Server, v string) error { return setDuration(&c.WebhookTimeout, v) },
		check: func(c *Server) error { return positive(c.WebhookTimeout) },
	},
	{
		name: "list_cache_size", env: "SIRSI_LIST_CACHE_SIZE", flag: "list-cache-size",
		usage: "`bytes` of encoded ListResources pages kept per replica, GOMEMLIMIT's syntax (64MiB, 1GiB), or off",
		set: func(c *Server, v string) error {
			n, err := parseMemoryLimit(v)
			if err != nil {
				return err
			}
			c.ListCacheBytes = n
			return nil
		},
	},
	{
		name: "shutdown_timeout", env: "SIRSI_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout",
		usage: "`duration` SIGTERM waits for in-flight RPCs before cutting them",
		set:   func(c *Server, v string) error { return setDuration(&c.ShutdownTimeout, v) },
		check: func(c *Server) error { return positive(c.ShutdownTimeout) },
	},
	{
		name: "trust_domain", env: "SIRSI_TRUST_DOMAIN", flag: "trust-domain",
		usage: "SPIFFE trust `domain` of agent certificates",
		set:   func(c *Server, v string) error { c.TrustDomain = v; return nil },
		check: func(c *Server) error {
			if !validation.DNSName(c.TrustDomain) || strings.ToLower(c.TrustDomain) != c.TrustDomain {
				return fmt.Errorf("%q is not a lower-case DNS name", c.TrustDomain)
			}
			return nil
		},
	},
	{
		name: "agent_listen", env: "SIRSI_AGENT_LISTEN", flag: "agent-listen",
		usage: "`host:port` of AgentService for agents; always mutual TLS with the data dir CA, even with -insecure; empty turns it off",
		set:   func(c *Server, v string) error { c.AgentListen = v; return nil },
		check: func(c *Server) error { return checkListen(c.AgentListen, false) },
	},
	{
		name: "agent_cert_ttl", env: "SIRSI_AGENT_CERT_TTL", flag: "agent-cert-ttl",
		usage: "`duration` agent certificates are valid (10m..720h); agents renew before it ends",
		set:   func(c *Server, v string) error { return setDuration(&c.AgentCertTTL, v) },
		check: func(c *Server) error { return between(c.AgentCertTTL, MinAgentCertTTL, MaxAgentCertTTL) },
	},
	{
		name: "agent_heartbeat_interval", env: "SIRSI_AGENT_HEARTBEAT_INTERVAL", flag: "agent-heartbeat-interval",
		usage: "`duration` between agent heartbeats, as told to agents",
		set:   func(c *Server, v string) error { return setDuration(&c.AgentHeartbeatInterval, v) },
		check: func(c *Server) error { return positive(c.AgentHeartbeatInterval) },
	},
	{
		name: "audit_checkpoint_interval", env: "SIRSI_AUDIT_CHECKPOINT_INTERVAL", flag: "audit-checkpoint-interval",
		usage: "`duration` between signed checkpoints of the audit chain's head (1s..24h); one more is signed at shutdown",
		set:   func(c *Server, v string) error { return setDuration(&c.AuditCheckpointInterval, v) },
		check: func(c *Server) error { return between(c.AuditCheckpointInterval, time.Second, 24*time.Hour) },
	},
	{
		name: "seal.backend", env: "SIRSI_SEAL_BACKEND", flag: "seal-backend",
		usage: "`backend` sealing secrets at rest: local (key file) or vault (transit, via the vault settings)",
		set:   func(c *Server, v string) error { c.Seal.Backend = strings.ToLower(v); return nil },
		check: func(c *Server) error { return oneOf(c.Seal.Backend, SealBackends) },
	},
	{
		name: "seal.key_file", env: "SIRSI_SEAL_KEY_FILE", flag: "seal-key-file",
		usage: "seal key `file` of the local backend, created 0600 on first start (default <data-dir>/seal.key)",
		set:   func(c *Server, v string) error { c.Seal.KeyFile = v; return nil },
	},
	{
		name: "seal.transit_mount", env: "SIRSI_SEAL_TRANSIT_MOUNT", flag: "seal-transit-mount",
		usage: "Vault transit engine `mount` of the vault backend",
		set:   func(c *Server, v string) error { c.Seal.TransitMount = v; return nil },
		check: func(c *Server) error { return checkVaultName(c.Seal.TransitMount, true) },
	},
	{
		name: "seal.transit_key", env: "SIRSI_SEAL_TRANSIT_KEY", flag: "seal-transit-key",
		usage: "Vault transit key `name` of the vault backend",
		set:   func(c *Server, v string) error { c.Seal.TransitKey = v; return nil },
		check: func(c *Server) error { return checkVaultName(c.Seal.TransitKey, false) },
	},
	{
		name: "vault.address", env: "SIRSI_VAULT_ADDR", flag: "vault-address",
		usage: "Vault `URL`, for seal.backend = vault",
		set:   serverVault(func(v *AgentVault) *string { return &v.Address }),
		check: func(c *Server) error { return checkVaultAddress(c.Vault.Address) },
	},
	{
		name: "vault.namespace", env: "SIRSI_VAULT_NAMESPACE", flag: "vault-namespace", usage: "Vault `namespace`",
		set: serverVault(func(v *AgentVault) *string { return &v.Namespace }),
	},
	{
		name: "vault.ca_cert_file", env: "SIRSI_VAULT_CACERT", flag: "vault-ca-cert-file", usage: "CA certificate `file` for Vault's TLS",
		set:   serverVault(func(v *AgentVault) *string { return &v.CACertFile }),
		check: func(c *Server) error { return checkReadable(c.Vault.CACertFile) },
	},
	{
		name: "vault.token", env: "SIRSI_VAULT_TOKEN", flag: "vault-token", usage: "Vault `token` (or use AppRole)",
		set: serverVault(func(v *AgentVault) *string { return &v.Token }),
	},
	{
		name: "vault.approle_role_id", env: "SIRSI_VAULT_ROLE_ID", flag: "vault-approle-role-id", usage: "AppRole role `id`",
		set: serverVault(func(v *AgentVault) *string { return &v.AppRoleID }),
	},
	{
		name: "vault.approle_secret_id", env: "SIRSI_VAULT_SECRET_ID", flag: "vault-approle-secret-id", usage: "AppRole secret `id`",
		set: serverVault(func(v *AgentVault) *string { return &v.AppRoleSecretID }),
	},
	{
		name: "vault.approle_mount", env: "SIRSI_VAULT_APPROLE_MOUNT", flag: "vault-approle-mount", usage: "AppRole auth `mount`",
		set:   serverVault(func(v *AgentVault) *string { return &v.AppRoleMount }),
		check: func(c *Server) error { return checkVaultName(c.Vault.AppRoleMount, true) },
	},
	{
		name: "rate_limit.management_per_minute", env: "SIRSI_RATE_LIMIT_MANAGEMENT_PER_MINUTE", flag: "rate-limit-management-per-minute",
		usage: "ManagementService calls per minute per API token (`n`, 0 is no limit); a tenant's rate_limit_per_minute overrides it",
		set:   func(c *Server, v string) error { return setRate(&c.RateLimit.ManagementPerMinute, v) },
	},
	{
		name: "rate_limit.operator_per_minute", env: "SIRSI_RATE_LIMIT_OPERATOR_PER_MINUTE", flag: "rate-limit-operator-per-minute",
		usage: "calls per minute for the operator token (`n`, 0 is no limit)",
		set:   func(c *Server, v string) error { return setRate(&c.RateLimit.OperatorPerMinute, v) },
	},
	{
		name: "rate_limit.agent_per_minute", env: "SIRSI_RATE_LIMIT_AGENT_PER_MINUTE", flag: "rate-limit-agent-per-minute",
		usage: "AgentService calls per minute per agent (`n`, 0 is no limit)",
		set:   func(c *Server, v string) error { return setRate(&c.RateLimit.AgentPerMinute, v) },
	},
	{
		name: "rate_limit.unauthenticated_per_minute", env: "SIRSI_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE", flag: "rate-limit-unauthenticated-per-minute",
		usage: "failed authentications and enrollments per minute per source address (`n`, 0 is no limit)",
		set:   func(c *Server, v string) error { return setRate(&c.RateLimit.UnauthenticatedPerMinute, v) },
	},
	{
		name: "rate_limit.tenant_per_minute", env: "SIRSI_RATE_LIMIT_TENANT_PER_MINUTE", flag: "rate-limit-tenant-per-minute",
		usage: "ManagementService calls per minute per tenant over all its API tokens (`n`, 0 is no limit); a tenant's higher rate_limit_per_minute raises it",
		set:   func(c *Server, v string) error { return setRate(&c.RateLimit.TenantPerMinute, v) },
	},
	{
		name: "rate_limit.max_api_tokens_per_tenant", env: "SIRSI_RATE_LIMIT_MAX_API_TOKENS_PER_TENANT", flag: "rate-limit-max-api-tokens-per-tenant",
		usage: "live (unexpired) API tokens a tenant may hold (`n`, 0 is no cap)",
		set:   func(c *Server, v string) error { return setCount(&c.RateLimit.MaxAPITokensPerTenant, v) },
	},
	{
		name: "lockout.failures_before_delay", env: "SIRSI_LOCKOUT_FAILURES_BEFORE_DELAY", flag: "lockout-failures-before-delay",
		usage: "refused tokens from one address within the window after which each of its calls waits a second (`n`)",
		set:   func(c *Server, v string) error { return setCount(&c.Lockout.FailuresBeforeDelay, v) },
		check: func(c *Server) error {
			if c.Lockout.FailuresBeforeBlock > 0 && c.Lockout.FailuresBeforeDelay < 1 {
				return errors.New("must be at least 1 while the lockout is on")
			}
			if c.Lockout.FailuresBeforeBlock > 0 && c.Lockout.FailuresBeforeDelay > c.Lockout.FailuresBeforeBlock {
				return fmt.Errorf("must not exceed lockout.failures_before_block (%d), is %d", c.Lockout.FailuresBeforeBlock, c.Lockout.FailuresBeforeDelay)
			}
			return nil
		},
	},
	{
		name: "lockout.failures_before_block", env: "SIRSI_LOCKOUT_FAILURES_BEFORE_BLOCK", flag: "lockout-failures-before-block",
		usage: "refused tokens from one address within the window after which it is blocked (`n`, 0 turns the lockout off)",
		set:   func(c *Server, v string) error { return setCount(&c.Lockout.FailuresBeforeBlock, v) },
	},
	{
		name: "lockout.window", env: "SIRSI_LOCKOUT_WINDOW", flag: "lockout-window",
		usage: "`duration` over which refused tokens are counted",
		set:   func(c *Server, v string) error { return setDuration(&c.Lockout.Window, v) },
		check: func(c *Server) error { return positive(c.Lockout.Window) },
	},
	{
		name: "lockout.block_for", env: "SIRSI_LOCKOUT_BLOCK_FOR", flag: "lockout-block-for",
		usage: "`duration` a blocked address stays blocked",
		set:   func(c *Server, v string) error { return setDuration(&c.Lockout.BlockFor, v) },
		check: func(c *Server) error { return positive(c.Lockout.BlockFor) },
	},
	{
		name: "retention.utilization_days", env: "SIRSI_RETENTION_UTILIZATION_DAYS", flag: "retention-utilization-days",
		usage: "`days` a tenant's utilisation summaries are kept after their window ends, unless the tenant sets utilization_retention_days (0 keeps them for ever)",
		set:   func(c *Server, v string) error { return setDays(&c.Retention.UtilizationDays, v) },
	},
	{
		name: "retention.action_days", env: "SIRSI_RETENTION_ACTION_DAYS", flag: "retention-action-days",
		usage: "`days` a tenant's finished actions are kept, unless the tenant sets action_retention_days (0 keeps them for ever)",
		set:   func(c *Server, v string) error { return setDays(&c.Retention.ActionDays, v) },
	},
	{
		name: "retention.anomaly_days", env: "SIRSI_RETENTION_ANOMALY_DAYS", flag: "retention-anomaly-days",
		usage: "`days` a tenant's cost anomalies are kept, unless the tenant sets anomaly_retention_days (0 keeps them for ever)",
		set:   func(c *Server, v string) error { return setDays(&c.Retention.AnomalyDays, v) },
	},
	{
		name: "retention.audit_days", env: "SIRSI_RETENTION_AUDIT_DAYS", flag: "retention-audit-days",
		usage: "`days` a tenant's audit events are kept, unless the tenant sets audit_retention_days (0, the default, keeps them for ever)",
		set:   func(c *Server, v string) error { return setDays(&c.Retention.AuditDays, v) },
	},
	{
		name: "retention.interval", env: "SIRSI_RETENTION_INTERVAL", flag: "retention-interval",
		usage: "`duration` between runs of the retention pruner",
		set:   func(c *Server, v string) error { return setDuration(&c.Retention.Interval, v) },
		check: func(c *Server) error { return between(c.Retention.Interval, time.Minute, 7*24*time.Hour) },
	},
	{
		name: "retention.batch_size", env: "SIRSI_RETENTION_BATCH_SIZE", flag: "retention-batch-size",
		usage: "rows the retention pruner deletes per transaction (`n`, 1..10000), so no delete holds a lock for long",
		set:   func(c *Server, v string) error { return setCount(&c.Retention.BatchSize, v) },
		check: func(c *Server) error {
			if c.Retention.BatchSize < 1 {
				return errors.New("must be at least 1")
			}
			return nil
		},
	},
}

func setDays(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err == nil {
		err = validation.RetentionDays(int64(n))
	}
	if err != nil {
		return fmt.Errorf("%q is not a whole number of days from 0 (keep for ever) to %d", v, validation.MaxRetentionDays)
	}
	*dst = n
	return nil
}

// MaxRatePerMinute bounds the rate_limit settings, as the API bounds a
// tenant's rate_limit_per_minute.
const MaxRatePerMinute = validation.MaxRatePerMinute

func setRate(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > MaxRatePerMinute {
		return fmt.Errorf("%q is not a whole number of calls per minute from 0 to %d", v, MaxRatePerMinute)
	}
	*dst = n
	return nil
}

func setCount(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 10000 {
		return fmt.Errorf("%q is not a whole number from 0 to 10000", v)
	}
	*dst = n
	return nil
}

// Bounds of agent_cert_ttl: short enough that a stolen certificate dies
// soon, long enough that an agent can ride out a control plane outage.
const (
	MinAgentCertTTL = 10 * time.Minute
	MaxAgentCertTTL = 30 * 24 * time.Hour
)

func between(d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return fmt.Errorf("must be between %s and %s, not %s", lo, hi, d)
	}
	return nil
}

// LogLevels are the accepted log_level values, most verbose first.
var LogLevels = []string{"trace", "debug", "info", "warn", "error"}

func fieldByName[T any](table []*field[T], name string) *field[T] {
	for _, f := range table {
		if f.name == name {
			return f
		}
	}
	return nil
}

func oneOf(v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

func setDuration(d *time.Duration, v string) error {
	p, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 10m", v)
	}
	*d = p
	return nil
}

func positive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("must be positive, not %s", d)
	}
	return nil
}

func checkListen(addr string, required bool) error {
	if addr == "" {
		if required {
			return errors.New("must not be empty")
		}
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if host != "" && net.ParseIP(host) == nil && !validation.DNSName(host) {
		return fmt.Errorf("%q: host %q is neither an IP address nor a DNS name", addr, host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// checkDatabaseURL never echoes the URL: it usually carries a password.
func checkDatabaseURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a URL (postgres://user:password@host:port/db)")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme must be postgres or postgresql, not %q", u.Scheme)
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return errors.New("names no host")
	}
	return nil
}

func checkReadable(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot be read: %w", err)
	}
	return f.Close()
}

func serverVault(f func(*AgentVault) *string) func(*Server, string) error {
	return func(c *Server, v string) error { *f(&c.Vault) = v; return nil }
}

// checkVaultAddress never echoes more than the scheme: a URL may carry
// credentials.
func checkVaultAddress(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a URL (https://vault.example.com:8200)")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http:// or https:// URL with a host, not scheme %q", u.Scheme)
	}
	return nil
}

// vaultName is a mount path (segments separated by /) or a key name.
var vaultName = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)

func checkVaultName(v string, path bool) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	if !vaultName.MatchString(v) || (!path && strings.Contains(v, "/")) {
		what := "letters, digits, '.', '_' and '-'"
		if path {
			what += ", in segments separated by '/'"
		}
		return fmt.Errorf("%q must be %s", v, what)
	}
	return nil
}
