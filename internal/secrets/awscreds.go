package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const defaultAWSMount = "aws"

// VaultAWSCredentials is an aws.CredentialsProvider backed by a role of
// Vault's AWS secrets engine. It holds one lease at a time:
//
//   - for the first two thirds of the lease it returns the credentials it
//     has without asking Vault;
//   - after that it renews the lease (sys/leases/renew), keeping the same
//     keys, while the lease is renewable and not near its max TTL;
//   - when renewal is refused, the lease has expired, or a renewal came back
//     shorter than asked (the max TTL is near), it reads new credentials.
//
// Wrap it in aws.NewCredentialsCache with an ExpiryWindow of at most a
// third of the role's lease TTL: Expires is the lease's real end, so the
// cache comes back for renewal ExpiryWindow before it. It is safe for
// concurrent use and never logs keys, tokens or lease ids.
type VaultAWSCredentials struct {
	v    *Vault
	path string
	// sem serialises Retrieve: one lease, one renewal at a time, while
	// still letting a waiting caller give up when its context ends.
	sem   chan struct{}
	lease *awsLease
}

// awsLease is the current credentials and what Vault said about their
// lease.
type awsLease struct {
	id                   string
	accessKey, secretKey string
	sessionToken         string
	start                time.Time
	ttl                  time.Duration
	increment            time.Duration
	renewable, capped    bool
}

func (l *awsLease) expires() time.Time   { return l.start.Add(l.ttl) }
func (l *awsLease) refreshAt() time.Time { return l.start.Add(l.ttl * 2 / 3) }

func (l *awsLease) credentials() aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     l.accessKey,
		SecretAccessKey: l.secretKey,
		SessionToken:    l.sessionToken,
		Source:          "Vault",
		CanExpire:       true,
		Expires:         l.expires(),
	}
}

// AWSCredentials returns a provider of credentials read from
// <mount>/creds/<role>; mount is "aws" when empty.
func (v *Vault) AWSCredentials(mount, role string) *VaultAWSCredentials {
	mount = strings.Trim(mount, "/")
	if mount == "" {
		mount = defaultAWSMount
	}
	return &VaultAWSCredentials{v: v, path: mount + "/creds/" + role, sem: make(chan struct{}, 1)}
}

// Retrieve returns credentials valid now, renewing or replacing the lease
// as its doc describes.
func (c *VaultAWSCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if strings.HasSuffix(c.path, "/creds/") {
		return aws.Credentials{}, errors.New("reading AWS credentials from vault: the role name is empty")
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return aws.Credentials{}, fmt.Errorf("waiting to read AWS credentials from vault at %s: %w", c.path, ctx.Err())
	}
	defer func() { <-c.sem }()

	now := c.v.clock.Now()
	if l := c.lease; l != nil && now.Before(l.expires()) {
		if now.Before(l.refreshAt()) {
			return l.credentials(), nil
		}
		if l.renewable && !l.capped {
			err := c.renew(ctx, l)
			if err == nil {
				return l.credentials(), nil
			}
			if !refused(err) {
				// The keys still work until the lease ends; the next call
				// tries again.
				c.v.log.Warn("renewing the AWS credentials lease failed; keeping the current credentials",
					"path", c.path, "expires", l.expires().Format(time.RFC3339), "error", err)
				return l.credentials(), nil
			}
			c.v.log.Warn("vault refused to renew the AWS credentials lease; reading new credentials", "path", c.path, "error", err)
		}
	}
	l, err := c.issue(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	c.lease = l
	return l.credentials(), nil
}

func (c *VaultAWSCredentials) issue(ctx context.Context) (*awsLease, error) {
	start := c.v.clock.Now()
	s, err := c.v.client.Logical().ReadWithContext(ctx, c.path)
	if err != nil {
		return nil, fmt.Errorf("reading AWS credentials from vault at %s: %w", c.path, apiError(err))
	}
	if s == nil {
		return nil, fmt.Errorf("reading AWS credentials from vault at %s: vault has nothing there (is the AWS secrets engine mounted there, with that role?)", c.path)
	}
	access, _ := s.Data["access_key"].(string)
	secret, _ := s.Data["secret_key"].(string)
	if access == "" || secret == "" {
		return nil, fmt.Errorf("reading AWS credentials from vault at %s: the answer has no access_key or secret_key", c.path)
	}
	if s.LeaseDuration <= 0 {
		return nil, fmt.Errorf("reading AWS credentials from vault at %s: the answer has no lease_duration", c.path)
	}
	// Vault 1.12 renamed security_token to session_token; both are null
	// for iam_user credentials.
	session, _ := s.Data["session_token"].(string)
	if session == "" {
		session, _ = s.Data["security_token"].(string)
	}
	ttl := time.Duration(s.LeaseDuration) * time.Second
	l := &awsLease{
		id:           s.LeaseID,
		accessKey:    access,
		secretKey:    secret,
		sessionToken: session,
		start:        start,
		ttl:          ttl,
		increment:    ttl,
		renewable:    s.Renewable && s.LeaseID != "",
	}
	c.v.log.Info("read AWS credentials from vault", "path", c.path, "ttl", ttl, "renewable", l.renewable)
	return l, nil
}

func (c *VaultAWSCredentials) renew(ctx context.Context, l *awsLease) error {
	start := c.v.clock.Now()
	s, err := c.v.client.Sys().RenewWithContext(ctx, l.id, int(l.increment/time.Second))
	if err != nil {
		return fmt.Errorf("renewing the lease of the AWS credentials from %s: %w", c.path, apiError(err))
	}
	if s == nil || s.LeaseDuration <= 0 {
		return fmt.Errorf("renewing the lease of the AWS credentials from %s: the answer has no lease_duration", c.path)
	}
	l.start = start
	l.ttl = time.Duration(s.LeaseDuration) * time.Second
	l.renewable = s.Renewable
	l.capped = l.ttl < l.increment
	c.v.log.Info("renewed the lease of the AWS credentials", "path", c.path, "ttl", l.ttl, "max_ttl_near", l.capped)
	return nil
}
