package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// maxRetryWait caps the wait between failed attempts to keep the token
// alive.
const maxRetryWait = time.Minute

// errTokenExpired ends Run when a configured token runs out and nothing can
// replace it.
var errTokenExpired = errors.New("the vault token expired")

// tokenLease is what Vault last said about the client's token.
type tokenLease struct {
	obtained time.Time
	// ttl is zero for a token that never expires (a root token).
	ttl time.Duration
	// increment is what renewals ask for: the token's creation TTL.
	increment time.Duration
	renewable bool
	// capped is set when a renewal came back shorter than asked: the
	// token's max TTL is near and renewing again gains nothing.
	capped bool
}

func (t tokenLease) expires() time.Time { return t.obtained.Add(t.ttl) }

// refreshAt is two thirds into the lease: late enough not to renew
// needlessly, early enough to ride out a few failed attempts.
func (t tokenLease) refreshAt() time.Time { return t.obtained.Add(t.ttl * 2 / 3) }

func (v *Vault) lookupSelf(ctx context.Context) error {
	start := v.clock.Now()
	s, err := v.client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return fmt.Errorf("looking up the vault token: %w", apiError(err))
	}
	if s == nil || s.Data == nil {
		return errors.New("looking up the vault token: vault answered without token data")
	}
	ttl, err := s.TokenTTL()
	if err != nil {
		return fmt.Errorf("looking up the vault token: reading its ttl: %w", err)
	}
	renewable, err := s.TokenIsRenewable()
	if err != nil {
		return fmt.Errorf("looking up the vault token: reading whether it is renewable: %w", err)
	}
	increment := ttl
	if n, ok := s.Data["creation_ttl"].(json.Number); ok {
		if secs, err := n.Int64(); err == nil && secs > 0 {
			increment = time.Duration(secs) * time.Second
		}
	}
	v.tok = tokenLease{obtained: start, ttl: ttl, increment: increment, renewable: renewable}
	v.log.Info("vault token looked up", "ttl", ttl, "renewable", renewable)
	return nil
}

func (v *Vault) appRoleLogin(ctx context.Context) error {
	path := "auth/" + v.cfg.AppRoleMount + "/login"
	start := v.clock.Now()
	s, err := v.login.Logical().WriteWithContext(ctx, path, map[string]any{
		"role_id":   v.cfg.AppRoleID,
		"secret_id": v.cfg.AppRoleSecretID,
	})
	if err != nil {
		return fmt.Errorf("logging in to vault with AppRole at %s: %w", path, apiError(err))
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fmt.Errorf("logging in to vault with AppRole at %s: vault answered without a token", path)
	}
	v.client.SetToken(s.Auth.ClientToken)
	ttl := time.Duration(s.Auth.LeaseDuration) * time.Second
	v.tok = tokenLease{obtained: start, ttl: ttl, increment: ttl, renewable: s.Auth.Renewable}
	v.log.Info("logged in to vault with AppRole", "mount", v.cfg.AppRoleMount, "ttl", ttl, "renewable", s.Auth.Renewable)
	return nil
}

func (v *Vault) renewSelf(ctx context.Context) error {
	start := v.clock.Now()
	s, err := v.client.Auth().Token().RenewSelfWithContext(ctx, int(v.tok.increment/time.Second))
	if err != nil {
		return fmt.Errorf("renewing the vault token: %w", apiError(err))
	}
	if s == nil || s.Auth == nil {
		return errors.New("renewing the vault token: vault answered without auth data")
	}
	ttl := time.Duration(s.Auth.LeaseDuration) * time.Second
	v.tok.obtained, v.tok.ttl, v.tok.renewable = start, ttl, s.Auth.Renewable
	v.tok.capped = ttl < v.tok.increment
	v.log.Info("renewed the vault token", "ttl", ttl)
	if v.tok.capped {
		next := "it will not be renewed again and Run will fail when it expires"
		if v.cfg.Token == "" {
			next = "logging in again before it expires"
		}
		v.log.Warn("the vault token is near its max TTL", "expires", v.tok.expires().Format(time.RFC3339), "next", next)
	}
	return nil
}

// Run keeps the token alive until ctx ends: it renews the token two thirds
// into its TTL, logs in again with AppRole when the token can no longer be
// renewed (not renewable, near its max TTL, or renewal refused), and
// retries failures with backoff. It returns nil when ctx ends, and an error
// when the token cannot be kept alive: Vault refused a configured token's
// renewal or a login, or a configured token expired. Call it once.
func (v *Vault) Run(ctx context.Context) error {
	var wait time.Duration
	var retryAt time.Time
	for {
		if v.tok.ttl == 0 {
			v.log.Info("the vault token does not expire; nothing to renew")
			<-ctx.Done()
			return nil
		}
		at := v.nextRefresh()
		if !retryAt.IsZero() {
			at = retryAt
		}
		select {
		case <-ctx.Done():
			return nil
		case <-v.clock.At(at):
		}
		err := v.refresh(ctx)
		switch {
		case err == nil:
			wait, retryAt = 0, time.Time{}
			continue
		case ctx.Err() != nil:
			return nil
		case refused(err) || errors.Is(err, errTokenExpired):
			return err
		}
		wait = min(max(2*wait, time.Second), maxRetryWait)
		retryAt = v.clock.Now().Add(wait)
		v.log.Warn("keeping the vault token alive failed; will retry", "error", err, "retry_in", wait)
	}
}

// nextRefresh is when Run next has something to do: renew or log in two
// thirds into the TTL, or, for a configured token that cannot be renewed,
// report its expiry.
func (v *Vault) nextRefresh() time.Time {
	if v.cfg.Token != "" && (!v.tok.renewable || v.tok.capped) {
		return v.tok.expires()
	}
	return v.tok.refreshAt()
}

func (v *Vault) refresh(ctx context.Context) error {
	live := v.clock.Now().Before(v.tok.expires())
	if live && v.tok.renewable && !v.tok.capped {
		err := v.renewSelf(ctx)
		if err == nil || !refused(err) || v.cfg.Token != "" {
			return err
		}
		v.log.Warn("vault refused to renew the token; logging in again", "error", err)
	}
	if v.cfg.Token == "" {
		return v.appRoleLogin(ctx)
	}
	if live {
		return nil
	}
	return fmt.Errorf("%w at %s and cannot be renewed: configure a renewable token or AppRole",
		errTokenExpired, v.tok.expires().Format(time.RFC3339))
}
