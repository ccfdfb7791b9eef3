package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzPaths: for any path and query, the gateway answers without
// panicking, and it only goes on to the name server (here unreachable, so
// that is a 500) for a name the expose regex matches and an allowed
// method. The seeds run in every test run; "go test -fuzz FuzzPaths
// ./gateway" explores further.
func FuzzPaths(f *testing.F) {
	for _, s := range []string{"/pyro/http.x/echo?message=a", "/pyro/secret/echo", "/pyro/http.x/../secret/echo",
		"//pyro//http.x/y", "/pyro/http.x/%2e%2e", "/pyro/PYRO:x@h:1/echo", "/pyro/http.x/_pyroBind", "/pyro/http.x/$meta",
		"/pyro/http.%00/x", "/pyro/a/b/c/d", "/", "/pyro/", "/console/x", "/pyro/http.x/y?$key=1&a=1&a=2"} {
		f.Add(s)
	}
	g, err := New(testConfig(), WithNameServer("PYRO:Pyro.NameServer@127.0.0.1:1"), WithTimeout(2e9))
	if err != nil {
		f.Fatal(err)
	}
	defer g.Close()
	g.console = http.NotFoundHandler()
	f.Fuzz(func(t *testing.T, target string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Host != "" {
			return
		}
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, &http.Request{Method: "GET", URL: u, Header: http.Header{}, Body: http.NoBody, Host: "x"})
		if rec.Code == 200 || rec.Code == 500 {
			path := strings.TrimLeft(u.Path, "/")
			name, method, ok := splitPath(strings.TrimPrefix(path, "pyro/"))
			if !strings.HasPrefix(path, "pyro/") || !ok || !g.exposed(name) || !allowedMethod(method) || !cleanText(path) {
				t.Fatalf("%q answered %d: %s", target, rec.Code, rec.Body)
			}
		}
	})
}
