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
)

// field is one setting in all its spellings. set parses a raw value (the
// same text whatever the source); check validates the merged result.
type field[T any] struct {
	name    string // HCL attribute; "block.attr" inside a block
	env     string
	flag    string
	boolean bool
	usage   string
	set     func(c T, v string) error
	check   func(c T) error
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
		name: "insecure", env: "SIRSI_INSECURE", flag: "insecure", boolean: true,
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
				if net.ParseIP(n) == nil && !dnsName.MatchString(n) {
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
			if !dnsName.MatchString(c.TrustDomain) || strings.ToLower(c.TrustDomain) != c.TrustDomain {
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

var dnsName = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

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
	if host != "" && net.ParseIP(host) == nil && !dnsName.MatchString(host) {
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
