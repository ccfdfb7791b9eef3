package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
	"github.com/pyrogo/pyro/py"
)

// pyOwn4 asks a name server (sys.argv[1]) for its own registration every
// way Pyro4's API has, and prints JSON.
const pyOwn4 = `import sys, json, Pyro4
ns = Pyro4.Proxy(sys.argv[1])
me = "Pyro.NameServer"
out = {
  "lookup": str(ns.lookup(me)),
  "lookup_meta": [str(ns.lookup(me, return_metadata=True)[0]), sorted(ns.lookup(me, return_metadata=True)[1])],
  "list": ns.list().get(me),
  "prefix": ns.list(prefix="Pyro.").get(me),
  "regex": ns.list(regex=r"Pyro\.Name.*").get(me),
  "meta_all": ns.list(metadata_all=["class:Pyro4.naming.NameServer"]).get(me),
  "meta_any": ns.list(metadata_any=["class:Pyro4.naming.NameServer", "x"]).get(me),
  "count": ns.count(),
  "located": str(Pyro4.locateNS(sys.argv[2], int(sys.argv[3]))._pyroUri),
}
print(json.dumps(out))
`

// pyOwn5 is pyOwn4 with Pyro5's API.
const pyOwn5 = `import sys, json, Pyro5.api
ns = Pyro5.api.Proxy(sys.argv[1])
me = "Pyro.NameServer"
out = {
  "lookup": str(ns.lookup(me)),
  "lookup_meta": [str(ns.lookup(me, return_metadata=True)[0]), sorted(ns.lookup(me, return_metadata=True)[1])],
  "list": ns.list().get(me),
  "prefix": ns.list(prefix="Pyro.").get(me),
  "regex": ns.list(regex=r"Pyro\.Name.*").get(me),
  "meta_all": ns.yplookup(meta_all=["class:Pyro5.nameserver.NameServer"], return_metadata=False).get(me),
  "meta_any": ns.yplookup(meta_any=["class:Pyro5.nameserver.NameServer", "x"], return_metadata=False).get(me),
  "count": ns.count(),
  "located": str(Pyro5.api.locate_ns(sys.argv[2], int(sys.argv[3]))._pyroUri),
}
print(json.dumps(out))
`

type pyOwnOut struct {
	Lookup     string `json:"lookup"`
	LookupMeta []any  `json:"lookup_meta"`
	List       string `json:"list"`
	Prefix     string `json:"prefix"`
	Regex      string `json:"regex"`
	MetaAll    string `json:"meta_all"`
	MetaAny    string `json:"meta_any"`
	Count      int    `json:"count"`
	Located    string `json:"located"`
}

