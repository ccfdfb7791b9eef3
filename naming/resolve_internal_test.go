package naming

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// thing is a Go object found through the name server.
type thing struct{ who string }

func (t *thing) Whoami() string { return t.who }
func (t *thing) Echo(x any) any { return x }

// serveThing serves a thing in a new daemon on 127.0.0.1; the daemon is
// closed in t.Cleanup (or earlier by the caller).
func serveThing(t testing.TB, who string) (*pyro.Daemon, pyro.URI) {
	t.Helper()
	d := pyrotest.Start(t, testConfig(), pyro.WithHost("127.0.0.1"))
	return d, pyrotest.Register(t, d, "", &thing{who: who})
}

func nsLoc(u pyro.URI) string { return u.Host + ":" + strconv.Itoa(u.Port) }

func whoami(t testing.TB, uriText string, opts ...pyro.ProxyOption) (string, error) {
	t.Helper()
	p, err := pyro.NewProxy(uriText, testConfig(), opts...)
	if err != nil {
		return "", err
	}
	defer p.Close()
	return pyro.CallT[string](ctxT(t), p, "whoami")
}

// A Python daemon registers in a name server (Python's or ours); a Go
// proxy finds it by PYRONAME and PYROMETA and calls it.
func TestGoProxyFindsPythonObject(t *testing.T) {
	for _, kind := range []string{"pyro4-ns", "go-ns"} {
		t.Run(kind, func(t *testing.T) {
			var ns pyro.URI
			if kind == "go-ns" {
				ns = startNS(t, nil).URI()
			} else {
				ns = startPyNS(t)
			}
			pytest.Cmd{Args: []string{"testdata/py_server.py", ns.Host, strconv.Itoa(ns.Port), "py.thing", "lang:python", "kind:thing"}}.Start(t)
			for _, u := range []string{
				"PYRONAME:py.thing@" + nsLoc(ns),
				"PYROMETA:lang:python@" + nsLoc(ns),
				"PYROMETA:kind:thing,lang:python@" + nsLoc(ns),
			} {
				got, err := whoami(t, u)
				if err != nil || got != "python" {
					t.Errorf("%s: %q, %v", u, got, err)
				}
			}
			_, err := whoami(t, "PYRONAME:nope@"+nsLoc(ns))
			if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(err.Error(), "unknown name: nope") {
				t.Errorf("unknown name: %v", err)
			}
			_, err = whoami(t, "PYROMETA:lang:cobol@"+nsLoc(ns))
			if !errors.Is(err, pyro.ErrNaming) || err.Error() != "no registrations available with desired metadata properties {'lang:cobol'}" {
				t.Errorf("unknown tag: %v", err)
			}
		})
	}
}

