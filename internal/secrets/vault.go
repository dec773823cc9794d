// Package secrets holds SirsiNexus's Vault client: login (token or AppRole),
// keeping the token alive, leased AWS credentials from Vault's AWS secrets
// engine as an aws.CredentialsProvider, and KV v2 reads and writes. It also
// holds Sealer, which seals secrets at rest, with two implementations: a
// local AES-256-GCM key file and Vault's transit engine.
//
// It is tested against vaulttest, an HTTP double of the Vault endpoints it
// calls; TestRealVault runs the same checks against a real Vault when one is
// configured.
package secrets

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/vault/api"
)

const (
	defaultAppRoleMount = "approle"
	defaultTimeout      = 30 * time.Second
)

// VaultConfig says where Vault is and how to log in. Exactly one auth
// method is set: Token, or AppRoleID with AppRoleSecretID.
//
// Only these fields count: the VAULT_* environment variables vault/api
// reads are deliberately ignored, so a stray VAULT_TOKEN or
// VAULT_SKIP_VERIFY cannot change what an agent does (a malformed one
// still makes vault/api refuse to build a client).
type VaultConfig struct {
	// Address is Vault's http(s) URL, such as https://vault.internal:8200.
	Address string
	// Namespace, when set, is sent as X-Vault-Namespace (Vault Enterprise).
	Namespace string
	// CACertFile is a PEM file of CAs to trust for Address instead of the
	// system roots.
	CACertFile string
	// Token logs in with an existing token.
	Token string
	// AppRoleID and AppRoleSecretID log in with AppRole.
	AppRoleID, AppRoleSecretID string
	// AppRoleMount is where the AppRole auth method is mounted; "approle"
	// when empty.
	AppRoleMount string
	// Timeout bounds each request to Vault; 30s when zero.
	Timeout time.Duration
}

// Validate reports the first field that is wrong, and why.
func (c VaultConfig) Validate() error {
	if c.Address == "" {
		return errors.New("vault config: Address is required")
	}
	u, err := url.Parse(c.Address)
	if err != nil {
		return fmt.Errorf("vault config: Address %q is not a URL: %w", c.Address, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("vault config: Address %q must be an http:// or https:// URL with a host", c.Address)
	}
	appRole := c.AppRoleID != "" || c.AppRoleSecretID != ""
	switch {
	case c.Token != "" && appRole:
		return errors.New("vault config: set either Token or AppRoleID/AppRoleSecretID, not both")
	case c.Token == "" && !appRole:
		return errors.New("vault config: no auth method: set Token, or AppRoleID and AppRoleSecretID")
	case appRole && c.AppRoleID == "":
		return errors.New("vault config: AppRoleID is required with AppRoleSecretID")
	case appRole && c.AppRoleSecretID == "":
		return errors.New("vault config: AppRoleSecretID is required with AppRoleID")
	}
	if strings.Contains(strings.Trim(c.AppRoleMount, "/"), "//") {
		return fmt.Errorf("vault config: AppRoleMount %q has an empty path segment", c.AppRoleMount)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("vault config: Timeout %s must not be negative", c.Timeout)
	}
	return nil
}

// clock is the time source for renewal; tests pass the Vault double, whose
// clock only moves when told to.
type clock interface {
	Now() time.Time
	// At returns a channel that receives once the clock reaches t.
	At(t time.Time) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }

// Vault is a logged-in Vault client. Run keeps its token alive; its
// methods are safe for concurrent use.
type Vault struct {
	client *api.Client
	// login is a clone of client without a token: an expired token on a
	// login request must not get in its way.
	login *api.Client
	cfg   VaultConfig
	log   hclog.Logger
	clock clock
	// tok is the token's lease as last seen; only NewVaultClient and Run
	// touch it.
	tok tokenLease
}

// NewVaultClient builds a client for cfg and logs in: with a token it looks
// the token up to learn its TTL, with AppRole it logs in for a new one. A
// nil log discards the client's logs.
func NewVaultClient(ctx context.Context, cfg VaultConfig, log hclog.Logger) (*Vault, error) {
	return newVaultClient(ctx, cfg, log, wallClock{})
}

func newVaultClient(ctx context.Context, cfg VaultConfig, log hclog.Logger, clk clock) (*Vault, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	cfg.AppRoleMount = strings.Trim(cfg.AppRoleMount, "/")
	if cfg.AppRoleMount == "" {
		cfg.AppRoleMount = defaultAppRoleMount
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	client, err := newAPIClient(cfg)
	if err != nil {
		return nil, err
	}
	login, err := client.CloneWithHeaders()
	if err != nil {
		return nil, fmt.Errorf("cloning the vault client for logins: %w", err)
	}
	login.ClearToken()
	v := &Vault{client: client, login: login, cfg: cfg, log: log.Named("vault"), clock: clk}
	if cfg.Token != "" {
		client.SetToken(cfg.Token)
		if err := v.lookupSelf(ctx); err != nil {
			return nil, err
		}
	} else if err := v.appRoleLogin(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// newAPIClient builds the vault/api client from cfg alone, without the
// environment DefaultConfig reads.
func newAPIClient(cfg VaultConfig) (*api.Client, error) {
	httpClient := cleanhttp.DefaultPooledClient()
	transport := httpClient.Transport.(*http.Transport)
	transport.TLSHandshakeTimeout = 10 * time.Second
	transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	// vault/api follows Vault's redirects (standby to active node) itself.
	httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	conf := &api.Config{
		Address:      cfg.Address,
		HttpClient:   httpClient,
		Timeout:      cfg.Timeout,
		MinRetryWait: time.Second,
		MaxRetryWait: 1500 * time.Millisecond,
		MaxRetries:   2,
		Backoff:      retryablehttp.RateLimitLinearJitterBackoff,
	}
	if cfg.CACertFile != "" {
		if err := conf.ConfigureTLS(&api.TLSConfig{CACert: cfg.CACertFile}); err != nil {
			return nil, fmt.Errorf("vault config: CACertFile %q: %w", cfg.CACertFile, err)
		}
	}
	client, err := api.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("creating the vault client for %s: %w", cfg.Address, err)
	}
	// NewClient picks these up from the environment; the config decides.
	client.ClearToken()
	client.ClearNamespace()
	if cfg.Namespace != "" {
		client.SetNamespace(cfg.Namespace)
	}
	return client, nil
}

// APIError is an error answer from Vault, kept to one line for logs; the
// vault/api error it came from is reachable with errors.As.
type APIError struct {
	StatusCode int
	Errors     []string
	err        *api.ResponseError
}

func (e *APIError) Error() string {
	if len(e.Errors) == 0 {
		return fmt.Sprintf("vault answered %d", e.StatusCode)
	}
	return fmt.Sprintf("vault answered %d: %s", e.StatusCode, strings.Join(e.Errors, "; "))
}

func (e *APIError) Unwrap() error { return e.err }

// apiError turns vault/api's multi-line response errors into APIError and
// leaves other errors (network, decoding) as they are.
func apiError(err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return &APIError{StatusCode: re.StatusCode, Errors: re.Errors, err: re}
	}
	return err
}

// refused reports whether Vault said no for good (bad request, permission
// denied, not found) rather than failing for now (5xx, network, rate
// limits, a standby not yet caught up).
func refused(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.StatusCode {
	case http.StatusPreconditionFailed, http.StatusTooManyRequests:
		return false
	}
	return ae.StatusCode >= 400 && ae.StatusCode < 500
}
