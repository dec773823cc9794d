package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	sirsiv1 "github.com/sirsinexus/terraform-provider-sirsi/internal/api/sirsi/v1"
)

// The session is the API token itself, in a cookie the page's script
// cannot read (HttpOnly), sent only over a secure context (Secure) and
// never on a request another site starts (SameSite=Strict). Every request
// authenticates the token again through ManagementService, so a revoked
// or expired token ends the session at once, and any replica serves it
// without shared session state.
const (
	sessionCookie = "sirsi_console"
	// maxSession bounds a session of a token that never expires.
	maxSession = 12 * time.Hour
	csrfHeader = "X-CSRF-Token"
)

// caller is the signed-in browser: its token and its address.
type caller struct {
	token  string
	source net.Addr
}

func callerOf(r *http.Request) (caller, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return caller{}, false
	}
	return caller{token: c.Value, source: remoteAddr(r)}, true
}

// remoteAddr is the browser's address as the lockouts and the audit log
// see it.
func remoteAddr(r *http.Request) net.Addr {
	if ap, err := net.ResolveTCPAddr("tcp", r.RemoteAddr); err == nil {
		return ap
	}
	return &net.TCPAddr{}
}

// csrfToken is the token a mutation must echo in X-CSRF-Token: a MAC of a
// fixed label keyed by the session's API token, so only a page that could
// read /ui/api/session (same origin) knows it, and every replica computes
// the same one.
func csrfToken(apiToken string) string {
	m := hmac.New(sha256.New, []byte(apiToken))
	m.Write([]byte("sirsi console csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameOrigin refuses a state-changing request another site could have
// started: the browser's Origin (or Sec-Fetch-Site) must say it came from
// the console's own origin.
func sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return errors.New("the request came from another site (Sec-Fetch-Site: " + site + ")")
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return errors.New("the request has no Origin header")
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return errors.New("the request's Origin " + origin + " is not this console's")
	}
	return nil
}

// checkMutation is the CSRF defence of every state-changing request.
func checkMutation(r *http.Request, c caller) error {
	if err := sameOrigin(r); err != nil {
		return err
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	if !hmac.Equal([]byte(got), []byte(csrfToken(c.token))) {
		return errors.New("the CSRF token is missing or wrong")
	}
	return nil
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if err := sameOrigin(r); err != nil {
		h.renderLogin(w, http.StatusForbidden, err.Error())
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" {
		h.renderLogin(w, http.StatusBadRequest, "Enter an API token.")
		return
	}
	id, err := h.identity(r.Context(), caller{token: tok, source: remoteAddr(r)})
	if err != nil {
		code, msg := httpStatus(err)
		h.renderLogin(w, code, msg)
		return
	}
	if id.GetOperator() || id.GetTenantId() == "" {
		h.renderLogin(w, http.StatusForbidden, "The console takes a tenant API token (viewer, editor or admin), not the operator token.")
		return
	}
	expires := h.now().Add(maxSession)
	if e := id.GetExpireTime(); e != nil && e.AsTime().Before(expires) {
		expires = e.AsTime()
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: Prefix, Expires: expires,
		MaxAge: int(expires.Sub(h.now()).Seconds()), HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	c, ok := callerOf(r)
	if ok {
		if err := checkMutation(r, c); err != nil {
			writeError(w, http.StatusForbidden, err.Error())
			return
		}
	}
	clearSession(w)
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

func clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func (h *Handler) identity(ctx context.Context, c caller) (*sirsiv1.GetIdentityResponse, error) {
	resp, err := h.api.InvokeManagement(ctx, "GetIdentity", &sirsiv1.GetIdentityRequest{}, c.token, c.source)
	if err != nil {
		return nil, err
	}
	return resp.(*sirsiv1.GetIdentityResponse), nil
}

// sessionInfo is what the page needs to draw itself: who is signed in,
// which buttons the role may use, and the CSRF token.
type sessionInfo struct {
	Actor      string          `json:"actor"`
	TenantID   string          `json:"tenant_id"`
	Role       string          `json:"role"`
	ExpireTime string          `json:"expire_time,omitempty"`
	CSRF       string          `json:"csrf"`
	May        map[string]bool `json:"may"`
}

// uiMutations are the mutations the console offers.
var uiMutations = []string{"ApproveRecommendation", "DismissRecommendation"}

func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	c, id, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	info := sessionInfo{Actor: id.GetActor(), TenantID: id.GetTenantId(), Role: id.GetRole().String(),
		CSRF: csrfToken(c.token), May: map[string]bool{}}
	if e := id.GetExpireTime(); e != nil {
		info.ExpireTime = e.AsTime().UTC().Format(time.RFC3339)
	}
	for _, m := range uiMutations {
		info.May[m] = mayCall(id.GetRole(), m)
	}
	writeJSON(w, http.StatusOK, info)
}

// signedIn resolves the session's identity, answering 401 (and clearing
// the cookie) when there is none or its token no longer authenticates.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (caller, *sirsiv1.GetIdentityResponse, bool) {
	c, ok := callerOf(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "not signed in")
		return caller{}, nil, false
	}
	id, err := h.identity(r.Context(), c)
	if err != nil {
		h.fail(w, err)
		return caller{}, nil, false
	}
	return c, id, true
}
