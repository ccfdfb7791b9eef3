package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
	"github.com/pyrogo/pyro/py"
)

// rotated returns the spec of bucket listing the cluster's nodes starting
// with node i, so that instance i prefers node i.
func rotated(c *natstest.Cluster, i int, bucket string) string {
	a := c.Addrs()
	a = append(a[i%len(a):], a[:i%len(a)]...)
	return "nats://" + strings.Join(a, ",") + "/" + bucket
}

// startNameServers starts n name servers (naming.Start) on bucket of c.
func startNameServers(t *testing.T, c *natstest.Cluster, n int, bucket string) []*naming.Server {
	t.Helper()
	var out []*naming.Server
	for i := range n {
		st, err := Open(rotated(c, i, bucket))
		if err != nil {
			t.Fatal(err)
		}
		srv, err := naming.Start(pyro.BuiltinConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0),
			naming.WithStorage(st), naming.WithBroadcast(false))
		if err != nil {
			st.Close()
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		out = append(out, srv)
	}
	return out
}

// nsProxy returns a proxy for the name server at u, closed in t.Cleanup.
func nsProxy(t testing.TB, u string) *pyro.Proxy {
	t.Helper()
	p, err := pyro.NewProxy(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// lookupURI looks name up through p and returns the URI string ("" and
// the error on failure).
func lookupURI(ctx context.Context, p *pyro.Proxy, name string) (string, error) {
	v, err := p.Call(ctx, "lookup", name)
	if err != nil {
		return "", err
	}
	u, ok := v.(pyro.URI)
	if !ok {
		return "", fmt.Errorf("lookup gave %T", v)
	}
	return u.String(), nil
}

// pyLookup4 is a Pyro4 client: it looks up sys.argv[2:] on the name
// server sys.argv[1], lists by metadata, and prints JSON.
const pyLookup4 = `import sys, json, Pyro4
ns = Pyro4.Proxy(sys.argv[1])
out = {"lookup": {n: str(ns.lookup(n)) for n in sys.argv[2:]},
       "meta": sorted(ns.list(metadata_all=["cluster"]).keys())}
print(json.dumps(out))
`

const pyLookup5 = `import sys, json, Pyro5.api
ns = Pyro5.api.Proxy(sys.argv[1])
out = {"lookup": {n: str(ns.lookup(n)) for n in sys.argv[2:]},
       "meta": sorted(ns.yplookup(meta_all=["cluster"], return_metadata=False).keys())}
print(json.dumps(out))
`

type pyOut struct {
	Lookup map[string]string `json:"lookup"`
	Meta   []string          `json:"meta"`
}

func runPy(t *testing.T, five bool, script string, args ...string) pyOut {
	t.Helper()
	res := pytest.Cmd{Args: append([]string{"-c", script}, args...), Pyro5: five}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("python client (pyro5=%v): exit %d\n%s", five, res.ExitCode, res.Stderr)
	}
	var out pyOut
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("python client said %q: %v", res.Stdout, err)
	}
	return out
}

