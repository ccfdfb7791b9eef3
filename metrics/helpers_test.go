package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/metrics"
)

// Calc is the object the tests call.
type Calc struct{}

func (Calc) Add(a, b int) int { return a + b }

// Fail raises a ValueError.
func (Calc) Fail(msg string) error { return &pyro.PythonError{Class: "ValueError", Msg: msg} }

// bound is the hang detector's bound for metrics to settle.
var bound = testbound.Scale(30 * time.Second)

// serveMetrics serves reg's /metrics on a free loopback port until the
// test ends, and returns its URL.
func serveMetrics(t *testing.T, reg *metrics.Registry) string {
	t.Helper()
	ln, err := reg.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reg.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + metrics.Path
}

// serve runs d until the test ends.
func serve(t *testing.T, d *pyro.Daemon) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- d.Serve(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		d.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, pyro.ErrDaemonClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
}

// proxy makes a proxy that is closed when the test ends.
func proxy(t *testing.T, uri pyro.URI, opts ...pyro.ProxyOption) *pyro.Proxy {
	t.Helper()
	p, err := pyro.NewProxyURI(uri, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
