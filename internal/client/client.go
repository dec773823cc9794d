package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/tracing"
)

// DefaultRetryTimeout bounds how long one call keeps retrying transient
// failures when Config.RetryTimeout is zero.
const DefaultRetryTimeout = time.Minute

// Config is everything needed to reach the control plane.
type Config struct {
	// Endpoint is "https://host:port" (TLS), "http://host:port" (plaintext,
	// for loopback development) or a bare "host:port" (TLS).
	Endpoint string
	// Token is sent as "authorization: Bearer <token>" on every call.
	Token string
	// CACertPEM and CACertFile add certificate authorities to the system
	// pool; both may be set.
	CACertPEM  string
	CACertFile string
	// TenantID is the default tenant for tenant-scoped objects.
	TenantID  string
	UserAgent string
	// Insecure skips verification of the server certificate.
	Insecure bool
	// RetryTimeout bounds the retries of one call; zero means
	// DefaultRetryTimeout.
	RetryTimeout time.Duration
}

// Client holds the connection and the ManagementService stub.
type Client struct {
	Management      sirsiv1.ManagementServiceClient
	DefaultTenantID string

	conn *grpc.ClientConn
}

// New validates cfg and prepares a connection. The connection is made on the
// first call, so callers check reachability and the token with a cheap call
// such as GetIdentity.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("creating the control plane client: %w", err)
	}
	target, useTLS, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("token: must not be empty")
	}
	if strings.ContainsAny(cfg.Token, "\r\n") {
		return nil, errors.New("token: must not contain line breaks")
	}
	var creds credentials.TransportCredentials
	if useTLS {
		tlsCfg, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(tlsCfg)
	} else {
		creds = insecure.NewCredentials()
	}
	retryTimeout := cfg.RetryTimeout
	if retryTimeout <= 0 {
		retryTimeout = DefaultRetryTimeout
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		tracing.DialOption(),
		// The retry interceptor runs outermost so every attempt carries the
		// token again.
		grpc.WithChainUnaryInterceptor(
			retryInterceptor(retryTimeout, newBackoff),
			bearerInterceptor(cfg.Token),
		),
	}
	if cfg.UserAgent != "" {
		opts = append(opts, grpc.WithUserAgent(cfg.UserAgent))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: creating the gRPC connection: %w", cfg.Endpoint, err)
	}
	return &Client{
		Management:      sirsiv1.NewManagementServiceClient(conn),
		DefaultTenantID: cfg.TenantID,
		conn:            conn,
	}, nil
}

// Close releases the connection.
func (c *Client) Close() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("closing the control plane connection: %w", err)
	}
	return nil
}

// ErrNoTenant is returned by TenantID when neither the object nor the
// provider names a tenant.
var ErrNoTenant = errors.New("tenant_id is not set on the resource and the provider has no tenant_id (SIRSI_TENANT_ID)")

// TenantID returns explicit if set, else the provider's default tenant.
func (c *Client) TenantID(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if c.DefaultTenantID != "" {
		return c.DefaultTenantID, nil
	}
	return "", ErrNoTenant
}

// parseEndpoint returns the gRPC target and whether to use TLS.
func parseEndpoint(endpoint string) (string, bool, error) {
	endpoint = strings.TrimSpace(endpoint)
	if endpoint == "" {
		return "", false, errors.New("endpoint: must not be empty")
	}
	useTLS := true
	hostport := endpoint
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return "", false, fmt.Errorf("endpoint %q: %w", endpoint, err)
		}
		switch u.Scheme {
		case "https":
		case "http":
			useTLS = false
		default:
			return "", false, fmt.Errorf("endpoint %q: scheme must be https or http, not %q", endpoint, u.Scheme)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
			return "", false, fmt.Errorf("endpoint %q: must be scheme://host:port without user, path or query", endpoint)
		}
		hostport = u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", false, fmt.Errorf("endpoint %q: must be host:port: %w", endpoint, err)
	}
	if host == "" || port == "" {
		return "", false, fmt.Errorf("endpoint %q: host and port must not be empty", endpoint)
	}
	return "dns:///" + net.JoinHostPort(host, port), useTLS, nil
}

func tlsConfig(cfg Config) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if cfg.CACertPEM != "" {
		if !pool.AppendCertsFromPEM([]byte(cfg.CACertPEM)) {
			return nil, errors.New("ca_cert_pem: no PEM-encoded certificate found")
		}
	}
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("ca_cert_file: reading %q: %w", cfg.CACertFile, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_cert_file: no PEM-encoded certificate found in %q", cfg.CACertFile)
		}
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    pool,
		// Only when the user asked for it explicitly (insecure = true).
		InsecureSkipVerify: cfg.Insecure, //nolint:gosec
	}, nil
}