// TestThreeNameServers: three name servers share a 3-node JetStream
// cluster. A registration on one is looked up, listed and found by
// metadata on the others, by Go and by Python Pyro4 and Pyro5 clients;
// one NATS node is killed and the name servers go on resolving at once
// and registering once JetStream has moved the bucket's leader; safe
// registrations of one name on all three at once: exactly one wins.
func TestThreeNameServers(t *testing.T) {
	c := natstest.Start(t, 3)
	nss := startNameServers(t, c, 3, "names")
	ctx := context.Background()
	var px []*pyro.Proxy
	for _, s := range nss {
		px = append(px, nsProxy(t, s.URI().String()))
	}
	for i, p := range px {
		if _, err := p.Call(ctx, "register", fmt.Sprintf("svc.%d", i), fmt.Sprintf("PYRO:obj%d@127.0.0.1:%d", i, 9000+i), false, []any{"cluster", fmt.Sprint("i", i)}); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"svc.0", "svc.1", "svc.2"}
	for j, p := range px {
		testkit.Eventually(t, fmt.Sprintf("instance %d sees every registration", j), func() bool {
			for i, n := range names {
				if u, err := lookupURI(ctx, p, n); err != nil || u != fmt.Sprintf("PYRO:obj%d@127.0.0.1:%d", i, 9000+i) {
					return false
				}
			}
			return true
		})
		v, err := p.Call(ctx, "list", nil, nil, []any{"cluster"})
		if m, ok := v.(*py.Dict); err != nil || !ok || m.Len() != 3 {
			t.Fatalf("instance %d list(metadata_all=cluster) = %v, %v", j, v, err)
		}
		v, err = p.Call(ctx, "list", "svc.")
		if m, ok := v.(*py.Dict); err != nil || !ok || m.Len() != 3 {
			t.Fatalf("instance %d list(prefix=svc.) = %v, %v", j, v, err)
		}
	}
	for _, s := range nss {
		got := runPy(t, false, pyLookup4, append([]string{s.URI().String()}, names...)...)
		if len(got.Lookup) != 3 || got.Lookup["svc.2"] != "PYRO:obj2@127.0.0.1:9002" || strings.Join(got.Meta, ",") != "svc.0,svc.1,svc.2" {
			t.Fatalf("Pyro4 client on %v: %+v", s.URI(), got)
		}
	}
	t.Run("pyro5 clients", func(t *testing.T) {
		pytest.Pyro5(t)
		for _, s := range nss {
			got := runPy(t, true, pyLookup5, append([]string{s.URI().String()}, names...)...)
			if len(got.Lookup) != 3 || got.Lookup["svc.1"] != "PYRO:obj1@127.0.0.1:9001" || strings.Join(got.Meta, ",") != "svc.0,svc.1,svc.2" {
				t.Fatalf("Pyro5 client on %v: %+v", s.URI(), got)
			}
		}
	})

	t.Run("safe registration race", func(t *testing.T) {
		for round := range 5 {
			name := fmt.Sprint("race.", round)
			var wg sync.WaitGroup
			errs := make([]error, len(px))
			for i, p := range px {
				wg.Go(func() {
					_, errs[i] = p.Call(ctx, "register", name, fmt.Sprintf("PYRO:w%d@127.0.0.1:1", i), true)
				})
			}
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case strings.Contains(err.Error(), "NamingError: name already registered: "+name):
				default:
					t.Fatalf("instance %d: %v", i, err)
				}
			}
			if won != 1 {
				t.Fatalf("%s: %d safe registrations succeeded, want exactly 1 (%v)", name, won, errs)
			}
		}
	})

	t.Run("NATS node killed", func(t *testing.T) {
		killed := time.Now()
		c.Nodes[0].Kill()
		// Lookups go on at once, from every instance's cache.
		for j, p := range px {
			for i, n := range names {
				if u, err := lookupURI(ctx, p, n); err != nil || u != fmt.Sprintf("PYRO:obj%d@127.0.0.1:%d", i, 9000+i) {
					t.Fatalf("instance %d lookup %s right after the kill: %q, %v", j, n, u, err)
				}
			}
		}
		// Registrations work again once the bucket has a leader on a
		// surviving node, and reach every instance.
		for i, p := range px {
			testkit.Eventually(t, "registering with a NATS node down", func() bool {
				_, err := p.Call(ctx, "register", fmt.Sprint("after.", i), "PYRO:after@127.0.0.1:2")
				return err == nil
			})
		}
		t.Logf("every instance registered again %v after the kill", time.Since(killed))
		for j, p := range px {
			testkit.Eventually(t, fmt.Sprintf("instance %d sees the registrations made with a node down", j), func() bool {
				for i := range px {
					if _, err := lookupURI(ctx, p, fmt.Sprint("after.", i)); err != nil {
						return false
					}
				}
				return true
			})
		}
		restart := time.Now()
		c.Nodes[0].Restart(t, c)
		t.Logf("node restarted and current in %v", time.Since(restart))
		if _, err := px[0].Call(ctx, "register", "after.restart", "PYRO:r@127.0.0.1:3"); err != nil {
			t.Fatalf("register after the node came back: %v", err)
		}
		for j, p := range px {
			testkit.Eventually(t, fmt.Sprintf("instance %d after the restart", j), func() bool {
				_, err := lookupURI(ctx, p, "after.restart")
				return err == nil
			})
		}
	})
}
