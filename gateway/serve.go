package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway/console"
)

// Header names of Pyro4's gateway.
const (
	headerKey     = "X-Pyro-Gateway-Key"
	headerCorr    = "X-Pyro-Correlation-Id"
	headerOptions = "X-Pyro-Options"
	metaMethod    = "$meta"
	keyParam      = "$key"
	contentJSON   = "application/json; charset=utf-8"
)

// Pyro4's texts for its plain answers.
const (
	textNotFound      = "Error 404: Not Found"
	textNotAllowed    = "Error 405: Method Not Allowed"
	textBadKey        = "403 Forbidden - incorrect gateway api key"
	textDeniedObject  = "403 Forbidden - access to the requested object has been denied"
	textDeniedMethod  = "403 Forbidden - access to the requested method has been denied"
	textBusy          = "503 Service Unavailable - too many concurrent requests"
	textBadPath       = "400 Bad Request - control characters or invalid UTF-8 in the path"
	textTooLarge      = "413 Request Entity Too Large - request body larger than "
	textTooManyParams = "400 Bad Request - too many parameters, at most "
	textTooLong       = "400 Bad Request - object or method name longer than 1024 bytes"
)

// maxNameLen bounds object and method names, and so the work of matching
// the expose regex (linear in the name's length times the pattern's size).
const maxNameLen = 1024

// ServeHTTP serves one request (see the package documentation).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	select {
	case g.sem <- struct{}{}:
		defer func() { <-g.sem }()
	default:
		g.refused.Add(1)
		w.Header().Set("Retry-After", "1")
		g.text(w, http.StatusServiceUnavailable, textBusy)
		return
	}
	if !g.hostAllowed(r) {
		g.refuse(w, http.StatusForbidden, textBadHost)
		return
	}
	path := strings.TrimLeft(r.URL.Path, "/") // PATH_INFO.lstrip('/')
	switch {
	case path == "":
		w.Header().Set("Location", "/pyro/")
		w.WriteHeader(http.StatusFound)
		return
	case path == "pyro/" || strings.HasPrefix(path, "console/"):
		if r.URL.Path != "/"+path {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = "/"+path, ""
			r = r2
		}
		g.console.ServeHTTP(w, r)
		return
	case !strings.HasPrefix(path, "pyro/"):
		g.text(w, http.StatusNotFound, textNotFound)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		g.text(w, http.StatusMethodNotAllowed, textNotAllowed)
		return
	}
	path = path[len("pyro/"):]
	if g.crossSite(r) {
		g.refuse(w, http.StatusForbidden, textCrossSite)
		return
	}
	if !cleanText(path) {
		g.refuse(w, http.StatusBadRequest, textBadPath)
		return
	}
	params, status, msg := g.parseParams(w, r)
	if status != 0 {
		g.refuse(w, status, msg)
		return
	}
	g.pyroRequest(w, r, path, params)
}

// cleanText reports whether s is valid UTF-8 without control characters.
func cleanText(s string) bool {
	for _, c := range s {
		if c == utf8.RuneError || c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return false
		}
	}
	return true
}

