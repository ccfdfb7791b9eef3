package naming

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pyrogo/pyro"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testConfig is the built-in config with a short COMMTIMEOUT, so that no
// test can hang on a dead peer.
func testConfig() *pyro.Config {
	cfg := pyro.BuiltinConfig()
	cfg.CommTimeout = 10 * time.Second
	return cfg
}

// startNS starts a Go name server on 127.0.0.1 and a free port; it is
// shut down in t.Cleanup.
func startNS(t testing.TB, cfg *pyro.Config, opts ...ServerOption) *Server {
	t.Helper()
	if cfg == nil {
		cfg = testConfig()
	}
	opts = append([]ServerOption{WithHost("127.0.0.1"), WithPort(0)}, opts...)
	s, err := Start(cfg, opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// nsClient returns a client for the name server at u; the proxy is
// closed in t.Cleanup.
func nsClient(t testing.TB, u string, opts ...pyro.ProxyOption) *Client {
	t.Helper()
	p, err := pyro.NewProxy(u, testConfig(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return NewClient(p)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
