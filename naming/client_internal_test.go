package naming

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"

	"github.com/pyrogo/pyro"
)

// Every Client method against pyro4-ns and against the Go name server,
// with the same expectations.
func TestClientBothNameServers(t *testing.T) {
	for _, kind := range []string{"pyro4-ns", "go-ns"} {
		t.Run(kind, func(t *testing.T) {
			var ns pyro.URI
			if kind == "go-ns" {
				ns = startNS(t, nil).URI()
			} else {
				ns = startPyNS(t)
			}
			p, err := Locate(ctxT(t), WithConfig(testConfig()), WithNSHost(ns.Host), WithNSPort(ns.Port))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			c := NewClient(p)
			ctx := ctxT(t)
			check := func(what string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			check("ping", c.Ping(ctx))
			check("register", c.Register(ctx, "t.a", "PYRO:a@127.0.0.1:1", false, []string{"x", "y"}))
			check("register URI", c.Register(ctx, "t.b", pyro.URI{Protocol: "PYRO", Object: "b", Host: "127.0.0.1", Port: 2}, true, nil))
			check("register", c.Register(ctx, "u.c", "PYRO:c@127.0.0.1:3", false, []string{"y"}))
			err = c.Register(ctx, "t.a", "PYRO:a@127.0.0.1:1", true, nil)
			if !errors.Is(err, pyro.ErrNaming) || err.Error() != "NamingError: name already registered: t.a" {
				t.Errorf("safe register: %v", err)
			}
			if n, err := c.Count(ctx); err != nil || n != 4 {
				t.Errorf("count: %d %v", n, err)
			}
			u, err := c.Lookup(ctx, "t.b")
			if err != nil || u.String() != "PYRO:b@127.0.0.1:2" {
				t.Errorf("lookup: %v %v", u, err)
			}
			u, tags, err := c.LookupMetadata(ctx, "t.a")
			slices.Sort(tags)
			if err != nil || u.Object != "a" || !slices.Equal(tags, []string{"x", "y"}) {
				t.Errorf("lookup metadata: %v %v %v", u, tags, err)
			}
			if _, err := c.Lookup(ctx, "nope"); !errors.Is(err, pyro.ErrNaming) {
				t.Errorf("lookup unknown: %v", err)
			}
			names := func(f Filter) []string {
				t.Helper()
				regs, err := c.List(ctx, f)
				if err != nil {
					t.Fatalf("list %+v: %v", f, err)
				}
				var out []string
				for _, r := range regs {
					out = append(out, r.Name)
				}
				slices.Sort(out)
				return out
			}
			for _, tc := range []struct {
				f    Filter
				want string
			}{
				{Filter{}, "Pyro.NameServer t.a t.b u.c"},
				{Filter{Prefix: "t."}, "t.a t.b"},
				{Filter{Regex: `[tu]\.[ac]`}, "t.a u.c"},
				{Filter{MetadataAll: []string{"x", "y"}}, "t.a"},
				{Filter{MetadataAny: []string{"y", "zz"}}, "t.a u.c"},
			} {
				if got := strings.Join(names(tc.f), " "); got != tc.want {
					t.Errorf("list %+v: %q, want %q", tc.f, got, tc.want)
				}
			}
			if _, err := c.List(ctx, Filter{Prefix: "a", Regex: "b"}); err == nil || !strings.Contains(err.Error(), "you can only filter on one thing at a time") {
				t.Errorf("two filters: %v", err)
			}
			check("set metadata", c.SetMetadata(ctx, "t.b", []string{"z"}))
			if got := strings.Join(names(Filter{MetadataAny: []string{"z"}}), " "); got != "t.b" {
				t.Errorf("after set_metadata: %q", got)
			}
			if n, err := c.Remove(ctx, "u.c"); err != nil || n != 1 {
				t.Errorf("remove: %d %v", n, err)
			}
			if n, err := c.RemoveRegex(ctx, `t\.b`); err != nil || n != 1 {
				t.Errorf("remove regex: %d %v", n, err)
			}
			if n, err := c.RemovePrefix(ctx, "t"); err != nil || n != 1 {
				t.Errorf("remove prefix: %d %v", n, err)
			}
			if n, err := c.RemovePrefix(ctx, "Pyro"); err != nil || n != 0 {
				t.Errorf("remove prefix Pyro: %d %v", n, err)
			}
			if got := strings.Join(names(Filter{}), " "); got != "Pyro.NameServer" {
				t.Errorf("at the end: %q", got)
			}
		})
	}
}

// Locate: direct host, NS_HOST on localhost with a port, a unix socket,
// and the failure message.
func TestLocate(t *testing.T) {
	s := startNS(t, nil)
	ctx := ctxT(t)
	cfg := testConfig()
	p, err := Locate(ctx, WithConfig(cfg), WithNSHost("127.0.0.1"), WithNSPort(s.URI().Port), WithoutBroadcast())
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	// no host: NS_HOST is localhost, tried directly on the given port
	cfg.NSHost = "127.0.0.1"
	p, err = Locate(ctx, WithConfig(cfg), WithNSPort(s.URI().Port), WithoutBroadcast())
	if err != nil {
		t.Fatal(err)
	}
	if p.URI().Port != s.URI().Port {
		t.Errorf("found %v", p.URI())
	}
	p.Close()

	sock := filepath.Join(t.TempDir(), "ns.sock")
	us := startNS(t, nil, WithUnixSocket(sock))
	if us.NoBroadcastReason() != "unix socket" || us.URI().Sockname != sock {
		t.Errorf("unix server: %v %q", us.URI(), us.NoBroadcastReason())
	}
	p, err = Locate(ctx, WithConfig(testConfig()), WithNSHost("./u:"+sock))
	if err != nil {
		t.Fatal(err)
	}
	if err := NewClient(p).Ping(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	// nothing anywhere: NamingError after the direct tries
	cfg = testConfig()
	cfg.NSHost = "127.0.0.1"
	cfg.NSPort = testkit.FreeTCPPort(t)
	start := time.Now()
	_, err = Locate(ctx, WithConfig(cfg), WithoutBroadcast())
	if !errors.Is(err, pyro.ErrNaming) || !strings.HasPrefix(err.Error(), "Failed to locate the nameserver") {
		t.Errorf("no name server: %v", err)
	}
	if time.Since(start) > testbound.Scale(5*time.Second) {
		t.Errorf("took %v", time.Since(start))
	}
	_, err = Locate(ctx, WithConfig(cfg), WithNSHost("127.0.0.1"), WithNSPort(cfg.NSPort))
	if !errors.Is(err, pyro.ErrNaming) {
		t.Errorf("no name server at host: %v", err)
	}
}

// HMAC keys: Locate's key reaches the name server; a wrong key fails.
func TestLocateHMAC(t *testing.T) {
	cfg := testConfig()
	cfg.HMACKey = []byte("secret")
	s := startNS(t, cfg)
	ctx := ctxT(t)
	p, err := Locate(ctx, WithConfig(testConfig()), WithNSHost("127.0.0.1"), WithNSPort(s.URI().Port), WithProxyOptions(pyro.WithHMACKey([]byte("secret"))))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := Locate(ctx, WithConfig(testConfig()), WithNSHost("127.0.0.1"), WithNSPort(s.URI().Port), WithProxyOptions(pyro.WithHMACKey([]byte("wrong")))); err == nil {
		t.Error("wrong key accepted")
	}
	// PYRONAME resolution uses the proxy's key
	d, err := pyro.NewDaemon(cfg, pyro.WithHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); d.Serve(ctx) }()
	defer func() { d.Close(); <-done }()
	u, _ := d.Register(&thing{who: "keyed"}, "keyed")
	nsp, _ := Locate(ctx, WithConfig(cfg), WithNSHost("127.0.0.1"), WithNSPort(s.URI().Port))
	defer nsp.Close()
	if err := NewClient(nsp).Register(ctx, "keyed", u, false, nil); err != nil {
		t.Fatal(err)
	}
	px, _ := pyro.NewProxy("PYRONAME:keyed@"+nsLoc(s.URI()), cfg, pyro.WithResolver(NewResolver()))
	defer px.Close()
	if got, err := pyro.CallT[string](ctx, px, "whoami"); err != nil || got != "keyed" {
		t.Errorf("keyed PYRONAME: %q %v", got, err)
	}
}