// TestOwnNameServerEntry: three name servers on one bucket each answer
// for "Pyro.NameServer" with their own URI — lookup, list without and
// with every filter, count — to Go, Pyro4 and Pyro5 clients; the entry
// is never in the bucket, and clients can neither replace, retag nor
// remove it there. Before, every instance stored itself under that name
// at start, so all of them answered with the last one started.
func TestOwnNameServerEntry(t *testing.T) {
	c := natstest.Start(t, 1)
	const bucket = "own"
	nss := startNameServers(t, c, 3, bucket)
	ctx := context.Background()
	raw := openStore(t, c.Spec(bucket))
	var px []*pyro.Proxy
	for i, s := range nss {
		p := nsProxy(t, s.URI().String())
		px = append(px, p)
		if _, err := p.Call(ctx, "register", fmt.Sprint("svc.", i), fmt.Sprintf("PYRO:svc%d@127.0.0.1:1", i)); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "every registration in the bucket", func() bool {
		for i := range nss {
			if _, ok, _ := raw.Get(fmt.Sprint("svc.", i)); !ok {
				return false
			}
		}
		return true
	})
	if _, ok, _ := raw.Get(naming.ObjectID); ok {
		t.Errorf("%s is in the shared bucket", naming.ObjectID)
	}
	own := func(v any, err error) string {
		d, ok := v.(*py.Dict)
		if err != nil || !ok {
			t.Fatalf("list: %v, %v", v, err)
		}
		u, _ := d.GetString(naming.ObjectID)
		s, _ := u.(string)
		return s
	}
	for i, p := range px {
		me := nss[i].URI().String()
		testkit.Eventually(t, "instance sees every registration", func() bool {
			v, err := p.Call(ctx, "count")
			return err == nil && v == int64(4)
		})
		if u, err := lookupURI(ctx, p, naming.ObjectID); err != nil || u != me {
			t.Errorf("instance %d: lookup(%s) = %q, %v; want its own %s", i, naming.ObjectID, u, err, me)
		}
		for _, call := range [][]any{
			{"list"}, {"list", "Pyro."}, {"list", nil, `Pyro\.Name.*`},
			{"list", nil, nil, []any{naming.ClassMetadata}}, {"list", nil, nil, nil, []any{naming.ClassMetadata, "x"}},
		} {
			if got := own(p.Call(ctx, call[0].(string), call[1:]...)); got != me {
				t.Errorf("instance %d: %v gives %s = %q, want %s", i, call, naming.ObjectID, got, me)
			}
		}
		v, err := p.Call(ctx, "list")
		if d, ok := v.(*py.Dict); err != nil || !ok || d.Len() != 4 || d.Keys()[0] != naming.ObjectID {
			t.Errorf("instance %d: list() = %v, %v; want its own entry first, then the 3 registrations", i, v, err)
		}
		// Clients cannot change it in the shared registry.
		if _, err := p.Call(ctx, "register", naming.ObjectID, "PYRO:evil@127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "NamingError") {
			t.Errorf("instance %d: register(%s) = %v, want NamingError", i, naming.ObjectID, err)
		}
		if _, err := p.Call(ctx, "register", naming.ObjectID, "PYRO:evil@127.0.0.1:1", true); err == nil || !strings.Contains(err.Error(), "name already registered") {
			t.Errorf("instance %d: register(%s, safe=True) = %v, want name already registered", i, naming.ObjectID, err)
		}
		if _, err := p.Call(ctx, "set_metadata", naming.ObjectID, []any{"x"}); err == nil || !strings.Contains(err.Error(), "NamingError") {
			t.Errorf("instance %d: set_metadata(%s) = %v, want NamingError", i, naming.ObjectID, err)
		}
		if v, err := p.Call(ctx, "remove", naming.ObjectID); err != nil || v != int64(0) {
			t.Errorf("instance %d: remove(%s) = %v, %v; want 0", i, naming.ObjectID, v, err)
		}
		if u, err := lookupURI(ctx, p, naming.ObjectID); err != nil || u != me {
			t.Errorf("instance %d after the attempts: lookup = %q, %v", i, u, err)
		}
	}
	if _, ok, _ := raw.Get(naming.ObjectID); ok {
		t.Errorf("%s reached the shared bucket", naming.ObjectID)
	}

	check := func(t *testing.T, five bool, script string) {
		for i, s := range nss {
			me := s.URI().String()
			res := pytest.Cmd{Args: []string{"-c", script, me, "127.0.0.1", fmt.Sprint(s.URI().Port)}, Pyro5: five}.Run(t)
			if res.ExitCode != 0 {
				t.Fatalf("python client (pyro5=%v): exit %d\n%s", five, res.ExitCode, res.Stderr)
			}
			var got pyOwnOut
			if err := json.Unmarshal([]byte(res.Stdout), &got); err != nil {
				t.Fatalf("python client said %q: %v", res.Stdout, err)
			}
			class := naming.ClassMetadata
			if five {
				class = naming.ClassMetadata5
			}
			for what, u := range map[string]string{"lookup": got.Lookup, "list": got.List, "prefix": got.Prefix, "regex": got.Regex,
				"meta_all": got.MetaAll, "meta_any": got.MetaAny, "locate": got.Located} {
				if u != me {
					t.Errorf("instance %d, pyro5=%v: %s gives %q, want %s", i, five, what, u, me)
				}
			}
			if len(got.LookupMeta) != 2 || got.LookupMeta[0] != me || fmt.Sprint(got.LookupMeta[1]) != "["+class+"]" || got.Count != 4 {
				t.Errorf("instance %d, pyro5=%v: lookup(return_metadata) %v, count %d", i, five, got.LookupMeta, got.Count)
			}
		}
	}
	t.Run("pyro4", func(t *testing.T) { check(t, false, pyOwn4) })
	t.Run("pyro5", func(t *testing.T) { pytest.Pyro5(t); check(t, true, pyOwn5) })
}
