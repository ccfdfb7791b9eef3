package naming

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/wire"
)

// serializers5 are the serializers a Pyro5 name server speaks.
var serializers5 = []string{"serpent", "marshal", "json", "msgpack"}

// startNS5 runs Pyro5's own name server and returns its URI.
func startNS5(t *testing.T, o pytest.NS5) (*pytest.NameServer5, pyro.URI) {
	t.Helper()
	ns := pytest.StartNameServer5(t, o)
	u, err := pyro.ParseURI(ns.URI)
	if err != nil {
		t.Fatal(err)
	}
	return ns, u
}

// Every Client method against Pyro5's own name server, over each of
// Pyro5's serializers: the proxy Locate returns detects Pyro5's protocol
// (PROTOCOL auto) and Pyro5's answers (metadata as sets, list without
// metadata filters, which List then asks of yplookup) come back as the
// Client's Go values.
func TestClientPyro5NameServer(t *testing.T) {
	pytest.Pyro5(t)
	for _, ser := range serializers5 {
		t.Run(ser, func(t *testing.T) {
			_, ns := startNS5(t, pytest.NS5{})
			cfg := testConfig()
			cfg.Serializer = ser
			p, err := Locate(ctxT(t), WithConfig(cfg), WithNSHost(ns.Host), WithNSPort(ns.Port))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if p.Protocol() != int(wire.Protocol502) {
				t.Fatalf("protocol %d, want 502", p.Protocol())
			}
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
			// metadata set() rather than None: see the end for None
			check("register URI", c.Register(ctx, "t.b", pyro.URI{Protocol: "PYRO", Object: "b", Host: "127.0.0.1", Port: 2}, true, []string{}))
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
			if ser == "marshal" {
				// Pyro5's marshal serializer cannot send the URI object
				// in lookup's (uri, metadata) tuple: a Python client gets
				// this error too
				if err == nil || err.Error() != "ValueError: unmarshallable object" {
					t.Errorf("lookup metadata over marshal: %v %v %v", u, tags, err)
				}
			} else if err != nil || u.Object != "a" || !slices.Equal(tags, []string{"x", "y"}) {
				t.Errorf("lookup metadata: %v %v %v", u, tags, err)
			}
			if _, err := c.Lookup(ctx, "nope"); !errors.Is(err, pyro.ErrNaming) || err.Error() != "NamingError: unknown name: nope" {
				t.Errorf("lookup unknown: %v", err)
			}
			names := func(regs []Registration, err error) string {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range regs {
					out = append(out, r.Name)
				}
				slices.Sort(out)
				return strings.Join(out, " ")
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
				{Filter{MetadataAny: []string{"class:Pyro5.nameserver.NameServer"}}, "Pyro.NameServer"},
			} {
				if got := names(c.List(ctx, tc.f)); got != tc.want {
					t.Errorf("list %+v: %q, want %q", tc.f, got, tc.want)
				}
			}
			regs, err := c.List(ctx, Filter{Prefix: "t.a"})
			if err != nil || len(regs) != 1 || regs[0].URI != "PYRO:a@127.0.0.1:1" || len(regs[0].Metadata) != 2 {
				t.Errorf("list t.a: %+v %v", regs, err)
			}
			if got := names(c.Yplookup(ctx, []string{"y"}, nil)); got != "t.a u.c" {
				t.Errorf("yplookup all y: %q", got)
			}
			if got := names(c.Yplookup(ctx, nil, []string{"x", "zz"})); got != "t.a" {
				t.Errorf("yplookup any x: %q", got)
			}
			if _, err := c.List(ctx, Filter{Prefix: "a", Regex: "b"}); err == nil || err.Error() != "ValueError: you can only filter on one thing at a time" {
				t.Errorf("two filters: %v", err)
			}
			check("set metadata", c.SetMetadata(ctx, "t.b", []string{"z"}))
			if got := names(c.List(ctx, Filter{MetadataAny: []string{"z"}})); got != "t.b" {
				t.Errorf("after set_metadata: %q", got)
			}
			if err := c.SetMetadata(ctx, "nope", []string{"z"}); !errors.Is(err, pyro.ErrNaming) {
				t.Errorf("set_metadata unknown: %v", err)
			}
			if n, err := c.Remove(ctx, "u.c"); err != nil || n != 1 {
				t.Errorf("remove: %d %v", n, err)
			}
			if n, err := c.Remove(ctx, "u.c"); err != nil || n != 0 {
				t.Errorf("remove again: %d %v", n, err)
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
			if got := names(c.List(ctx, Filter{})); got != "Pyro.NameServer" {
				t.Errorf("at the end: %q", got)
			}
			// Pyro5's name server stores metadata None as a frozenset,
			// which its json and msgpack serializers cannot send: a
			// Python client's list(return_metadata=True) fails the same
			// way, and the Go client reports Pyro5's error
			check("register without metadata", c.Register(ctx, "nometa", "PYRO:n@127.0.0.1:4", false, nil))
			_, err = c.List(ctx, Filter{})
			switch ser {
			case "json", "msgpack":
				if !errors.Is(err, pyro.ErrSerialize) || !strings.Contains(err.Error(), "don't know how to serialize class <class 'frozenset'>") {
					t.Errorf("list with a None metadata over %s: %v", ser, err)
				}
			default:
				check("list with a None metadata", err)
			}
		})
	}
}

// Locate finds Pyro5's name server directly (host and port) and by
// broadcast on loopback (Pyro5's BroadcastServer answers), and the proxy
// it returns speaks 502; a proxy forced to protocol 4 fails to locate it
// and says why.
func TestLocatePyro5NameServer(t *testing.T) {
	pytest.Pyro5(t)
	ns5, u := startNS5(t, pytest.NS5{Broadcast: true})
	ctx := ctxT(t)
	cfg := testConfig()
	cfg.NSHost = "192.0.2.1" // not localhost: Locate goes to broadcast
	cfg.BroadcastAddrs = []string{"127.0.0.1"}
	cfg.NSBcPort = ns5.BcPort
	for _, c := range []struct {
		name string
		opts []LocateOption
	}{
		{"direct", []LocateOption{WithConfig(testConfig()), WithNSHost(u.Host), WithNSPort(u.Port)}},
		{"direct_protocol5", []LocateOption{WithConfig(testConfig()), WithNSHost(u.Host), WithNSPort(u.Port), WithProxyOptions(pyro.WithProtocol(pyro.Protocol5))}},
		{"broadcast", []LocateOption{WithConfig(cfg)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Locate(ctx, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if p.URI().String() != ns5.URI {
				t.Errorf("located %s, want %s", p.URI(), ns5.URI)
			}
			if err := NewClient(p).Ping(ctx); err != nil || p.Protocol() != int(wire.Protocol502) {
				t.Errorf("ping: %v, protocol %d", err, p.Protocol())
			}
		})
	}
	_, err := Locate(ctx, WithConfig(testConfig()), WithNSHost(u.Host), WithNSPort(u.Port), WithProxyOptions(pyro.WithProtocol(pyro.Protocol4)))
	if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(errors.Unwrap(err).Error(), "the daemon speaks protocol 502 (Pyro5)") {
		t.Errorf("protocol 4 against Pyro5's name server: %v / %v", err, errors.Unwrap(err))
	}
}

// Go proxies resolve PYRONAME and PYROMETA through Pyro5's name server
// (over each serializer): Go objects registered there, and Pyro5's echo
// server registered by itself, are reached; PYROMETA asks yplookup (Pyro5's
// list has no metadata filters) and picks among the candidates; unknown
// names and tags are Pyro5's NamingErrors.
func TestGoProxyResolvesThroughPyro5NameServer(t *testing.T) {
	pytest.Pyro5(t)
	_, ns := startNS5(t, pytest.NS5{})
	echo := pytest.StartEchoServer5(t, pytest.Echo5{NameServer: ns.String()})
	ctx := ctxT(t)
	c := nsClient(t, ns.String())
	for _, who := range []string{"a", "b"} {
		_, u := serveThing(t, who)
		if err := c.Register(ctx, "go."+who, u, false, []string{"group:go", "who:" + who}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ser := range serializers5 {
		t.Run(ser, func(t *testing.T) {
			cfg := testConfig()
			cfg.Serializer = ser // of the name server proxies
			opts := []pyro.ProxyOption{pyro.WithResolver(NewResolver(WithConfig(cfg)))}
			for _, tc := range []struct{ uri, want string }{
				{"PYRONAME:go.a@" + nsLoc(ns), "a"},
				{"PYROMETA:who:b@" + nsLoc(ns), "b"},
				{"PYROMETA:group:go,who:a@" + nsLoc(ns), "a"},
			} {
				if got, err := whoami(t, tc.uri, opts...); err != nil || got != tc.want {
					t.Errorf("%s: %q %v", tc.uri, got, err)
				}
			}
			seen := map[string]bool{}
			for i := 0; i < 60 && len(seen) < 2; i++ {
				got, err := whoami(t, "PYROMETA:group:go@"+nsLoc(ns), pyro.WithResolver(NewResolver(WithConfig(cfg), WithResolveTTL(0))))
				if err != nil {
					t.Fatal(err)
				}
				seen[got] = true
			}
			if len(seen) != 2 {
				t.Errorf("PYROMETA candidates reached: %v", seen)
			}
			p, err := pyro.NewProxy("PYRONAME:test.echoserver@"+nsLoc(ns), testConfig(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if got, err := pyro.CallT[string](ctx, p, "echo", "through Pyro5's name server"); err != nil || got != "through Pyro5's name server" {
				t.Errorf("PYRONAME echo: %q %v", got, err)
			}
			if p.Protocol() != int(wire.Protocol502) || !strings.HasPrefix(echo, "PYRO:test.echoserver@") {
				t.Errorf("echo server protocol %d (%s)", p.Protocol(), echo)
			}
			_, err = whoami(t, "PYRONAME:nope@"+nsLoc(ns), opts...)
			if !errors.Is(err, pyro.ErrNaming) || err.Error() != "NamingError: unknown name: nope" {
				t.Errorf("unknown name: %v", err)
			}
			_, err = whoami(t, "PYROMETA:lang:cobol@"+nsLoc(ns), opts...)
			if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(err.Error(), "no registrations available with desired metadata properties {'lang:cobol'}") {
				t.Errorf("unknown tag: %v", err)
			}
		})
	}
}
