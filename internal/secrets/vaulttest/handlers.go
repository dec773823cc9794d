package vaulttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	base62       = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	upperDigits  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretKeyABC = base62 + "+/"
)

// token is a service token. A zero expires means it never expires.
type token struct {
	id, accessor, path string
	policies           []string
	issued             time.Time
	expires            time.Time
	maxExpires         time.Time
	creationTTL        time.Duration
	lastRenewal        time.Time
	renewable, orphan  bool
}

// lease is an AWS secrets engine lease.
type lease struct {
	expires, maxExpires time.Time
	ttl                 time.Duration
}

type renewSelfBody struct {
	Increment any `json:"increment"`
}

type appRoleLoginBody struct {
	RoleID   string `json:"role_id"`
	SecretID string `json:"secret_id"`
}

type leaseRenewBody struct {
	LeaseID   string `json:"lease_id"`
	Increment any    `json:"increment"`
}

// newToken issues a token; callers hold s.mu.
func (s *Server) newToken(path string, policies []string, ttl time.Duration, renewable bool) *token {
	t := &token{
		id:          "hvs." + randomString(base62, 24),
		accessor:    randomString(base62, 24),
		path:        path,
		policies:    policies,
		issued:      s.now,
		creationTTL: ttl,
		renewable:   renewable,
	}
	if ttl > 0 {
		t.maxExpires = s.now.Add(s.maxTokenTTL)
		t.expires = minTime(s.now.Add(ttl), t.maxExpires)
	}
	s.tokens[t.id] = t
	return t
}

// liveToken returns the token with id unless it is unknown or expired;
// callers hold s.mu.
func (s *Server) liveToken(id string) *token {
	t := s.tokens[id]
	if t == nil {
		return nil
	}
	if !t.expires.IsZero() && !s.now.Before(t.expires) {
		delete(s.tokens, id)
		return nil
	}
	return t
}

func (s *Server) lookupSelf(c *call) reply {
	t := c.token
	var expireTime any
	ttl := int64(0)
	if !t.expires.IsZero() {
		expireTime = t.expires.Format(time.RFC3339Nano)
		ttl = seconds(t.expires.Sub(s.now))
	}
	data := map[string]any{
		"accessor":         t.accessor,
		"creation_time":    t.issued.Unix(),
		"creation_ttl":     seconds(t.creationTTL),
		"display_name":     displayName(t.path),
		"entity_id":        "",
		"expire_time":      expireTime,
		"explicit_max_ttl": 0,
		"id":               t.id,
		"issue_time":       t.issued.Format(time.RFC3339Nano),
		"meta":             nil,
		"num_uses":         0,
		"orphan":           t.orphan,
		"path":             t.path,
		"policies":         t.policies,
		"renewable":        t.renewable,
		"ttl":              ttl,
		"type":             "service",
	}
	if !t.lastRenewal.IsZero() {
		data["last_renewal"] = t.lastRenewal.Format(time.RFC3339Nano)
		data["last_renewal_time"] = t.lastRenewal.Unix()
	}
	return ok(&response{RequestID: randomID(), Data: data})
}

func (s *Server) renewSelf(c *call) reply {
	t := c.token
	if !t.renewable || t.expires.IsZero() {
		return fail(http.StatusBadRequest, "lease is not renewable")
	}
	inc, err := parseIncrement(c.body.(*renewSelfBody).Increment)
	if err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	if inc <= 0 {
		inc = t.creationTTL
	}
	ttl, warnings := capTTL(inc, t.maxExpires.Sub(s.now))
	t.expires = s.now.Add(ttl)
	t.lastRenewal = s.now
	s.tokenRenews++
	return ok(&response{RequestID: randomID(), Warnings: warnings, Auth: s.authBlock(t, ttl)})
}