// splitPath splits NAME/METHOD as Pyro4's re.match(r"(.+)/(.+)", path):
// the method follows the last slash that leaves both sides non-empty.
func splitPath(path string) (name, method string, ok bool) {
	if len(path) < 3 {
		return "", "", false
	}
	i := strings.LastIndexByte(path[:len(path)-1], '/')
	if i < 1 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// allowedMethod refuses private, dunder and Pyro-internal names, dotted
// names and "$" names other than $meta.
func allowedMethod(m string) bool {
	if m == metaMethod {
		return true
	}
	return m != "" && m[0] != '_' && m[0] != '$' && !strings.ContainsAny(m, "./")
}

// isURIName reports whether name looks like a Pyro URI rather than a name.
func isURIName(name string) bool {
	head, _, ok := strings.Cut(name, ":")
	if !ok {
		return false
	}
	switch strings.ToUpper(head) {
	case "PYRO", "PYRONAME", "PYROMETA":
		return true
	}
	return false
}

func (g *Gateway) text(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

func (g *Gateway) refuse(w http.ResponseWriter, status int, text string) {
	g.refused.Add(1)
	g.log.Info("gateway: request refused", "status", status, "reason", text)
	g.text(w, status, text)
}

func (g *Gateway) jsonReply(w http.ResponseWriter, status int, corr string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentJSON)
	// answers carry what objects (and, in exceptions, attackers) chose:
	// never sniffed as markup, never kept by a cache
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if corr != "" {
		h.Set(headerCorr, corr)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// fail answers 500 with a local exception as JSON, as Pyro4's gateway's
// catch-all does.
func (g *Gateway) fail(w http.ResponseWriter, path string, err error) {
	g.errs.Add(1)
	g.log.Warn("gateway: request failed", "path", path, "err", err)
	g.jsonReply(w, http.StatusInternalServerError, "", exceptionJSON(err))
}

// pyroRequest is Pyro4's process_pyro_request for path NAME/METHOD.
func (g *Gateway) pyroRequest(w http.ResponseWriter, r *http.Request, path string, params *paramList) {
	name, method, ok := splitPath(path)
	if !ok {
		g.text(w, http.StatusNotFound, textNotFound)
		return
	}
	if len(name) > maxNameLen || len(method) > maxNameLen {
		g.refuse(w, http.StatusBadRequest, textTooLong)
		return
	}
	if len(g.key) > 0 {
		key := r.Header.Get(headerKey)
		if key == "" {
			key, _ = params.single(keyParam)
		}
		if !g.keyOK(key) {
			g.refuse(w, http.StatusForbidden, textBadKey)
			return
		}
		params.remove(keyParam)
	}
	if !g.exposed(name) {
		g.refuse(w, http.StatusForbidden, textDeniedObject)
		return
	}
	if !allowedMethod(method) {
		g.refuse(w, http.StatusForbidden, textDeniedMethod)
		return
	}
	oneway := slices.Contains(strings.Split(r.Header.Get(headerOptions), ","), "oneway")
	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	defer cancel()
	cp, done, err := g.lookup(ctx, name)
	if isBusy(err) {
		g.refused.Add(1)
		w.Header().Set("Retry-After", "1")
		g.text(w, http.StatusServiceUnavailable, textBusyDaemon)
		return
	}
	if errors.Is(err, console.ErrForbidden) {
		g.refuse(w, http.StatusForbidden, textDeniedObject)
		return
	}
	if err != nil {
		g.fail(w, path, err)
		return
	}
	defer done()
	var corrID [16]byte
	if h := r.Header.Get(headerCorr); h != "" {
		if corrID, err = parseUUID(h); err != nil {
			g.fail(w, path, err)
			return
		}
	} else {
		corrID = newUUID4()
	}
	corr := formatUUID(corrID)
	ctx = pyro.WithCorrelationID(ctx, corrID)
	methods, _, attrs, err := cp.p.Metadata(ctx)
	if err != nil {
		g.fail(w, path, err)
		return
	}
	if method == metaMethod {
		g.jsonReply(w, http.StatusOK, corr, metaJSON(methods, attrs))
		return
	}
	var raw pyro.RawReply
	ctx = pyro.WithRawReplyOnly(ctx, &raw) // forwarded as is: never decoded
	g.calls.Add(1)
	switch {
	case slices.Contains(attrs, method):
		if params.len() > 0 {
			g.fail(w, path, &pyException{class: "builtins.AssertionError", msg: "attribute lookup can't have query parameters"})
			return
		}
		_, err = cp.p.GetAttr(ctx, method)
	case !slices.Contains(methods, method):
		g.fail(w, path, &pyException{class: "builtins.AttributeError",
			msg: "remote object '" + cp.p.URI().String() + "' has no exposed attribute or method '" + method + "'"})
		return
	case oneway:
		err = cp.p.OnewayKw(ctx, method, nil, params.kwargs())
	default:
		_, err = pyro.CallKwT[any](ctx, cp.p, method, nil, params.kwargs())
	}
	switch {
	case err != nil && raw.Exception:
		g.errs.Add(1)
		g.jsonReply(w, http.StatusInternalServerError, "", raw.Data)
	case err != nil:
		g.fail(w, path, err)
	case raw.Data == nil || oneway:
		g.jsonReply(w, http.StatusOK, corr, nil)
	default:
		g.jsonReply(w, http.StatusOK, corr, raw.Data)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
