// Package vaulttest is an in-process HTTP double of the few HashiCorp Vault
// endpoints SirsiNexus calls. It is a test double, not Vault: a real Vault
// server cannot be run on the build machines, so the client in
// internal/secrets is tested against this double, written from Vault's API
// documentation (auth/token lookup-self and renew-self, auth/approle login,
// the AWS secrets engine's creds endpoint, sys/leases/renew, the transit
// engine's encrypt, decrypt, rewrap, key read and key rotate, and KV
// version 2 data read and write and metadata read).
//
// The double is strict where Vault is lenient, so that a client bug shows up
// as a failed test rather than as silently ignored input:
//
//   - every request must carry X-Vault-Request: true (what vault/api sends,
//     and what Vault Agent's require_request_header enforces), else 412;
//   - once SetNamespace is called, X-Vault-Namespace must name it, else 403;
//   - JSON bodies and query parameters with fields the endpoint does not
//     define are refused with 400 (Vault itself only warns about them);
//   - GET requests must not carry a body.
//
// Answers use Vault's response envelope (request_id, lease_id, renewable,
// lease_duration, data, wrap_info, warnings, auth) and its error
// envelope {"errors": [...]} with Vault's status codes. Tokens and leases
// expire by the double's own clock, which only moves when a test calls
// Advance; an expired or unknown token gets 403 {"errors":["permission
// denied"]}.
//
// Secrets engines exist only where a test mounts them (EnableTransit,
// EnableKV); elsewhere their paths get Vault's 404 "no handler for route".
// Transit keys are aes256-gcm96 with real AES-GCM per version, so a
// ciphertext tampered with, or sent to the wrong key, fails as in Vault;
// encrypting with an unknown key creates it (Vault's upsert, allowed to a
// root token). KV v2 checks options.cas like Vault. New endpoints are routes
// in routes(): the router in router.go is the one place that checks
// headers and tokens and writes errors.
package vaulttest

import (
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// defaultMaxTokenTTL is Vault's default system max TTL (32 days).
const defaultMaxTokenTTL = 768 * time.Hour

// Server is the Vault double. Its methods are safe for concurrent use.
type Server struct {
	// URL is the double's address, http://127.0.0.1:port.
	URL string
	// RootToken never expires and passes every check, like a dev server's.
	RootToken string

	mu          sync.Mutex
	now         time.Time
	timers      []timer
	namespace   string
	maxTokenTTL time.Duration
	tokens      map[string]*token
	appRoles    map[string]*appRole // by role ID
	awsRoles    map[string]*awsRole // by mount + "/" + role
	leases      map[string]*lease
	faults      map[string][]fault
	logins      int
	issued      map[string]int // by role name
	renewals    int
	tokenRenews int
	// transit and kv hold the secrets engines' state by mount path.
	transit    map[string]map[string]*transitKey
	kv         map[string]map[string]*kvSecret
	transitOps int
}

type timer struct {
	at time.Time
	ch chan time.Time
}

type fault struct {
	status  int
	corrupt bool
}

type appRole struct {
	secretID  string
	ttl       time.Duration
	renewable bool
}

type awsRole struct {
	ttl, maxTTL time.Duration
}

// New starts the double on 127.0.0.1 and stops it when the test ends. Its
// clock starts at the current wall time, truncated to the second, so that
// expiry times it hands out look sensible to code that also reads the wall
// clock (the AWS SDK's credentials cache, for one).
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		now:         time.Now().Truncate(time.Second),
		maxTokenTTL: defaultMaxTokenTTL,
		tokens:      map[string]*token{},
		appRoles:    map[string]*appRole{},
		awsRoles:    map[string]*awsRole{},
		leases:      map[string]*lease{},
		faults:      map[string][]fault{},
		issued:      map[string]int{},
		transit:     map[string]map[string]*transitKey{},
		kv:          map[string]map[string]*kvSecret{},
	}
	root := s.newToken("auth/token/root", []string{"root"}, 0, false)
	root.orphan = true
	s.RootToken = root.id
	// httptest listens on 127.0.0.1:0.
	srv := httptest.NewServer(s)
	s.URL = srv.URL
	t.Cleanup(srv.Close)
	return s
}

// SetNamespace makes the double a namespace ns: from now on every request
// must name it in X-Vault-Namespace.
func (s *Server) SetNamespace(ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.namespace = strings.Trim(ns, "/")
}

// SetTokenMaxTTL caps the lifetime of tokens issued from now on, like tuning
// an auth mount's max_lease_ttl; renewals never extend a token past it.
func (s *Server) SetTokenMaxTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxTokenTTL = d
}

// AddAppRole lets roleID and secretID log in at auth/approle/login for a
// token that lives tokenTTL (capped by SetTokenMaxTTL) and may or may not be
// renewed.
func (s *Server) AddAppRole(roleID, secretID string, tokenTTL time.Duration, renewable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appRoles[roleID] = &appRole{secretID: secretID, ttl: tokenTTL, renewable: renewable}
}