// A Go daemon registers in a name server (Python's or ours) with
// RegisterEntries; a Python proxy finds it by PYRONAME and PYROMETA; the
// unregister function removes the names again.
func TestPythonProxyFindsGoObject(t *testing.T) {
	for _, kind := range []string{"pyro4-ns", "go-ns"} {
		t.Run(kind, func(t *testing.T) {
			var ns pyro.URI
			if kind == "go-ns" {
				ns = startNS(t, nil).URI()
			} else {
				ns = startPyNS(t)
			}
			d, u := serveThing(t, "go")
			nsp, err := Locate(ctxT(t), WithConfig(testConfig()), WithNSHost(ns.Host), WithNSPort(ns.Port))
			if err != nil {
				t.Fatal(err)
			}
			defer nsp.Close()
			unregister, err := RegisterEntries(ctxT(t), nsp, d, DaemonEntry{Name: "go.thing", ObjectID: u.Object, Metadata: []string{"lang:go"}})
			if err != nil {
				t.Fatal(err)
			}
			loc := nsLoc(ns)
			res := pytest.Cmd{Args: []string{"testdata/py_client.py", "PYRONAME:go.thing@" + loc, "PYROMETA:lang:go@" + loc, "PYRONAME:nope@" + loc}}.Run(t)
			want := fmt.Sprintf("PYRONAME:go.thing@%[1]s -> go\nPYROMETA:lang:go@%[1]s -> go\nPYRONAME:nope@%[1]s !! NamingError: unknown name: nope\n", loc)
			if res.Stdout != want {
				t.Errorf("python client:\n%s\nwant:\n%s\nstderr: %s", res.Stdout, want, res.Stderr)
			}
			if err := unregister(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if _, err := NewClient(nsp).Lookup(ctxT(t), "go.thing"); !errors.Is(err, pyro.ErrNaming) {
				t.Errorf("after unregister: %v", err)
			}
		})
	}
}

// RegisterAll rolls back on failure, and unregister leaves a name alone
// that now points elsewhere.
func TestRegisterAll(t *testing.T) {
	s := startNS(t, nil)
	d, u := serveThing(t, "go")
	ns, err := Locate(ctxT(t), WithConfig(testConfig()), WithNSHost("127.0.0.1"), WithNSPort(s.URI().Port))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	c := NewClient(ns)
	ctx := ctxT(t)
	if err := c.Register(ctx, "taken", "PYRO:x@127.0.0.1:1", false, nil); err != nil {
		t.Fatal(err)
	}
	_, err = RegisterEntries(ctx, ns, d, DaemonEntry{Name: "first", ObjectID: u.Object}, DaemonEntry{Name: "taken", ObjectID: u.Object, Safe: true})
	if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(err.Error(), "name already registered: taken") {
		t.Fatalf("safe clash: %v", err)
	}
	if _, err := c.Lookup(ctx, "first"); !errors.Is(err, pyro.ErrNaming) {
		t.Errorf("no rollback: %v", err)
	}
	if _, err := RegisterAll(ctx, ns, d, map[string]string{"x": "obj_missing"}); err == nil {
		t.Error("unknown object id accepted")
	}
	unregister, err := RegisterAll(ctx, ns, d, map[string]string{"a": u.Object, "b": u.Object})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Lookup(ctx, "a")
	if err != nil || !got.Equal(u) {
		t.Fatalf("lookup a: %v %v", got, err)
	}
	if err := c.Register(ctx, "b", "PYRO:replacement@127.0.0.1:2", false, nil); err != nil {
		t.Fatal(err)
	}
	if err := unregister(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(ctx, "a"); !errors.Is(err, pyro.ErrNaming) {
		t.Errorf("a still registered: %v", err)
	}
	if got, err := c.Lookup(ctx, "b"); err != nil || got.Object != "replacement" {
		t.Errorf("replacement of b removed: %v %v", got, err)
	}
}

// A proxy resolves its PYRONAME again for every new connection; the
// cache hides the name server, and a failed connection drops the cached
// answer so that the same call reaches the object's new address.
func TestResolveCacheAndInvalidation(t *testing.T) {
	r := NewResolver()
	s := startNS(t, nil)
	c := nsClient(t, s.URI().String())
	ctx := ctxT(t)
	d1, u1 := serveThing(t, "one")
	if err := c.Register(ctx, "moving", u1, false, []string{"m"}); err != nil {
		t.Fatal(err)
	}
	p, err := pyro.NewProxy("PYRONAME:moving@"+nsLoc(s.URI()), testConfig(), pyro.WithResolver(r))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got, err := pyro.CallT[string](ctx, p, "whoami"); err != nil || got != "one" {
		t.Fatalf("first call: %q %v", got, err)
	}
	// the object moves: a new daemon, a new registration
	d1.Close()
	_, u2 := serveThing(t, "two")
	if err := c.Register(ctx, "moving", u2, false, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // past the proxy's idle-connection check
	// the proxy's connection is dead and the cached answer is stale: the
	// failed connection drops it and the proxy resolves again
	got, err := pyro.CallT[string](ctx, p, "whoami")
	if err != nil {
		// a call may still fail once on the broken connection; the next
		// one must work
		got, err = pyro.CallT[string](ctx, p, "whoami")
	}
	if err != nil || got != "two" {
		t.Fatalf("after the move: %q %v", got, err)
	}
	// cached: the name server can go away without hurting new connections
	// of a proxy for the same name within the TTL
	p2, err := pyro.NewProxy("PYRONAME:moving@"+nsLoc(s.URI()), testConfig(), pyro.WithResolver(r))
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	s.Close()
	if got, err := pyro.CallT[string](ctx, p2, "whoami"); err != nil || got != "two" {
		t.Fatalf("cached resolution: %q %v", got, err)
	}
	r.Flush()
	p3, _ := pyro.NewProxy("PYRONAME:moving@"+nsLoc(s.URI()), testConfig(), pyro.WithResolver(r))
	defer p3.Close()
	if _, err := pyro.CallT[string](ctx, p3, "whoami"); !errors.Is(err, pyro.ErrNaming) {
		t.Fatalf("no name server, empty cache: %v", err)
	}
}

// PYROMETA picks among all candidates, and a dead candidate is dropped.
func TestResolveMetaCandidates(t *testing.T) {
	r := pyro.WithResolver(NewResolver())
	s := startNS(t, nil)
	c := nsClient(t, s.URI().String())
	ctx := ctxT(t)
	seen := map[string]bool{}
	var daemons []*pyro.Daemon
	for _, who := range []string{"a", "b", "c"} {
		d, u := serveThing(t, who)
		daemons = append(daemons, d)
		if err := c.Register(ctx, "meta."+who, u, false, []string{"group:x"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 60 && len(seen) < 3; i++ {
		got, err := whoami(t, "PYROMETA:group:x@"+nsLoc(s.URI()), r)
		if err != nil {
			t.Fatal(err)
		}
		seen[got] = true
	}
	if len(seen) != 3 {
		t.Errorf("candidates reached: %v", seen)
	}
	daemons[0].Close()
	for i := 0; i < 20; i++ {
		got, err := whoami(t, "PYROMETA:group:x@"+nsLoc(s.URI()), r)
		if err != nil || got == "a" {
			t.Fatalf("call %d: %q %v", i, got, err)
		}
	}
}
