package naming

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
)

// as502 is an interceptor that makes the name server answer every call as
// it answers Pyro5 callers, whatever the connection's protocol: it lets a
// Pyro4 client (or a test) see the Pyro5 answers before the daemon serves
// protocol 502 itself.
var as502 = pyro.InterceptorFunc(func(next pyro.CallFunc) pyro.CallFunc {
	return func(ctx context.Context, c *pyro.Call) (any, error) {
		return next(context.WithValue(ctx, protoKey{}, protocol502), c)
	}
})

// ctx502 is a context in which the NameServer's methods answer as to a
// Pyro5 caller.
func ctx502(t testing.TB) context.Context {
	return context.WithValue(ctxT(t), protoKey{}, protocol502)
}

// runCalls5 runs testdata/ns_calls5.py in mode (local, pyro4 or pyro5)
// for the name server at host:port and returns its lines.
func runCalls5(t *testing.T, mode, host string, port int, env ...string) []string {
	t.Helper()
	res := pytest.Cmd{Args: []string{"testdata/ns_calls5.py", mode, host, strconv.Itoa(port)}, Env: env, Pyro5: true}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("ns_calls5.py %s %s:%d: exit %d\n%s", mode, host, port, res.ExitCode, res.Stderr)
	}
	return strings.Split(strings.TrimSpace(res.Stdout), "\n")
}

// compareLines reports every line where got differs from want.
func compareLines(t *testing.T, wantName string, want, got []string) {
	t.Helper()
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("line %d:\n%s: %s\ngo ns:    %s", i+1, wantName, w, g)
		}
	}
}

// The Go name server's answers to Pyro5 callers are Pyro5's: the same
// calls (every method of Pyro5's NameServer, valid and invalid arguments,
// positional and keyword) made on Pyro5's NameServer object itself and,
// through a Python Pyro5 proxy (protocol 502, served by the daemon), on
// the Go name server give the same results, exception classes and
// messages, line by line, over each of Pyro5's serializers (msgpack
// accepted by this name server's config: SERIALIZERS_ACCEPTED leaves it
// out by default, as Pyro4's does). As an extra, a Pyro4 proxy sees the
// same answers when the as502 interceptor makes the name server answer
// as to a Pyro5 caller.
func TestPyro5APISameAsPyro5NameServer(t *testing.T) {
	pytest.Pyro5(t)
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		t.Run(ser, func(t *testing.T) {
			cfg := testConfig()
			cfg.SerializersAccepted = append(cfg.SerializersAccepted, "msgpack")
			u := startNS(t, cfg).URI()
			want := runCalls5(t, "local", u.Host, u.Port, "PYRO_SERIALIZER="+ser)
			if len(want) < 75 {
				t.Fatalf("only %d lines from Pyro5's NameServer:\n%s", len(want), strings.Join(want, "\n"))
			}
			got := runCalls5(t, "pyro5", u.Host, u.Port, "PYRO_SERIALIZER="+ser)
			compareLines(t, "pyro5 ns", want, got)
			if ser == "msgpack" {
				return // Pyro4's msgpack is another dialect
			}
			u = startNS(t, nil, WithDaemonOptions(pyro.WithInterceptors(as502))).URI()
			want = runCalls5(t, "local", u.Host, u.Port, "PYRO_SERIALIZER="+ser)
			got = runCalls5(t, "pyro4", u.Host, u.Port, "PYRO_SERIALIZER="+ser)
			compareLines(t, "pyro5 ns (as502, Pyro4 client)", want, got)
		})
	}
}

// The policy holds for Pyro5 callers: yplookup and list answer over the
// names the caller may list, and remove(name), which for a Pyro5 caller
// never falls back to a prefix, is refused alike for a hidden and a
// missing name.
func TestPyro5Policy(t *testing.T) {
	policy, err := ParsePolicyString(`
allow connect
allow lookup,list name=pub.*,Pyro.*
allow register,remove name=pub.*
`)
	if err != nil {
		t.Fatal(err)
	}
	s := startNS(t, nil, WithPolicy(policy))
	for _, n := range []string{"pub.a", "priv.b"} {
		if err := s.ns.register(n, "PYRO:x@127.0.0.1:1", []string{"tag"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := ctxT(t)
	c := nsClient(t, s.URI().String(), pyro.WithProtocol(pyro.Protocol5)) // a real Pyro5 caller
	regs, err := c.Yplookup(ctx, []string{"tag"}, nil)
	if err != nil || len(regs) != 1 || regs[0].Name != "pub.a" {
		t.Errorf("yplookup(meta_all): %v %v", regs, err)
	}
	regs, err = c.Yplookup(ctx, nil, []string{"tag", "class:Pyro5.nameserver.NameServer"})
	if err != nil || len(regs) != 2 || regs[0].Name != "Pyro.NameServer" || regs[1].Name != "pub.a" {
		t.Errorf("yplookup(meta_any): %v %v", regs, err)
	}
	if regs, err := c.List(ctx, Filter{}); err != nil || len(regs) != 2 {
		t.Errorf("list: %v %v", regs, err)
	}
	for _, n := range []string{"priv.b", "priv.missing"} {
		if _, err := c.Remove(ctx, n); !isSecurityError(err) {
			t.Errorf("remove(%q): %v", n, err)
		}
	}
	if n, err := c.Remove(ctx, "pub.missing"); err != nil || n != 0 {
		t.Errorf("remove(pub.missing): %d %v", n, err)
	}
	if n, err := c.Count(ctx); err != nil || n != 2 {
		t.Errorf("count: %d %v", n, err)
	}
	if _, found, _ := s.store.Get("priv.b"); !found {
		t.Error("priv.b was removed")
	}
	if c.P.Protocol() != protocol502 {
		t.Errorf("client protocol %d, want 502", c.P.Protocol())
	}
	// Python Pyro5 clients: lookup, PYRONAME and PYROMETA see only what
	// the policy lets them, with Pyro5's SecurityError otherwise
	rs := map[string]pytest.Result5{}
	for _, r := range pytest.RunCalls5(t, "serpent", []pytest.Step5{
		{Name: "lookup", URI: s.URI().String(), Method: "lookup", Args: "('pub.a',)"},
		{Name: "lookup-priv", URI: s.URI().String(), Method: "lookup", Args: "('priv.b',)"},
		{Name: "yplookup", URI: s.URI().String(), Method: "yplookup", Kwargs: "{'meta_all': ['tag'], 'return_metadata': False}"},
		{Name: "pyroname-priv", Op: "resolve", URI: "PYRONAME:priv.b@" + nsLoc(s.URI())},
		{Name: "pyrometa", Op: "resolve", URI: "PYROMETA:tag@" + nsLoc(s.URI())},
	}) {
		rs[r.Name] = r
	}
	for name, want := range map[string]string{
		"lookup":        `Pyro5.core.URI ["uri","PYRO:x@127.0.0.1:1"]`,
		"lookup-priv":   `Pyro5.errors.SecurityError: name server policy denies lookup of "priv.b"`,
		"yplookup":      `builtins.dict ["dict",[[["str","pub.a"],["str","PYRO:x@127.0.0.1:1"]]]]`,
		"pyroname-priv": `Pyro5.errors.SecurityError: name server policy denies lookup of "priv.b"`,
		"pyrometa":      `Pyro5.core.URI ["uri","PYRO:x@127.0.0.1:1"]`,
	} {
		if got, want := rs[name].String(), name+": "+want; got != want {
			t.Errorf("Pyro5 client %s: %s, want %s", name, got, want)
		}
	}
}
