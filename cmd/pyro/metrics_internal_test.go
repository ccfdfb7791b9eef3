package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/promscrape"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// startWithMetrics runs the built pyro with args and returns its ready
// line's rest and the URL of its metrics.
func startWithMetrics(t *testing.T, ready string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(testkit.PyroCommand(t), args...)
	cmd.Env = append(os.Environ(), "PYRO_NS_HOST=127.0.0.1")
	p := testkit.StartProcess(t, cmd, testkit.Prefix(ready))
	line, ok := p.Output.WaitLine("Metrics on ", p.Exited)
	if !ok {
		t.Fatalf("no metrics line:\n%s", p.Output)
	}
	_, url, _ := strings.Cut(line, "Metrics on ")
	return p.Ready, strings.TrimSpace(url)
}

// pyNSClient registers two names and looks up argv[2:] in the name
// server at argv[1].
const pyNSClient = `
import sys, Pyro4, Pyro4.errors
ns = Pyro4.Proxy(sys.argv[1])
ns.register("app.a", "PYRO:a@localhost:1")
ns.register("app.b", "PYRO:b@localhost:1")
for name in sys.argv[2:]:
    try:
        print("found", name, ns.lookup(name))
    except Pyro4.errors.NamingError as e:
        print("missing", name, e)
`

// TestNSMetricsFlag: pyro ns --metrics serves the name server's metrics;
// a Python Pyro4 client's registrations and lookups show in them.
func TestNSMetricsFlag(t *testing.T) {
	uri, url := startWithMetrics(t, "URI = ", "ns", "-n", "127.0.0.1", "-p", "0", "-x", "--metrics", "127.0.0.1:0")
	res := pytest.Cmd{Args: []string{"-c", pyNSClient, uri, "app.a", "app.b", "app.a", "app.zzz"}}.Run(t)
	if strings.Count(res.Stdout, "found ") != 3 || strings.Count(res.Stdout, "missing ") != 1 {
		t.Fatalf("python client: %+v", res)
	}
	W := promscrape.W
	promscrape.Await(t, url, testbound.Scale(30e9),
		W(2, "pyro_ns_registrations_total", "server", "ns", "result", "ok"),
		W(3, "pyro_ns_lookups_total", "server", "ns", "result", "found"),
		W(1, "pyro_ns_lookups_total", "server", "ns", "result", "not_found"),
		W(3, "pyro_ns_names", "server", "ns"),
		W(1, "pyro_connections_total", "server", "ns"),
		W(0, "pyro_connections_open", "server", "ns"),
		W(1, "pyro_calls_total", "server", "ns", "object", naming.ObjectID, "method", "lookup", "outcome", "Pyro4.errors.NamingError"),
	)
}

// TestESMetricsFlag: pyro es --metrics serves the event server's metrics.
func TestESMetricsFlag(t *testing.T) {
	ctx := context.Background()
	uriText, url := startWithMetrics(t, "URI = ", "es", "-n", "127.0.0.1", "-N", "--metrics", "127.0.0.1:0")
	uri := mustParseURI(t, uriText)
	sub, err := events.Subscribe(ctx, uri, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(context.Background())
	for range 3 {
		if err := events.Publish(ctx, uri, []string{"a", "b"}, 1); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, err := range sub.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	W := promscrape.W
	promscrape.Await(t, url, testbound.Scale(30e9),
		W(6, "pyro_es_published_total", "server", "es"),
		W(3, "pyro_es_delivered_total", "server", "es"),
		W(1, "pyro_es_subscribers", "server", "es"),
		W(3, "pyro_calls_total", "server", "es", "object", events.ObjectID, "method", "publish", "outcome", "ok"),
	)
}

// TestEchoserverMetricsFlag: pyro echoserver --metrics serves the
// daemon's metrics.
func TestEchoserverMetricsFlag(t *testing.T) {
	ctx := context.Background()
	uriText, url := startWithMetrics(t, "echo uri: ", "echoserver", "-H", "127.0.0.1", "--metrics", "127.0.0.1:0")
	p, err := pyro.NewProxy(uriText, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 2 {
		if _, err := p.Call(ctx, "echo", "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Call(ctx, "error"); err == nil {
		t.Fatal("error() did not fail")
	}
	W := promscrape.W
	promscrape.Await(t, url, testbound.Scale(30e9),
		W(2, "pyro_calls_total", "server", "echoserver", "object", "test.echoserver", "method", "echo", "outcome", "ok"),
		W(1, "pyro_calls_total", "server", "echoserver", "object", "test.echoserver", "method", "error", "outcome", "builtins.ValueError"),
		W(1, "pyro_connections_open", "server", "echoserver"),
	)
}

// TestHTTPGatewayMetricsFlag: pyro httpgateway --metrics counts the
// gateway's HTTP requests by method and status.
func TestHTTPGatewayMetricsFlag(t *testing.T) {
	closedPort := strconv.Itoa(testkit.FreeTCPPort(t)) // no name server there
	base, url := startWithMetrics(t, "Pyro HTTP gateway running on ", "httpgateway", "-H", "127.0.0.1", "-p", "0",
		"-n", "127.0.0.1", "--nsport", closedPort, "--metrics", "127.0.0.1:0")
	base = strings.TrimSuffix(base, "/pyro/")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, want int) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	get("/", http.StatusFound)
	for range 2 {
		get("/pyro/not.exposed/method", http.StatusForbidden)
	}
	W := promscrape.W
	promscrape.Await(t, url, testbound.Scale(30e9),
		W(1, "pyro_http_requests_total", "handler", "gateway", "method", "GET", "code", "302"),
		W(2, "pyro_http_requests_total", "handler", "gateway", "method", "GET", "code", "403"),
		W(0, "pyro_http_requests_in_flight", "handler", "gateway"),
	)
}