func (s *Server) appRoleLogin(c *call) reply {
	if c.vars["mount"] != "approle" {
		return fail(http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", "auth/"+c.vars["mount"]+"/login"))
	}
	body := c.body.(*appRoleLoginBody)
	if body.RoleID == "" {
		return fail(http.StatusBadRequest, "missing role_id")
	}
	role := s.appRoles[body.RoleID]
	if role == nil || role.secretID != body.SecretID {
		return fail(http.StatusBadRequest, "invalid role or secret ID")
	}
	t := s.newToken("auth/approle/login", []string{"default"}, role.ttl, role.renewable)
	t.orphan = true
	s.logins++
	return ok(&response{RequestID: randomID(), Auth: s.authBlock(t, t.expires.Sub(s.now))})
}

func (s *Server) authBlock(t *token, ttl time.Duration) *authBlock {
	return &authBlock{
		ClientToken:   t.id,
		Accessor:      t.accessor,
		Policies:      t.policies,
		TokenPolicies: t.policies,
		LeaseDuration: seconds(ttl),
		Renewable:     t.renewable,
		TokenType:     "service",
		Orphan:        t.orphan,
	}
}

func (s *Server) awsCreds(c *call) reply {
	mount, name := c.vars["mount"], c.vars["role"]
	role := s.awsRoles[mount+"/"+name]
	if role == nil {
		if !s.hasAWSMount(mount) {
			return fail(http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", mount+"/creds/"+name))
		}
		return fail(http.StatusBadRequest, fmt.Sprintf("Role %q not found", name))
	}
	ttl := min(role.ttl, role.maxTTL)
	id := mount + "/creds/" + name + "/" + randomString(base62, 24)
	s.leases[id] = &lease{
		expires:    s.now.Add(ttl),
		maxExpires: s.now.Add(role.maxTTL),
		ttl:        role.ttl,
	}
	s.issued[name]++
	return ok(&response{
		RequestID:     randomID(),
		LeaseID:       id,
		Renewable:     true,
		LeaseDuration: seconds(ttl),
		Data: map[string]any{
			"access_key":    "AKIA" + randomString(upperDigits, 16),
			"secret_key":    randomString(secretKeyABC, 40),
			"session_token": nil,
		},
	})
}

func (s *Server) hasAWSMount(mount string) bool {
	for key := range s.awsRoles {
		if strings.HasPrefix(key, mount+"/") {
			return true
		}
	}
	return false
}

func (s *Server) leaseRenew(c *call) reply {
	body := c.body.(*leaseRenewBody)
	if body.LeaseID == "" {
		return fail(http.StatusBadRequest, "lease_id must be specified")
	}
	inc, err := parseIncrement(body.Increment)
	if err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	l := s.leases[body.LeaseID]
	if l == nil || !s.now.Before(l.expires) {
		// Vault revokes a lease when it expires, so it is gone by now.
		delete(s.leases, body.LeaseID)
		return fail(http.StatusBadRequest, "lease not found")
	}
	if inc <= 0 {
		inc = l.ttl
	}
	ttl, warnings := capTTL(inc, l.maxExpires.Sub(s.now))
	l.expires = s.now.Add(ttl)
	s.renewals++
	return ok(&response{
		RequestID:     randomID(),
		LeaseID:       body.LeaseID,
		Renewable:     true,
		LeaseDuration: seconds(ttl),
		Warnings:      warnings,
	})
}

// capTTL gives what Vault gives for a requested ttl with limit left before
// the max TTL: the lesser, with Vault's warning when it capped.
func capTTL(requested, limit time.Duration) (time.Duration, []string) {
	if requested <= limit {
		return requested, nil
	}
	return limit, []string{fmt.Sprintf("TTL of %q exceeded the effective max_ttl of %q; TTL value is capped accordingly",
		requested.String(), limit.Truncate(time.Second).String())}
}

// parseIncrement reads an increment the way Vault does: a number of
// seconds, or a string holding seconds or a Go duration.
func parseIncrement(v any) (time.Duration, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		n, err := v.Int64()
		if err != nil || n < 0 {
			return 0, fmt.Errorf("increment %q is not a whole, non-negative number of seconds", v)
		}
		return time.Duration(n) * time.Second, nil
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("increment %q is not a duration", v)
		}
		return d, nil
	default:
		return 0, fmt.Errorf("increment must be a number of seconds or a duration string, not %T", v)
	}
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// displayName is Vault's display_name for a token issued at path.
func displayName(path string) string {
	switch {
	case path == "auth/token/root":
		return "root"
	case strings.HasPrefix(path, "auth/approle/"):
		return "approle"
	default:
		return "token"
	}
}