// CreateToken issues a service token, as an operator would with
// auth/token/create, living ttl (0: never expires) and capped by
// SetTokenMaxTTL.
func (s *Server) CreateToken(ttl time.Duration, renewable bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newToken("auth/token/create", []string{"default"}, ttl, renewable).id
}

// AddAWSRole defines role in an AWS secrets engine mounted at mount. Its
// credentials are iam_user credentials: leased for leaseTTL, renewable up to
// maxTTL after issue.
func (s *Server) AddAWSRole(mount, role string, leaseTTL, maxTTL time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.awsRoles[strings.Trim(mount, "/")+"/"+role] = &awsRole{ttl: leaseTTL, maxTTL: maxTTL}
}

// EnableTransit mounts a transit secrets engine at mount, like vault
// secrets enable -path=<mount> transit.
func (s *Server) EnableTransit(mount string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.transit[strings.Trim(mount, "/")] == nil {
		s.transit[strings.Trim(mount, "/")] = map[string]*transitKey{}
	}
}

// CreateTransitKey creates an aes256-gcm96 key named key, at version 1, on
// the transit engine at mount (which EnableTransit must have mounted).
func (s *Server) CreateTransitKey(mount, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.transit[strings.Trim(mount, "/")]
	if m == nil {
		panic(fmt.Sprintf("vaulttest: no transit engine at %q; call EnableTransit first", mount))
	}
	if m[key] == nil {
		m[key] = s.newTransitKey()
	}
}

// TransitKeyVersion is the latest version of a transit key, 0 when the key
// does not exist.
func (s *Server) TransitKeyVersion(mount, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.transit[strings.Trim(mount, "/")][key]; k != nil {
		return k.latest
	}
	return 0
}

// TransitOps is the number of successful transit encrypt, decrypt and
// rewrap calls.
func (s *Server) TransitOps() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transitOps
}

// EnableKV mounts a KV version 2 secrets engine at mount, like vault
// secrets enable -path=<mount> kv-v2.
func (s *Server) EnableKV(mount string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv[strings.Trim(mount, "/")] == nil {
		s.kv[strings.Trim(mount, "/")] = map[string]*kvSecret{}
	}
}

// FailNext makes the next request to path (such as "sys/leases/renew" or
// "aws/creds/agent"; a leading "/v1/" is ignored) fail with status and
// Vault's error envelope. Calls queue up: failing a path three times fails
// its next three requests, which is how a test gets past vault/api's
// retries.
func (s *Server) FailNext(path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := normalisePath(path)
	s.faults[p] = append(s.faults[p], fault{status: status})
}

// CorruptNext makes the next request to path get a 200 whose body is
// truncated JSON.
func (s *Server) CorruptNext(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := normalisePath(path)
	s.faults[p] = append(s.faults[p], fault{status: 200, corrupt: true})
}

// Now is the double's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the double's clock forward by d, expiring tokens and leases
// and firing the channels handed out by At whose time has come.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	now := s.now
	var due []timer
	kept := s.timers[:0]
	for _, tm := range s.timers {
		if tm.at.After(now) {
			kept = append(kept, tm)
		} else {
			due = append(due, tm)
		}
	}
	s.timers = kept
	s.mu.Unlock()
	for _, tm := range due {
		tm.ch <- now
	}
}

// At returns a channel that receives the double's time once its clock
// reaches t, at once if it already has. Code under test that takes a clock
// can take the Server, so that its timers follow Advance.
func (s *Server) At(t time.Time) <-chan time.Time {
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.After(s.now) {
		ch <- s.now
		return ch
	}
	s.timers = append(s.timers, timer{at: t, ch: ch})
	return ch
}

// PendingTimers is the number of channels handed out by At that have not
// fired: a test can wait for the code under test to be asleep before it
// advances the clock.
func (s *Server) PendingTimers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.timers)
}

// LoginCount is the number of successful AppRole logins.
func (s *Server) LoginCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// CredsIssued is the number of AWS credentials issued for role, on any
// mount.
func (s *Server) CredsIssued(role string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[role]
}

// Renewals is the number of successful lease renewals (sys/leases/renew).
func (s *Server) Renewals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.renewals
}

// TokenRenewals is the number of successful token renewals (renew-self).
func (s *Server) TokenRenewals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRenews
}

// LiveLeases returns the ids of the leases that have not expired.
func (s *Server) LiveLeases() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, l := range s.leases {
		if s.now.Before(l.expires) {
			ids = append(ids, id)
		}
	}
	return ids
}

func normalisePath(p string) string {
	return strings.Trim(strings.TrimPrefix(p, "/v1/"), "/")
}

// randomID returns a UUID-shaped random string, the shape of Vault's token
// accessors, request ids and lease id suffixes.
func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// randomString returns n characters drawn from alphabet.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
