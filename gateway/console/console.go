package console

import (
	"log/slog"
	"net/http"
)

// Paths the console answers. The gateway routes exactly PagePath and
// every path under Prefix to the console's handler.
const (
	// PagePath is the console's page, the gateway's home page (as the
	// name list page is in Pyro4's gateway).
	PagePath = "/pyro/"
	// Prefix holds the page's static files and the JSON API (APIPrefix).
	Prefix = "/console/"
	// APIPrefix holds the JSON API: info, names, describe and call.
	APIPrefix = "/console/api/"
)

// KeyHeader is the request header that carries the gateway key, as in
// Pyro4's gateway; the page sends the key the user typed in it.
const KeyHeader = "X-Pyro-Gateway-Key"

// Option configures the console's handler.
type Option func(*handler)

// WithLogger sets the logger for failures the console answers with a 5xx
// status (Backend errors it cannot classify). The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(h *handler) {
		if l != nil {
			h.log = l
		}
	}
}

// WithLimits replaces the bounds on API requests (DefaultLimits); zero
// fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(h *handler) { h.lim = l.resolved() }
}

// handler is the console: fixed routes, no file system paths.
type handler struct {
	b   Backend
	log *slog.Logger
	lim Limits
	mux *http.ServeMux
}

// New returns the console's HTTP handler for b. It serves the page at
// PagePath ("/pyro/"), its files under Prefix ("/console/") from the
// binary, and the JSON API under APIPrefix ("/console/api/"); any other
// path is 404. Every response carries a strict Content-Security-Policy
// (this origin only, no inline code, no framing), and every API request
// passes b.Authorize before anything else. See the package documentation
// for the API.
func New(b Backend, opts ...Option) http.Handler {
	h := &handler{b: b, log: slog.New(slog.DiscardHandler), lim: DefaultLimits()}
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(PagePath+"{$}", h.page)
	mux.HandleFunc(Prefix, h.static)
	mux.HandleFunc(APIPrefix+"info", h.api(http.MethodGet, h.info))
	mux.HandleFunc(APIPrefix+"names", h.api(http.MethodGet, h.names))
	mux.HandleFunc(APIPrefix+"describe", h.api(http.MethodGet, h.describe))
	mux.HandleFunc(APIPrefix+"call", h.api(http.MethodPost, h.call))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFound", "no such path")
	})
	h.mux = mux
	return h
}

// ServeHTTP sets the security headers and routes the request.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	// The mux cleans paths by redirecting; "/pyro/../x" must not become a
	// route either, so anything not already clean is refused outright.
	if r.URL.Path != cleanPath(r.URL.Path) {
		writeError(w, http.StatusNotFound, "NotFound", "no such path")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows this origin's script, style, images and
// fetches and nothing else: no inline script or style, no plugins, no
// framing, no form posts elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
