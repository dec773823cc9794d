// Package config loads the daemon's server configuration from four layers,
// each overriding the one before: built-in defaults, an HCL file, SIRSI_*
// environment variables, and command-line flags.
//
// Every setting is described once, in the fields table, with its HCL name,
// environment variable and flag, so the three sources cannot drift apart, and
// every error names the setting and where its value came from (file:line,
// environment variable or flag), because "invalid address" alone does not
// tell an operator which of four places to fix.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Server is the configuration of `agentd server`; `agentd dev` uses it with
// different defaults.
type Server struct {
	// DataDir holds the SQLite database, the CA, generated certificates and
	// the first-start operator token file.
	DataDir string
	// DatabaseURL selects PostgreSQL (postgres://...); empty means SQLite in
	// DataDir.
	DatabaseURL string
	// GRPCListen is the ManagementService/AgentService address.
	GRPCListen string
	// HTTPListen serves /healthz, /readyz and, unless MetricsListen is set,
	// /metrics.
	HTTPListen string
	// MetricsListen, when set, moves /metrics to its own listener so it can
	// be exposed to a scraper without the health endpoints, or the reverse.
	MetricsListen string
	// PprofListen enables net/http/pprof on its own listener; empty is off,
	// because profiles reveal memory contents.
	PprofListen string
	TLS         TLS
	// Insecure serves gRPC in plaintext. It must be asked for explicitly.
	Insecure bool
	// ServerNames are extra DNS names or IP addresses for the certificate
	// the daemon issues itself when TLS.CertFile is not set.
	ServerNames []string
	LogLevel    string
	LogFormat   string
	// OperatorToken is the bootstrap credential; empty means the control
	// plane generates one on first start.
	OperatorToken string
	// OperatorTokenFile is read into OperatorToken by Load.
	OperatorTokenFile string
	AgentStaleAfter   time.Duration
	// WebhookAllowLoopback: see controlplane.Options.
	WebhookAllowLoopback bool
	// WebhookTimeout: see controlplane.Options.
	WebhookTimeout time.Duration
	// ListCacheBytes bounds the cache of encoded ListResources pages; 0
	// turns it off.
	ListCacheBytes int64
	// ShutdownTimeout bounds the drain of in-flight RPCs after SIGTERM.
	ShutdownTimeout time.Duration
	// TrustDomain is the SPIFFE trust domain of agent certificates.
	TrustDomain string
	// AgentListen is AgentService's mutual-TLS address; empty turns it
	// off. Left at its default while GRPCListen asks for port 0, it asks
	// for port 0 too.
	AgentListen string
	// AgentCertTTL is the lifetime of the client certificates agents get.
	AgentCertTTL time.Duration
	// AgentHeartbeatInterval is how often agents are told to call in.
	AgentHeartbeatInterval time.Duration
	// AuditCheckpointInterval is how often the server signs the audit
	// chain's head (one replica per interval on a shared database).
	AuditCheckpointInterval time.Duration
	// RateLimit are the per-minute call budgets; 0 is no limit.
	RateLimit RateLimit
	// Lockout is the brute-force protection for tokens.
	Lockout Lockout
	// Retention is how long tenants' data is kept unless a tenant says
	// otherwise, and how the pruner removes what is older.
	Retention Retention
	// Seal is how secrets are sealed at rest (the seal block).
	Seal Seal
	// Vault is the connection of the vault block, the same settings as
	// the agent's; the server only needs it for seal.backend = "vault",
	// so the AWS secrets engine settings do not apply.
	Vault AgentVault

	sources map[string]Source
}

// Seal is the seal block: which sealer keeps the CA key, tenant webhook
// secrets and cloud-account external ids sealed at rest.
type Seal struct {
	// Backend is "local" (AES-256-GCM with a key file) or "vault" (Vault
	// transit, connected through the vault block).
	Backend string
	// KeyFile is the local backend's key file; empty means
	// <data_dir>/seal.key.
	KeyFile string
	// TransitMount and TransitKey name the Vault transit key.
	TransitMount string
	TransitKey   string
}

// SealBackends are the accepted seal.backend values.
var SealBackends = []string{"local", "vault"}

