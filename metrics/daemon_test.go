package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/promscrape"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/metrics"
)

// pyClient is a Python Pyro4 client: with the HMAC key in argv[2] (""
// for none) it calls add three times, fail twice, a method that does not
// exist once (refused by the proxy, from the metadata), and prints what
// it got.
const pyClient = `
import sys, Pyro4
p = Pyro4.Proxy(sys.argv[1])
if sys.argv[2]:
    p._pyroHmacKey = sys.argv[2].encode()
try:
    for i in range(3):
        print("add", p.add(i, 1))
    for i in range(2):
        try:
            p.fail("no %d" % i)
        except ValueError as e:
            print("ValueError", e)
    try:
        p.nosuchmethod()
    except AttributeError as e:
        print("AttributeError", e)
except Exception as e:
    print("refused", type(e).__name__, e)
`

// TestDaemonMetrics scrapes a daemon's metrics after a known number of
// calls (from Python Pyro4 clients and Go proxies), exceptions and
// refusals (MAXCONNECTIONS, HMAC mismatch, passphrase) and checks the
// exact numbers.
func TestDaemonMetrics(t *testing.T) {
	ctx := context.Background()
	reg := metrics.New()
	url := serveMetrics(t, reg)

	cfg := pyro.BuiltinConfig()
	cfg.MaxConnections = 2
	key := []byte("metrics-key")
	d, err := pyro.NewDaemon(cfg, pyro.WithHMACKey(key), reg.Daemon("app"))
	if err != nil {
		t.Fatal(err)
	}
	uri, err := d.Register(Calc{}, "calc")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, d)

	locked, err := pyro.NewDaemon(nil, pyro.WithAllowedIdentifications([]string{"right passphrase"}), reg.Daemon("locked"))
	if err != nil {
		t.Fatal(err)
	}
	luri, err := locked.Register(Calc{}, "calc")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, locked)

	// a Python client with the key: 3 ok, 2 ValueErrors, 1 unknown method
	res := pytest.Cmd{Args: []string{"-c", pyClient, uri.String(), string(key)}}.Run(t)
	if res.ExitCode != 0 || strings.Count(res.Stdout, "add ") != 3 || strings.Count(res.Stdout, "ValueError") != 2 ||
		!strings.Contains(res.Stdout, "AttributeError") {
		t.Fatalf("python client: %+v", res)
	}
	// a Python client with the wrong key: refused (HMAC)
	res = pytest.Cmd{Args: []string{"-c", pyClient, uri.String(), "wrong key"}}.Run(t)
	if !strings.Contains(res.Stdout, "refused") {
		t.Fatalf("python client with the wrong key was not refused: %+v", res)
	}
	// two Go proxies hold the two MAXCONNECTIONS slots, a third is refused
	for i := range 2 {
		p := proxy(t, uri, pyro.WithHMACKey(key))
		if v, err := p.Call(ctx, "add", i, 10); err != nil || fmt.Sprint(v) != fmt.Sprint(i+10) {
			t.Fatalf("add: %v, %v", v, err)
		}
	}
	_, err = proxy(t, uri, pyro.WithHMACKey(key)).Call(ctx, "add", 1, 1)
	if !errors.Is(err, pyro.ErrConnectionDenied) {
		t.Fatalf("third connection: %v, want ConnectionDeniedError", err)
	}
	// a wrong passphrase
	_, err = proxy(t, luri, pyro.WithIdentification("wrong passphrase")).Call(ctx, "add", 1, 1)
	if err == nil {
		t.Fatal("wrong passphrase accepted")
	}
	// and a right one, one call
	if _, err := proxy(t, luri, pyro.WithIdentification("right passphrase")).Call(ctx, "add", 1, 1); err != nil {
		t.Fatal(err)
	}

	W := promscrape.W
	s := promscrape.Await(t, url, bound,
		W(5, "pyro_calls_total", "server", "app", "object", "calc", "method", "add", "outcome", "ok"),
		W(2, "pyro_calls_total", "server", "app", "object", "calc", "method", "fail", "outcome", "builtins.ValueError"),
		W(5, "pyro_call_duration_seconds_count", "server", "app", "object", "calc", "method", "add"),
		W(2, "pyro_call_duration_seconds_count", "server", "app", "object", "calc", "method", "fail"),
		W(5, "pyro_connections_total", "server", "app"),
		W(2, "pyro_connections_open", "server", "app"), // the two Go proxies
		W(1, "pyro_connections_refused_total", "server", "app", "reason", "hmac"),
		W(1, "pyro_connections_refused_total", "server", "app", "reason", "max_connections"),
		W(0, "pyro_connections_refused_total", "server", "app", "reason", "auth"),
		W(1, "pyro_connections_refused_total", "server", "locked", "reason", "auth"),
		W(2, "pyro_connections_total", "server", "locked"),
		W(1, "pyro_calls_total", "server", "locked", "object", "calc", "method", "add", "outcome", "ok"),
	)
	for k := range s {
		if strings.Contains(k, "nosuchmethod") {
			t.Errorf("series %s: an unknown method labels a series", k)
		}
	}
	for _, dir := range []string{"pyro_received_bytes_total", "pyro_sent_bytes_total"} {
		if n := s.Value(dir, "server", "app"); n < 100 {
			t.Errorf("%s = %v: too few for 8 calls and 5 handshakes", dir, n)
		}
	}
}
