package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"time"
)

// dist is the bundle web/build.mjs writes (make generate); committed, so
// building agentd needs no npm.
//
//go:embed dist
var dist embed.FS

var (
	assets    = func() fs.FS { f, _ := fs.Sub(dist, "dist"); return f }()
	loginPage = template.Must(template.ParseFS(dist, "dist/login.html"))
	appPage   = func() []byte { b, _ := fs.ReadFile(dist, "dist/index.html"); return b }()
)

func assetHandler() http.Handler {
	return http.StripPrefix(Prefix+"assets/", http.FileServerFS(assets))
}

func (h *Handler) serveApp(w http.ResponseWriter, r *http.Request) {
	if _, ok := callerOf(r); !ok {
		http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(appPage))
}

func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request) {
	h.renderLogin(w, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, code int, msg string) {
	var b bytes.Buffer
	if err := loginPage.Execute(&b, struct{ Error string }{msg}); err != nil {
		h.log.Error("rendering the sign-in page", "error", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}
