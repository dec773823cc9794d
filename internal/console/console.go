package console

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/proto"
)

// Prefix is where the console is mounted on the HTTP listener.
const Prefix = "/ui/"

// Bounds on what a browser may send. Nothing the console takes is large:
// a query names a page and a few filters, a body a recommendation id.
const (
	maxQueryBytes = 8 << 10
	maxBodyBytes  = 64 << 10
)

// Invoker calls a ManagementService method with a caller's bearer token,
// through the same authentication, authorisation and audit as gRPC
// (controlplane.Server.InvokeManagement).
type Invoker interface {
	InvokeManagement(ctx context.Context, method string, req proto.Message, token string, source net.Addr) (proto.Message, error)
}

// Options configures New.
type Options struct {
	API Invoker
	// Changes streams tenants' changes to the browsers; nil serves no
	// live updates (the stream endpoint answers 503).
	Changes *Hub
	Log     hclog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Handler serves everything under Prefix.
type Handler struct {
	api     Invoker
	changes *Hub
	log     hclog.Logger
	now     func() time.Time
	mux     *http.ServeMux
}

// New returns the console's handler.
func New(o Options) *Handler {
	h := &Handler{api: o.API, changes: o.Changes, log: o.Log, now: o.Now}
	if h.log == nil {
		h.log = hclog.NewNullLogger()
	}
	if h.now == nil {
		h.now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui/{$}", h.serveApp)
	mux.HandleFunc("GET /ui/login", h.serveLogin)
	mux.HandleFunc("POST /ui/login", h.login)
	mux.HandleFunc("POST /ui/logout", h.logout)
	mux.Handle("GET /ui/assets/", assetHandler())
	mux.HandleFunc("GET /ui/api/session", h.session)
	mux.HandleFunc("GET /ui/api/overview", h.overview)
	mux.HandleFunc("GET /ui/api/inventory", h.inventory)
	mux.HandleFunc("GET /ui/api/events", h.events)
	mux.HandleFunc("GET /ui/api/{method}", h.read)
	mux.HandleFunc("POST /ui/api/{method}", h.mutate)
	h.mux = mux
	return h
}

// ServeHTTP bounds the request, sets the security headers every response
// carries and routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if len(r.URL.RawQuery) > maxQueryBytes {
		writeError(w, http.StatusRequestURITooLong, "the query string is longer than the console accepts")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	h.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows only the console's own script, style and
// connections: no inline script or style, no framing, forms post only
// back to the console.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer Chromium sends
	// "Origin: null" on form posts, which the CSRF check refuses.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
}
