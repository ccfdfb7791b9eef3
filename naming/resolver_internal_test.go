package naming

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// servePassThing serves a policyThing ("hello" answers "hi") as "thing"
// in a daemon on 127.0.0.1 with the given daemon options.
func servePassThing(t *testing.T, opts ...pyro.DaemonOption) pyro.URI {
	t.Helper()
	return pyrotest.Serve(t, testConfig(), "thing", &policyThing{}, append([]pyro.DaemonOption{pyro.WithHost("127.0.0.1"), pyro.WithPort(0)}, opts...)...)
}

// callName calls hello() through a new proxy for name.
func callName(t *testing.T, name string, opts ...pyro.ProxyOption) (any, error) {
	t.Helper()
	p, err := pyro.NewProxy(name, testConfig(), opts...)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Call(ctxT(t), "hello")
}

// TestResolverOwnNSPassphrase: the name server requires a passphrase and
// the target daemon has none. A proxy's identification applies to every
// daemon it talks to, so neither a proxy with the passphrase (the target
// cannot prove it) nor one without (the name server refuses it) gets
// through with the default resolver; a resolver with its own
// identification for the name server does.
func TestResolverOwnNSPassphrase(t *testing.T) {
	s := startNS(t, nil, WithDaemonOptions(pyro.WithAllowedIdentifications([]string{"ns-pass"})))
	u := servePassThing(t)
	if err := s.NameServer().register("thing", u.String(), nil); err != nil {
		t.Fatal(err)
	}
	name := "PYRONAME:thing@127.0.0.1:" + strconv.Itoa(s.URI().Port)

	if _, err := callName(t, name, pyro.WithIdentification("ns-pass"), pyro.WithResolver(NewResolver())); !errors.Is(err, pyro.ErrSecurity) {
		t.Errorf("the proxy's passphrase on a target without one: %v", err)
	}
	if _, err := callName(t, name, pyro.WithResolver(NewResolver())); !errors.Is(err, pyro.ErrConnectionDenied) {
		t.Errorf("no passphrase for the name server: %v", err)
	}
	r := NewResolver(WithProxyOptions(pyro.WithIdentification("ns-pass")))
	if v, err := callName(t, name, pyro.WithResolver(r)); err != nil || v != "hi" {
		t.Fatalf("resolver with the name server's passphrase: %v %v", v, err)
	}
	// a wrong passphrase for the name server fails, whatever is cached
	// elsewhere
	wrong := NewResolver(WithProxyOptions(pyro.WithIdentification("guess")))
	if _, err := callName(t, name, pyro.WithResolver(wrong)); !errors.Is(err, pyro.ErrConnectionDenied) {
		t.Errorf("wrong name server passphrase: %v", err)
	}
}

// TestResolverWithoutProxyPassphrase: the reverse case: the target
// requires a passphrase, the name server does not know it. The resolver
// drops the proxy's identification for the name server.
func TestResolverWithoutProxyPassphrase(t *testing.T) {
	s := startNS(t, nil)
	u := servePassThing(t, pyro.WithAllowedIdentifications([]string{"target-pass"}))
	if err := s.NameServer().register("thing", u.String(), nil); err != nil {
		t.Fatal(err)
	}
	name := "PYRONAME:thing@127.0.0.1:" + strconv.Itoa(s.URI().Port)
	if _, err := callName(t, name, pyro.WithIdentification("target-pass"), pyro.WithResolver(NewResolver())); !errors.Is(err, pyro.ErrSecurity) {
		t.Errorf("the proxy's passphrase on a name server without one: %v", err)
	}
	r := NewResolver(WithProxyOptions(pyro.WithIdentification("")))
	if v, err := callName(t, name, pyro.WithIdentification("target-pass"), pyro.WithResolver(r)); err != nil || v != "hi" {
		t.Fatalf("resolver without the passphrase: %v %v", v, err)
	}
}

// TestResolverOwnCache: each resolver has its own cache and TTL; the
// default one is pyro's default resolver.
func TestResolverOwnCache(t *testing.T) {
	if r, ok := pyro.DefaultResolver().(*Resolver); !ok || r != DefaultResolver() {
		t.Fatalf("pyro.DefaultResolver() = %v, want naming.DefaultResolver()", pyro.DefaultResolver())
	}
	s := startNS(t, nil)
	u := servePassThing(t)
	if err := s.NameServer().register("thing", u.String(), nil); err != nil {
		t.Fatal(err)
	}
	name, _ := pyro.ParseURI("PYRONAME:thing@127.0.0.1:" + strconv.Itoa(s.URI().Port))
	cached, uncached := NewResolver(WithResolveTTL(time.Hour)), NewResolver(WithResolveTTL(0))
	for _, r := range []*Resolver{cached, uncached} {
		if got, err := r.Resolve(ctxT(t), name, nil); err != nil || !got.Equal(u) {
			t.Fatalf("resolve: %v %v", got, err)
		}
	}
	// the registration changes: the caching resolver keeps its answer,
	// the other asks again
	if err := s.NameServer().register("thing", "PYRO:moved@127.0.0.1:1", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := cached.Resolve(ctxT(t), name, nil); !got.Equal(u) {
		t.Errorf("cached answer: %v", got)
	}
	if got, _ := uncached.Resolve(ctxT(t), name, nil); got.Object != "moved" {
		t.Errorf("uncached answer: %v", got)
	}
	// Forget and Flush act on one resolver only
	other := NewResolver(WithResolveTTL(time.Hour))
	if got, _ := other.Resolve(ctxT(t), name, nil); got.Object != "moved" {
		t.Fatalf("other: %v", got)
	}
	cached.Forget(name, u)
	if got, _ := cached.Resolve(ctxT(t), name, nil); got.Object != "moved" {
		t.Errorf("after Forget: %v", got)
	}
	if err := s.NameServer().register("thing", u.String(), nil); err != nil {
		t.Fatal(err)
	}
	cached.Flush()
	if got, _ := cached.Resolve(ctxT(t), name, nil); !got.Equal(u) {
		t.Errorf("after Flush: %v", got)
	}
	if got, _ := other.Resolve(ctxT(t), name, nil); got.Object != "moved" {
		t.Errorf("another resolver's Flush emptied this cache: %v", got)
	}
}
