package metrics_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/promscrape"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/metrics"
)

// TestInstrumentHandler counts requests by method and code; methods a
// client makes up are "other".
func TestInstrumentHandler(t *testing.T) {
	reg := metrics.New()
	url := serveMetrics(t, reg)
	h := reg.InstrumentHandler("gw", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/flush":
			io.WriteString(w, "part")
			http.NewResponseController(w).Flush()
		default:
			io.WriteString(w, "ok")
		}
	}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	do := func(method, path string) {
		req, err := http.NewRequest(method, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for range 3 {
		do("GET", "/")
	}
	do("GET", "/missing")
	do("POST", "/flush")
	for i := range 50 {
		do("X"+strings.Repeat("Y", i), "/") // made-up methods
	}
	W := promscrape.W
	s := promscrape.Await(t, url, bound,
		W(3, "pyro_http_requests_total", "handler", "gw", "method", "GET", "code", "200"),
		W(1, "pyro_http_requests_total", "handler", "gw", "method", "GET", "code", "404"),
		W(1, "pyro_http_requests_total", "handler", "gw", "method", "POST", "code", "200"),
		W(50, "pyro_http_requests_total", "handler", "gw", "method", metrics.Other, "code", "200"),
		W(0, "pyro_http_requests_in_flight", "handler", "gw"),
		W(4, "pyro_http_request_duration_seconds_count", "handler", "gw", "method", "GET"),
		W(50, "pyro_http_request_duration_seconds_count", "handler", "gw", "method", metrics.Other),
	)
	if n := s.Count("pyro_http_requests_total"); n != 4 {
		t.Errorf("%d request series, want 4", n)
	}
}

// TestListenWarns: a metrics address that is not loopback is logged as
// a warning; a loopback one is not; Serve answers only GET /metrics.
func TestListenWarns(t *testing.T) {
	rec := &testkit.LogRecorder{}
	reg := metrics.New(metrics.WithLogger(slog.New(rec)))
	ln, err := reg.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if len(rec.Find("reachable from the network")) != 0 {
		t.Fatal("warning for a loopback address")
	}
	ln, err = reg.Listen("0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on 0.0.0.0: %v", err)
	}
	ln.Close()
	if len(rec.Find("reachable from the network")) != 1 {
		t.Fatalf("no warning for 0.0.0.0: %v", rec.Messages())
	}

	url := serveMetrics(t, reg)
	for _, c := range []struct {
		method, path string
		code         int
	}{{"GET", "/metrics", 200}, {"GET", "/", 404}, {"POST", "/metrics", 405}} {
		req, _ := http.NewRequest(c.method, strings.TrimSuffix(url, metrics.Path)+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.code)
		}
	}
}