// TLS names the server's certificate files.
type TLS struct {
	CertFile string
	KeyFile  string
	// ClientCAFile, when set, makes the server ask for and verify client
	// certificates signed by these authorities.
	ClientCAFile string
}

// Defaults returns the server defaults. DataDir has no default: a server
// must be told where its state lives.
func Defaults() Server {
	return Server{
		GRPCListen:      "127.0.0.1:7443",
		HTTPListen:      "127.0.0.1:7480",
		LogLevel:        "info",
		LogFormat:       "text",
		AgentStaleAfter: 10 * time.Minute,
		WebhookTimeout:  10 * time.Second,
		ShutdownTimeout: 30 * time.Second,
		TrustDomain:     "sirsi.local",

		ListCacheBytes:          64 << 20,
		AgentListen:             "127.0.0.1:7444",
		AgentCertTTL:            24 * time.Hour,
		AgentHeartbeatInterval:  30 * time.Second,
		AuditCheckpointInterval: time.Hour,

		Seal:  Seal{Backend: "local", TransitMount: "transit", TransitKey: "sirsi"},
		Vault: AgentVault{AppRoleMount: "approle"},

		RateLimit: RateLimit{ManagementPerMinute: 100, OperatorPerMinute: 600, AgentPerMinute: 600, UnauthenticatedPerMinute: 60, TenantPerMinute: 300, MaxAPITokensPerTenant: 50},
		Lockout:   Lockout{FailuresBeforeDelay: 10, FailuresBeforeBlock: 20, Window: 5 * time.Minute, BlockFor: 15 * time.Minute},
		// Audit entries are kept for ever unless a tenant (or the operator
		// here) says otherwise: they are the evidence of who did what, and
		// what an auditor may ask for years later is not ours to guess.
		Retention: Retention{UtilizationDays: 90, ActionDays: 365, AnomalyDays: 365, AuditDays: 0, Interval: time.Hour, BatchSize: 1000},
	}
}

// RateLimit is the rate_limit block: calls per minute per API token (a
// tenant's rate_limit_per_minute overrides it), for the operator token,
// per agent, and per source address without valid credentials. Replicas
// on one PostgreSQL share the budgets (docs/security.md, "Limits across
// replicas"); with SQLite they are the one process's.
type RateLimit struct {
	ManagementPerMinute      int
	OperatorPerMinute        int
	AgentPerMinute           int
	UnauthenticatedPerMinute int
	// TenantPerMinute is a tenant's budget over all its API tokens.
	TenantPerMinute int
	// MaxAPITokensPerTenant caps a tenant's live API tokens.
	MaxAPITokensPerTenant int
}

// Retention is the retention block: the days a tenant's utilisation
// summaries, finished actions, cost anomalies and audit events are kept
// when the tenant sets no *_retention_days of its own (0 keeps them for
// ever), how often the pruner runs, and how many rows it deletes per
// transaction.
type Retention struct {
	UtilizationDays int
	ActionDays      int
	AnomalyDays     int
	AuditDays       int
	Interval        time.Duration
	BatchSize       int
}

// Lockout is the lockout block: after FailuresBeforeDelay refused tokens
// from one address within Window each call from it is slowed by a
// second, after FailuresBeforeBlock it is refused for BlockFor.
// FailuresBeforeBlock 0 turns the protection off.
type Lockout struct {
	FailuresBeforeDelay int
	FailuresBeforeBlock int
	Window              time.Duration
	BlockFor            time.Duration
}

// Deprecations are warnings about deprecated names the configuration was
// given in, for the daemon to log.
func (c *Server) Deprecations() []string { return deprecations(fields, c.sources) }

func deprecations[T any](table []*field[T], sources map[string]Source) []string {
	var out []string
	for _, f := range table {
		if src := sources[f.name]; f.deprecatedEnv != "" && src.Kind == FromEnv && src.Name == f.deprecatedEnv {
			out = append(out, fmt.Sprintf("environment variable %s is deprecated: set %s instead (same meaning)", f.deprecatedEnv, f.env))
		}
	}
	return out
}

