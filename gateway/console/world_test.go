package console_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/naming"
)

// Calculator is a Go object the browser test calls.
type Calculator struct{}

// Add adds.
func (Calculator) Add(a, b int) int { return a + b }

// Divide divides, or raises ZeroDivisionError.
func (Calculator) Divide(a, b float64) (float64, error) {
	if b == 0 {
		return 0, &pyro.PythonError{Class: "ZeroDivisionError", Msg: "division by zero"}
	}
	return a / b, nil
}

// Summary describes a list of numbers and a label.
func (Calculator) Summary(label string, xs []int) map[string]any {
	s := 0
	for _, x := range xs {
		s += x
	}
	return map[string]any{"label": label, "count": len(xs), "sum": s}
}

// Greeter answers with a greeting.
type Greeter struct{}

// Greet greets.
func (Greeter) Greet(name string) string { return "hello " + name }

// hostileName is a name an attacker could register; the page must show
// it as text.
const hostileName = `http.<img src=x onerror=alert(1)>`

func testConfig() *pyro.Config {
	cfg := pyro.BuiltinConfig()
	cfg.CommTimeout = testbound.Scale(10 * time.Second)
	return cfg
}

// startWorld starts a name server and a Go daemon on loopback and
// registers the Go objects: http.calc, http.greeter, the hostile name
// (exposed by the default regex) and internal.secret (not exposed).
// Everything stops in t.Cleanup.
func startWorld(t *testing.T) *naming.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(30*time.Second))
	defer cancel()
	srv, err := naming.Start(testConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0), naming.WithBroadcast(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	})
	d, err := pyro.NewDaemon(testConfig(), pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = d.Serve(context.Background()) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = d.Shutdown(sctx)
		<-served
	})
	p, err := pyro.NewProxyURI(srv.URI(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	ns := naming.NewClient(p)
	reg := func(obj any, id, name string, tags ...string) {
		u, err := d.Register(obj, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := ns.Register(ctx, name, u.String(), false, tags); err != nil {
			t.Fatal(err)
		}
	}
	reg(Calculator{}, "calc", "http.calc", "kind:arith", "lang:go")
	reg(Greeter{}, "greeter", "http.greeter", "kind:text", "lang:go")
	reg(Greeter{}, "hostile", hostileName, "<script>alert(2)</script>")
	reg(Calculator{}, "secret", "internal.secret", "kind:arith")
	return srv
}

// nsHostPort is the name server's host and port, for a Python script's
// argv.
func nsHostPort(t *testing.T, u pyro.URI) []string {
	t.Helper()
	host, port, err := net.SplitHostPort(u.Location())
	if err != nil {
		t.Fatal(err)
	}
	return []string{strings.Trim(host, "[]"), port}
}

// startGateway serves the real gateway (and so the console) for the name
// server at nsURI on a loopback port and returns its base URL.
func startGateway(t *testing.T, nsURI string, opts ...gateway.Option) string {
	t.Helper()
	g, err := gateway.New(testConfig(), append([]gateway.Option{gateway.WithNameServer(nsURI)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := g.NewServer(l.Addr().String())
	done := make(chan error, 1)
	go func() { done <- g.Serve(srv, l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("gateway Serve: %v", err)
		}
		_ = g.Close()
	})
	return "http://" + l.Addr().String()
}
