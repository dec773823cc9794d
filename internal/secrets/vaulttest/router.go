package vaulttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// route is one endpoint of the double. Handlers run with Server.mu held and
// return a status with either a response envelope or error messages.
type route struct {
	pattern *regexp.Regexp
	methods []string
	// auth routes need a live X-Vault-Token; the others (logins) ignore it.
	auth bool
	// body returns a pointer to the endpoint's request struct, decoded
	// strictly; nil means the endpoint takes no body.
	body func() any
	// query lists the query parameters the endpoint accepts.
	query  []string
	handle func(c *call) reply
}

// call is what a handler gets: the path's named groups, the caller's token
// on auth routes, the decoded body and the query.
type call struct {
	vars  map[string]string
	token *token
	body  any
	query url.Values
}

// reply is a handler's answer: errs set means Vault's error envelope.
type reply struct {
	status int
	resp   *response
	errs   []string
	// corrupt answers 200 with JSON cut short (CorruptNext).
	corrupt bool
}

func ok(resp *response) reply { return reply{status: http.StatusOK, resp: resp} }

func fail(status int, msgs ...string) reply { return reply{status: status, errs: msgs} }

// response is Vault's response envelope.
type response struct {
	RequestID     string     `json:"request_id"`
	LeaseID       string     `json:"lease_id"`
	Renewable     bool       `json:"renewable"`
	LeaseDuration int64      `json:"lease_duration"`
	Data          any        `json:"data"`
	WrapInfo      any        `json:"wrap_info"`
	Warnings      []string   `json:"warnings"`
	Auth          *authBlock `json:"auth"`
}

// authBlock is the "auth" object of a login or token renewal.
type authBlock struct {
	ClientToken    string            `json:"client_token"`
	Accessor       string            `json:"accessor"`
	Policies       []string          `json:"policies"`
	TokenPolicies  []string          `json:"token_policies"`
	Metadata       map[string]string `json:"metadata"`
	LeaseDuration  int64             `json:"lease_duration"`
	Renewable      bool              `json:"renewable"`
	EntityID       string            `json:"entity_id"`
	TokenType      string            `json:"token_type"`
	Orphan         bool              `json:"orphan"`
	MFARequirement any               `json:"mfa_requirement"`
	NumUses        int               `json:"num_uses"`
}

var errPermissionDenied = []string{"permission denied"}

// routes lists the endpoints; the secrets engines' come first, so that a
// KV path ending in /creds/<name> is not taken for an AWS role.
func (s *Server) routes() []route {
	return append(s.engineRoutes(), []route{
		{
			pattern: regexp.MustCompile(`^auth/token/lookup-self$`),
			methods: []string{http.MethodGet},
			auth:    true,
			handle:  s.lookupSelf,
		},
		{
			pattern: regexp.MustCompile(`^auth/token/renew-self$`),
			methods: []string{http.MethodPost, http.MethodPut},
			auth:    true,
			body:    func() any { return &renewSelfBody{} },
			handle:  s.renewSelf,
		},
		{
			pattern: regexp.MustCompile(`^auth/(?P<mount>.+)/login$`),
			methods: []string{http.MethodPost, http.MethodPut},
			body:    func() any { return &appRoleLoginBody{} },
			handle:  s.appRoleLogin,
		},
		{
			pattern: regexp.MustCompile(`^(?P<mount>.+)/creds/(?P<role>[^/]+)$`),
			methods: []string{http.MethodGet},
			auth:    true,
			query:   []string{"role_arn", "role_session_name", "ttl", "mfa_code"},
			handle:  s.awsCreds,
		},
		{
			pattern: regexp.MustCompile(`^sys/leases/renew$`),
			methods: []string{http.MethodPost, http.MethodPut},
			auth:    true,
			body:    func() any { return &leaseRenewBody{} },
			handle:  s.leaseRenew,
		},
	}...)
}

// ServeHTTP is the one place that checks the request's headers, token and
// body against the matched route and writes Vault's envelopes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeReply(w, fail(http.StatusBadRequest, fmt.Sprintf("reading the request body: %v", err)))
		return
	}
	writeReply(w, s.serve(r, raw))
}

func (s *Server) serve(r *http.Request, raw []byte) reply {
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		return fail(http.StatusNotFound)
	}
	path := normalisePath(r.URL.Path)
	if r.Header.Get("X-Vault-Request") != "true" {
		return fail(http.StatusPreconditionFailed, "missing 'X-Vault-Request' header")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.Trim(r.Header.Get("X-Vault-Namespace"), "/") != s.namespace {
		return fail(http.StatusForbidden, errPermissionDenied...)
	}
	if q := s.faults[path]; len(q) > 0 {
		s.faults[path] = q[1:]
		if q[0].corrupt {
			return reply{status: http.StatusOK, corrupt: true}
		}
		return fail(q[0].status, faultMessage(q[0].status))
	}

	rt, vars, matched := s.match(path, r.Method)
	if !matched {
		return fail(http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", path))
	}
	if rt == nil {
		return fail(http.StatusMethodNotAllowed, "unsupported operation")
	}
	c := &call{vars: vars, query: r.URL.Query()}
	if rt.auth {
		tok := s.liveToken(r.Header.Get("X-Vault-Token"))
		if tok == nil {
			return fail(http.StatusForbidden, errPermissionDenied...)
		}
		c.token = tok
	}
	for name := range c.query {
		if !slices.Contains(rt.query, name) {
			return fail(http.StatusBadRequest, fmt.Sprintf("unrecognized query parameter %q", name))
		}
	}
	switch {
	case rt.body == nil && len(bytes.TrimSpace(raw)) > 0:
		return fail(http.StatusBadRequest, "this endpoint takes no request body")
	case rt.body != nil:
		c.body = rt.body()
		if err := decodeStrict(raw, c.body); err != nil {
			return fail(http.StatusBadRequest, err.Error())
		}
	}
	return rt.handle(c)
}

// match finds the route for path and method. Several routes may share a
// path pattern with different methods (KV v2 data: GET reads, POST
// writes); matched reports whether any pattern matched, so that a known
// path with the wrong method is a 405 rather than a 404.
func (s *Server) match(path, method string) (rt *route, vars map[string]string, matched bool) {
	for _, r := range s.routes() {
		m := r.pattern.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		matched = true
		if !slices.Contains(r.methods, method) {
			continue
		}
		vars = map[string]string{}
		for i, name := range r.pattern.SubexpNames() {
			if name != "" {
				vars[name] = m[i]
			}
		}
		return &r, vars, true
	}
	return nil, nil, matched
}

// decodeStrict decodes one JSON object into v, refusing fields v does not
// define; an empty body leaves v at its zero value, as Vault allows.
func decodeStrict(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding the request body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("decoding the request body: data after the JSON object")
	}
	return nil
}

func faultMessage(status int) string {
	if status == http.StatusForbidden {
		return errPermissionDenied[0]
	}
	if status >= 500 {
		return "internal error"
	}
	return strings.ToLower(http.StatusText(status))
}

func writeReply(w http.ResponseWriter, rep reply) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rep.status)
	switch {
	case rep.corrupt:
		_, _ = io.WriteString(w, `{"request_id":"`)
	case rep.resp != nil:
		_ = json.NewEncoder(w).Encode(rep.resp)
	default:
		errs := rep.errs
		if errs == nil {
			errs = []string{}
		}
		_ = json.NewEncoder(w).Encode(map[string][]string{"errors": errs})
	}
}
