package naming

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// The policy is one interceptor: it gates every name a method can be
// called by (the Python name, the Go name, a batch item, a proxy without
// metadata), and works in a daemon of one's own as in Server.
func TestPolicyInterceptor(t *testing.T) {
	t.Run("names", testPolicyInterceptorNames)
	t.Run("other objects", testPolicyInterceptorOtherObjects)
}

// startPolicyDaemon serves a NameServer in a daemon of its own under
// policy, with metadata off so that proxies send any name.
func startPolicyDaemon(t *testing.T, policy string) (*NameServer, *pyro.Daemon, *pyro.Config) {
	t.Helper()
	p, err := ParsePolicyString(policy)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Metadata = false // the proxy does not check names against metadata
	ns := NewNameServer(nil, nil)
	d, err := pyro.NewDaemon(cfg, pyro.WithHost("127.0.0.1"), pyro.WithPort(0), pyro.WithInterceptors(p.Interceptor(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(ns, ObjectID); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	t.Cleanup(func() {
		d.Close()
		<-served
	})
	return ns, d, cfg
}

// The interceptor gates only the name server object: a client the policy
// does not let in is refused by the name server, and may still call the
// daemon's own object.
func testPolicyInterceptorOtherObjects(t *testing.T) {
	_, d, cfg := startPolicyDaemon(t, "allow all identity=alice")
	ctx := ctxT(t)
	if _, err := pyrotest.ProxyURI(t, d.URIFor(ObjectID), cfg).Call(ctx, "ping"); !isSecurityError(err) ||
		!strings.Contains(err.Error(), "name server policy does not allow this client") {
		t.Errorf("ping without alice's identity: %v", err)
	}
	if _, err := pyrotest.ProxyURI(t, d.URIFor(pyro.DaemonObjectID), cfg).Call(ctx, "registered"); err != nil {
		t.Errorf("Pyro.Daemon registered(): %v", err)
	}
}

func testPolicyInterceptorNames(t *testing.T) {
	ns, d, cfg := startPolicyDaemon(t, `
allow connect
allow lookup,list name=public.*,Pyro.*
allow register name=public.*
`)
	for _, n := range []string{"public.a", "secret.a"} {
		if err := ns.register(n, "PYRO:x@127.0.0.1:1", nil); err != nil {
			t.Fatal(err)
		}
	}
	p := pyrotest.ProxyURI(t, d.URIFor(ObjectID), cfg)
	ctx := ctxT(t)
	const denied = `name server policy denies lookup of "secret.a"`
	for _, method := range []string{"lookup", "Lookup"} {
		if _, err := p.Call(ctx, method, "public.a"); err != nil {
			t.Errorf("%s public.a: %v", method, err)
		}
		if _, err := p.Call(ctx, method, "secret.a"); !isSecurityError(err) || !strings.Contains(err.Error(), denied) {
			t.Errorf("%s secret.a: %v", method, err)
		}
		if _, err := p.CallKw(ctx, method, nil, map[string]any{"name": "secret.a"}); !isSecurityError(err) {
			t.Errorf("%s(name='secret.a'): %v", method, err)
		}
		_, err := p.Batch().Call(method, "public.a").Call(method, "secret.a").Run(ctx)
		if !isSecurityError(err) || !strings.Contains(err.Error(), denied) {
			t.Errorf("batch %s secret.a: %v", method, err)
		}
	}
	for _, method := range []string{"register", "Register"} {
		if _, err := p.Call(ctx, method, "secret.b", "PYRO:y@127.0.0.1:1"); !isSecurityError(err) {
			t.Errorf("%s secret.b: %v", method, err)
		}
		if _, err := p.Call(ctx, method, "public.b", "PYRO:y@127.0.0.1:1"); err != nil {
			t.Errorf("%s public.b: %v", method, err)
		}
	}
	// register(safe=True) tells whether the name exists: refused for a
	// name the client may not look up, whichever way safe is given
	if _, err := p.CallKw(ctx, "register", []any{"public.c", "PYRO:y@127.0.0.1:1"}, map[string]any{"safe": true}); err != nil {
		t.Errorf("safe register of a visible name: %v", err)
	}
	// answers over sets of names see only what may be listed
	if v, err := p.Call(ctx, "count"); err != nil || v != int64(3) {
		t.Errorf("count: %v %v, want 3 (public.a, b, c)", v, err)
	}
	// the Go API is not restricted
	if _, err := ns.Lookup(ctx, "secret.a"); err != nil {
		t.Errorf("local lookup: %v", err)
	}
	if n, err := ns.Count(ctx); err != nil || n != 4 {
		t.Errorf("local count: %d %v, want 4", n, err)
	}
	var re *pyro.RemoteError
	if _, err := p.Call(ctx, "remove", "secret.a"); !errors.As(err, &re) || !isSecurityError(err) {
		t.Errorf("remove secret.a: %v", err)
	}
}
