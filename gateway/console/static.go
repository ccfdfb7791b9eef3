package console

import (
	"embed"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// files are the page and its script and style sheet: plain files, no
// build step, nothing loaded from anywhere else.
//
//go:embed static/index.html static/console.js static/console.css
var files embed.FS

// asset is one embedded file with its fixed URL and media type.
type asset struct {
	body  []byte
	ctype string
}

// assets maps the only file URLs there are to their contents: a request
// path is looked up, never joined to a directory, so no path reaches
// anything else.
var assets = map[string]asset{
	Prefix + "console.js":  mustAsset("static/console.js", "text/javascript; charset=utf-8"),
	Prefix + "console.css": mustAsset("static/console.css", "text/css; charset=utf-8"),
}

// pageAsset is the page served at PagePath.
var pageAsset = mustAsset("static/index.html", "text/html; charset=utf-8")

func mustAsset(name, ctype string) asset {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("console: embedded file missing: " + name) // a build error, not a runtime condition
	}
	return asset{body: b, ctype: ctype}
}

// page serves the console's page (GET and HEAD only).
func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, r, pageAsset)
}

// static serves the console's files under Prefix; Prefix itself leads to
// the page.
func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == Prefix {
		http.Redirect(w, r, PagePath, http.StatusFound)
		return
	}
	a, ok := assets[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "no such file")
		return
	}
	serveAsset(w, r, a)
}

func serveAsset(w http.ResponseWriter, r *http.Request, a asset) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only GET and HEAD")
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("Content-Length", strconv.Itoa(len(a.body)))
	hd.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(a.body)
	}
}

// cleanPath is p cleaned of ".", ".." and repeated slashes, keeping a
// trailing slash.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		return "/" // never equal to a non-absolute path: refused
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
