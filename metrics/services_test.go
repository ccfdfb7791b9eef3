package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/promscrape"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/metrics"
	"github.com/pyrogo/pyro/naming"
)

// pyLookups is a Python Pyro4 client of the name server at argv[1]: it
// looks up argv[2:] and prints what it found.
const pyLookups = `
import sys, Pyro4, Pyro4.errors
ns = Pyro4.Proxy(sys.argv[1])
for name in sys.argv[2:]:
    try:
        print("found", name, ns.lookup(name))
    except Pyro4.errors.NamingError as e:
        print("missing", name, e)
    except Pyro4.errors.SecurityError as e:
        print("denied", name, e)
`

// TestNameServerMetrics: lookups found, missing and denied (from Python
// Pyro4 and Go), registrations (ok, exists, denied), removals and the
// number of names, as exact numbers.
func TestNameServerMetrics(t *testing.T) {
	ctx := context.Background()
	reg := metrics.New()
	url := serveMetrics(t, reg)
	policy, err := naming.ParsePolicyString("allow connect\nallow lookup,list,register,remove name=app.*\n")
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]naming.ServerOption{naming.WithPort(0), naming.WithBroadcast(false), naming.WithPolicy(policy)},
		reg.NameServer("ns")...)
	srv, err := naming.Start(nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	reg.NameServerNames("ns", srv.NameServer())

	ns := naming.NewClient(proxy(t, srv.URI()))
	for _, name := range []string{"app.one", "app.two", "app.three"} {
		if err := ns.Register(ctx, name, "PYRO:obj@localhost:1", false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := ns.Register(ctx, "app.one", "PYRO:obj@localhost:2", true, nil); !errors.Is(err, pyro.ErrNaming) {
		t.Fatalf("safe registration of a registered name: %v", err)
	}
	if err := ns.Register(ctx, "other.x", "PYRO:obj@localhost:1", false, nil); !errors.Is(err, pyro.ErrSecurity) {
		t.Fatalf("registration outside the policy: %v", err)
	}
	if n, err := ns.Remove(ctx, "app.three"); n != 1 || err != nil {
		t.Fatalf("remove: %d %v", n, err)
	}
	if _, err := ns.Lookup(ctx, "app.one"); err != nil {
		t.Fatal(err)
	}
	res := pytest.Cmd{Args: []string{"-c", pyLookups, srv.URI().String(), "app.one", "app.two", "app.nothing", "other.y"}}.Run(t)
	if strings.Count(res.Stdout, "found ") != 2 || strings.Count(res.Stdout, "missing ") != 1 || strings.Count(res.Stdout, "denied ") != 1 {
		t.Fatalf("python lookups: %+v", res)
	}

	W := promscrape.W
	promscrape.Await(t, url, bound,
		W(3, "pyro_ns_lookups_total", "server", "ns", "result", "found"),
		W(1, "pyro_ns_lookups_total", "server", "ns", "result", "not_found"),
		W(1, "pyro_ns_lookups_total", "server", "ns", "result", "denied"),
		W(0, "pyro_ns_lookups_total", "server", "ns", "result", "error"),
		W(3, "pyro_ns_registrations_total", "server", "ns", "result", "ok"),
		W(1, "pyro_ns_registrations_total", "server", "ns", "result", "exists"),
		W(1, "pyro_ns_registrations_total", "server", "ns", "result", "denied"),
		W(1, "pyro_ns_removals_total", "server", "ns", "result", "ok"),
		W(1, "pyro_ns_removed_names_total", "server", "ns"),
		W(3, "pyro_ns_names", "server", "ns"), // app.one, app.two and the name server's own
		W(3, "pyro_calls_total", "server", "ns", "object", naming.ObjectID, "method", "lookup", "outcome", "ok"),
		W(1, "pyro_calls_total", "server", "ns", "object", naming.ObjectID, "method", "lookup", "outcome", "Pyro4.errors.NamingError"),
		W(1, "pyro_calls_total", "server", "ns", "object", naming.ObjectID, "method", "lookup", "outcome", "Pyro4.errors.SecurityError"),
	)
}

// TestEventServerMetrics: events published and delivered, subscribers.
func TestEventServerMetrics(t *testing.T) {
	ctx := context.Background()
	reg := metrics.New()
	url := serveMetrics(t, reg)
	srv, err := events.Start(nil, events.WithServerPort(0), reg.EventServer("es"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	reg.EventCounters("es", srv.Service())

	sub, err := events.Subscribe(ctx, srv.URI(), []string{"weather"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close(context.Background()) })
	for _, subj := range [][]string{{"weather"}, {"weather", "news"}, {"news"}} {
		if err := events.Publish(ctx, srv.URI(), subj, "sunny"); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Subject != "weather" {
			t.Fatalf("event of %q", ev.Subject)
		}
		if n++; n == 2 {
			break
		}
	}
	W := promscrape.W
	promscrape.Await(t, url, bound,
		W(4, "pyro_es_published_total", "server", "es"),
		W(2, "pyro_es_delivered_total", "server", "es"),
		W(0, "pyro_es_dropped_total", "server", "es"),
		W(1, "pyro_es_subscribers", "server", "es"),
		W(3, "pyro_calls_total", "server", "es", "object", events.ObjectID, "method", "publish", "outcome", "ok"),
		W(1, "pyro_calls_total", "server", "es", "object", events.ObjectID, "method", "subscribe", "outcome", "ok"),
	)
}
