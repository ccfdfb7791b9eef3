package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/naming"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testConfig is the built-in config with a bounded COMMTIMEOUT.
func testConfig() *pyro.Config {
	cfg := pyro.BuiltinConfig()
	cfg.CommTimeout = testbound.Scale(10 * time.Second)
	return cfg
}

// startNS starts a Go name server on 127.0.0.1; it stops with the test.
func startNS(t testing.TB) *naming.Server {
	t.Helper()
	s, err := naming.Start(testConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0), naming.WithBroadcast(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// GoThing is the Go daemon's object behind the gateway.
type GoThing struct{}

type goEchoArgs struct {
	pyro.Args
	Message any `pyro:",optional"`
}

// Echo returns its message.
func (GoThing) Echo(a goEchoArgs) any { return a.Message }

// Fail raises.
func (GoThing) Fail() error { return errors.New("go thing failed") }

// Corr returns the correlation id of the call as the daemon got it.
func (GoThing) Corr(ctx context.Context) string {
	if cc := pyro.CallContextFrom(ctx); cc != nil {
		return formatUUID(cc.CorrelationID)
	}
	return "no call context"
}

// Slow waits until its context ends or seconds pass.
func (GoThing) Slow(ctx context.Context) string {
	select {
	case <-ctx.Done():
	case <-time.After(testbound.Scale(20 * time.Second)):
	}
	return "slept"
}

// startGoDaemon serves GoThing and registers it as each of names.
func startGoDaemon(t testing.TB, ns *naming.Server, names ...string) pyro.URI {
	t.Helper()
	d, err := pyro.NewDaemon(testConfig(), pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Register(GoThing{}, "gothing")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Serve(ctx) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		d.Shutdown(sctx)
		cancel()
		<-done
	})
	c := nsClientFor(t, ns)
	for _, n := range names {
		if err := c.Register(context.Background(), n, u, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func nsClientFor(t testing.TB, ns *naming.Server) *naming.Client {
	t.Helper()
	p, err := pyro.NewProxyURI(ns.URI(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return naming.NewClient(p)
}

// startGateway serves a Go gateway for ns on a loopback port and returns
// its base URL ("http://127.0.0.1:PORT").
func startGateway(t testing.TB, ns *naming.Server, opts ...Option) (*Gateway, string) {
	t.Helper()
	g, err := New(testConfig(), append([]Option{WithNameServer(ns.URI().String())}, opts...)...)
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
			srv.Close()
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		g.Close()
	})
	return g, "http://" + l.Addr().String()
}
