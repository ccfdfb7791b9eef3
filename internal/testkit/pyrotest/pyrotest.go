// Package pyrotest starts daemons and proxies for pyrogo's tests, and
// stops them when the test ends: Start and Serve run a daemon, Proxy and
// ProxyURI make a proxy, Config is the config most tests want.
//
// It imports the root package, so the root package's internal tests
// (package pyro) cannot use it; its external tests, and the tests of
// naming, cmd/pyro and the other packages, do.
package pyrotest

import (
	"context"
	"errors"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
)

// Serializers are the four serializers pyrogo speaks.
var Serializers = []string{"serpent", "json", "marshal", "msgpack"}

// Config returns pyro.BuiltinConfig with every serializer accepted, so
// that a test can call with any of them.
func Config() *pyro.Config {
	cfg := pyro.BuiltinConfig()
	cfg.SerializersAccepted = append([]string(nil), Serializers...)
	return cfg
}

// Start makes a daemon with cfg and opts and serves it until the test
// ends. The cleanup shuts it down, letting calls in progress finish for
// up to testkit.Bound, and fails the test unless Serve returned
// pyro.ErrDaemonClosed.
func Start(t testing.TB, cfg *pyro.Config, opts ...pyro.DaemonOption) *pyro.Daemon {
	t.Helper()
	d, err := pyro.NewDaemon(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
		defer cancel()
		d.Shutdown(ctx)
		if err := <-served; !errors.Is(err, pyro.ErrDaemonClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return d
}

// Serve registers obj as id ("" for a generated id) in a daemon made as
// Start makes it, and returns the object's URI.
func Serve(t testing.TB, cfg *pyro.Config, id string, obj any, opts ...pyro.DaemonOption) pyro.URI {
	t.Helper()
	return Register(t, Start(t, cfg, opts...), id, obj)
}

// Register registers obj as id in d and returns its URI; it fails the
// test if d refuses.
func Register(t testing.TB, d *pyro.Daemon, id string, obj any) pyro.URI {
	t.Helper()
	u, err := d.Register(obj, id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Proxy returns a proxy for the URI text uri, closed when the test ends.
func Proxy(t testing.TB, uri string, cfg *pyro.Config, opts ...pyro.ProxyOption) *pyro.Proxy {
	t.Helper()
	p, err := pyro.NewProxy(uri, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// ProxyURI returns a proxy for u, closed when the test ends.
func ProxyURI(t testing.TB, u pyro.URI, cfg *pyro.Config, opts ...pyro.ProxyOption) *pyro.Proxy {
	t.Helper()
	p, err := pyro.NewProxyURI(u, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
