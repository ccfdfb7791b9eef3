package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestConsoleRouting: the exact path /pyro/ and everything under
// /console/ go to the console handler (with the path cleaned of extra
// leading slashes); other paths do not.
func TestConsoleRouting(t *testing.T) {
	g, err := New(testConfig(), WithNameServer("PYRO:Pyro.NameServer@127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var seen []string
	g.console = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		w.WriteHeader(299)
	})
	cases := []struct {
		method, target string
		console        string // the path the console sees; "" = not the console
		status         int
	}{
		{"GET", "/pyro/", "GET /pyro/", 299},
		{"POST", "/pyro/", "POST /pyro/", 299},
		{"GET", "//pyro/", "GET /pyro/", 299},
		{"GET", "/console/", "GET /console/", 299},
		{"GET", "/console/api/info", "GET /console/api/info", 299},
		{"POST", "/console/api/call", "POST /console/api/call", 299},
		{"GET", "/", "", 302},
		{"GET", "/pyro", "", 404},
		{"GET", "/consolex", "", 404},
		{"GET", "/console", "", 404},
		{"DELETE", "/pyro/http.x/y", "", 405},
	}
	for _, c := range cases {
		seen = nil
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(c.method, c.target, nil)
		req.Host = "localhost" // httptest's example.com is refused on a gateway it cannot see bound elsewhere
		g.ServeHTTP(rec, req)
		got := ""
		if len(seen) == 1 {
			got = seen[0]
		}
		if got != c.console || rec.Code != c.status {
			t.Errorf("%s %s: console saw %q, status %d; want %q, %d", c.method, c.target, got, rec.Code, c.console, c.status)
		}
	}
}