// SourceOf says where the value of a setting (by its HCL name, e.g.
// "log_level" or "tls.cert_file") came from.
func (c *Server) SourceOf(name string) Source { return sourceOf(c.sources, name) }

// SourceKind is one of the four layers.
type SourceKind int

const (
	FromDefault SourceKind = iota
	FromFile
	FromEnv
	FromFlag
)

// Source is where one value came from.
type Source struct {
	Kind SourceKind
	// Name is "file.hcl:12", "SIRSI_LOG_LEVEL" or "-log-level".
	Name string
}

func (s Source) String() string {
	switch s.Kind {
	case FromFile:
		return "file " + s.Name
	case FromEnv:
		return "environment variable " + s.Name
	case FromFlag:
		return "flag " + s.Name
	default:
		return "default"
	}
}

// Loader merges the layers. The zero value loads the defaults only.
type Loader struct {
	Defaults Server
	// File is an HCL configuration file; empty means none.
	File string
	// Env looks environment variables up; nil means none (os.LookupEnv in
	// the daemon).
	Env func(string) (string, bool)
	// Flags are the command-line flags that were bound and parsed.
	Flags *Flags[*Server]
}

// Load merges defaults < file < environment < flags, validates the result
// and reads OperatorTokenFile. All problems are reported together.
func (l Loader) Load() (*Server, error) {
	c := l.Defaults
	c.ServerNames = append([]string(nil), l.Defaults.ServerNames...)
	c.sources = map[string]Source{}
	if err := merge(&c, fields, l.File, l.Env, l.Flags); err != nil {
		return nil, err
	}
	c.followEphemeralPort()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := c.readTokenFile(); err != nil {
		return nil, err
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

// followEphemeralPort moves a default agent_listen to port 0 when
// grpc_listen is on port 0, so instances started on ephemeral ports (tests,
// several dev servers side by side) do not fight over the fixed agent
// port.
func (c *Server) followEphemeralPort() {
	if c.SourceOf("agent_listen").Kind != FromDefault || c.AgentListen == "" {
		return
	}
	_, port, err := net.SplitHostPort(c.GRPCListen)
	if err != nil || port != "0" {
		return
	}
	if host, _, err := net.SplitHostPort(c.AgentListen); err == nil {
		c.AgentListen = net.JoinHostPort(host, "0")
	}
}

// sourced is a configuration that remembers where each value came from.
type sourced interface {
	sourceMap() map[string]Source
}

func (c *Server) sourceMap() map[string]Source { return c.sources }

// merge applies file < environment < flags onto c, which holds the
// defaults, reporting every problem at once.
func merge[T sourced](c T, table []*field[T], file string, env func(string) (string, bool), flags *Flags[T]) error {
	var errs []error
	if file != "" {
		errs = append(errs, applyFile(c, table, file)...)
	}
	if env != nil {
		for _, f := range table {
			name := f.env
			v, ok := env(name)
			if (!ok || v == "") && f.deprecatedEnv != "" {
				name = f.deprecatedEnv
				v, ok = env(name)
			}
			// An empty variable counts as unset, so templated environments
			// can leave a setting blank without overriding the file.
			if !ok || v == "" {
				continue
			}
			errs = append(errs, apply(c, f, v, Source{Kind: FromEnv, Name: name}))
		}
	}
	for _, b := range flags.set() {
		errs = append(errs, apply(c, b.field, b.value.raw, Source{Kind: FromFlag, Name: "-" + b.name}))
	}
	return errors.Join(errs...)
}

func apply[T sourced](c T, f *field[T], raw string, src Source) error {
	if err := f.set(c, raw); err != nil {
		return fmt.Errorf("%s: %w (from %s)", f.name, err, src)
	}
	c.sourceMap()[f.name] = src
	return nil
}

// checkAll runs every setting's check, naming the setting and its source.
func checkAll[T sourced](c T, table []*field[T]) []error {
	var errs []error
	for _, f := range table {
		if f.check == nil {
			continue
		}
		if err := f.check(c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w (from %s)", f.name, err, sourceOf(c.sourceMap(), f.name)))
		}
	}
	return errs
}

func sourceOf(m map[string]Source, name string) Source {
	if s, ok := m[name]; ok {
		return s
	}
	return Source{Kind: FromDefault}
}

func (c *Server) fieldErr(name string, err error) error {
	return fmt.Errorf("%s: %w (from %s)", name, err, c.SourceOf(name))
}

func (c *Server) validate() error {
	errs := checkAll(c, fields)
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		missing, given := "tls.key_file", "tls.cert_file"
		if c.TLS.CertFile == "" {
			missing, given = given, missing
		}
		errs = append(errs, c.fieldErr(given, fmt.Errorf("needs %s as well", missing)))
	}
	if c.Insecure && c.TLS.CertFile != "" {
		errs = append(errs, c.fieldErr("insecure", errors.New("cannot be combined with tls.cert_file: choose plaintext or TLS")))
	}
	if c.Insecure && c.TLS.ClientCAFile != "" {
		errs = append(errs, c.fieldErr("insecure", errors.New("cannot be combined with tls.client_ca_file: client certificates need TLS")))
	}
	if c.OperatorToken != "" && c.OperatorTokenFile != "" {
		errs = append(errs, c.fieldErr("operator_token_file", errors.New("cannot be combined with operator_token: give the token one way")))
	}
	errs = append(errs, c.validateSeal()...)
	return errors.Join(errs...)
}

// validateSeal checks the seal and vault blocks together: each backend's
// settings only with that backend, and a Vault connection with exactly one
// way to log in.
func (c *Server) validateSeal() []error {
	var errs []error
	v := c.Vault
	switch c.Seal.Backend {
	case "vault":
		if v.Address == "" {
			errs = append(errs, c.fieldErr("seal.backend", errors.New(`"vault" needs vault.address (and vault.token or vault.approle_role_id/approle_secret_id)`)))
		}
		if c.Seal.KeyFile != "" {
			errs = append(errs, c.fieldErr("seal.key_file", errors.New(`only applies to seal.backend = "local"`)))
		}
	case "local":
		for _, name := range []string{"seal.transit_mount", "seal.transit_key"} {
			if c.SourceOf(name).Kind != FromDefault {
				errs = append(errs, c.fieldErr(name, errors.New(`only applies to seal.backend = "vault"`)))
			}
		}
	}
	appRole := v.AppRoleID != "" || v.AppRoleSecretID != ""
	switch {
	case v.Address == "" && (v.Token != "" || appRole || v.Namespace != "" || v.CACertFile != ""):
		errs = append(errs, c.fieldErr("vault.address", errors.New("required when any other vault setting is given")))
	case v.Address == "":
	case v.Token != "" && appRole:
		errs = append(errs, c.fieldErr("vault.token", errors.New("cannot be combined with vault.approle_role_id/approle_secret_id: choose one way to log in")))
	case v.Token == "" && !appRole:
		errs = append(errs, c.fieldErr("vault.address", errors.New("needs vault.token, or vault.approle_role_id and vault.approle_secret_id")))
	case appRole && (v.AppRoleID == "" || v.AppRoleSecretID == ""):
		errs = append(errs, c.fieldErr("vault.approle_role_id", errors.New("vault.approle_role_id and vault.approle_secret_id go together")))
	}
	return errs
}

// MinTokenLength keeps operator tokens out of guessing range.
const MinTokenLength = 16

func (c *Server) readTokenFile() error {
	if c.OperatorTokenFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.OperatorTokenFile)
	if err != nil {
		return c.fieldErr("operator_token_file", fmt.Errorf("reading the token: %w", err))
	}
	tok := strings.TrimSpace(string(b))
	if err := checkToken(tok); err != nil {
		return c.fieldErr("operator_token_file", fmt.Errorf("file content: %w", err))
	}
	c.OperatorToken = tok
	return nil
}

func checkToken(tok string) error {
	if len(tok) < MinTokenLength {
		return fmt.Errorf("must be at least %d characters", MinTokenLength)
	}
	for _, r := range tok {
		if r <= ' ' || r > '~' {
			return errors.New("must be printable ASCII without spaces")
		}
	}
	return nil
}
