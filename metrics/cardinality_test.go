package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/promscrape"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/metrics"
	"github.com/pyrogo/pyro/wire"
)

// randomName is a name no object or method has, with characters a
// client may send (label syntax and non-ASCII included).
func randomName(r *rand.Rand) string {
	alphabet := []rune("abcdefghijklmnopqrstuvwxyz_.{}\"=,\\\n é€\u2028")
	b := make([]rune, 4+r.IntN(28))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return "x" + string(b)
}

// TestCardinalityRandomNames: a client calling 10,000 random method
// names on a registered object and 1,000 random object ids makes no new
// series; every call is counted under "unknown".
func TestCardinalityRandomNames(t *testing.T) {
	reg := metrics.New()
	url := serveMetrics(t, reg)
	d, err := pyro.NewDaemon(nil, reg.Daemon("app"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(Calc{}, "calc"); err != nil {
		t.Fatal(err)
	}
	serve(t, d)
	before := promscrape.Scrape(t, url)

	r := rand.New(rand.NewPCG(1, 2))
	c := rawpyro.Dial(t, "tcp", d.Addr().String())
	c.Connect("calc")
	const methods, objects = 10000, 1000
	for i := range methods + objects {
		obj, method := "calc", randomName(r)
		if i >= methods {
			obj = randomName(r)
		}
		c.Send(rawpyro.Invoke(codec.IDSerpent, uint16(i), obj, method))
		m, err := c.Recv()
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if m.Flags&wire.FlagException == 0 {
			t.Fatalf("call %d of %q.%q: no exception", i, obj, method)
		}
	}

	W := promscrape.W
	after := promscrape.Await(t, url, bound,
		W(methods, "pyro_call_duration_seconds_count", "server", "app", "object", "calc", "method", metrics.Unknown),
		W(objects, "pyro_call_duration_seconds_count", "server", "app", "object", metrics.Unknown, "method", metrics.Unknown),
		W(objects, "pyro_calls_total", "server", "app", "object", metrics.Unknown, "method", metrics.Unknown,
			"outcome", "Pyro4.errors.DaemonError"),
	)
	var attrErrors float64
	for k, v := range after {
		if strings.HasPrefix(k, "pyro_calls_total{") && strings.Contains(k, `object="calc"`) && strings.Contains(k, `method="unknown"`) {
			attrErrors += v
		}
	}
	if attrErrors != methods {
		t.Errorf("calls of unknown methods counted: %v, want %d", attrErrors, methods)
	}
	// series: those of the object/method pairs made at the start, plus
	// calc/unknown and the exception classes seen; nothing per name
	for _, name := range []string{"pyro_calls_total", "pyro_call_duration_seconds_count"} {
		if grew := after.Count(name) - before.Count(name); grew > 3 {
			t.Errorf("%s: %d series before, %d after 11,000 random names", name, before.Count(name), after.Count(name))
		}
	}
	if len(after) > len(before)+10 {
		t.Errorf("%d series before, %d after 11,000 random names", len(before), len(after))
	}
}

// TestCardinalityCaps: registered objects and exposed methods label the
// series only up to WithMaxCallSeries pairs, exception classes only up to
// WithMaxOutcomes; the rest is "other".
func TestCardinalityCaps(t *testing.T) {
	ctx := context.Background()
	reg := metrics.New(metrics.WithMaxCallSeries(3), metrics.WithMaxOutcomes(1))
	url := serveMetrics(t, reg)
	d, err := pyro.NewDaemon(nil, reg.Daemon("app"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := d.Register(Calc{}, fmt.Sprintf("calc%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	serve(t, d)
	for i := range 5 {
		p := proxy(t, d.URIFor(fmt.Sprintf("calc%d", i)))
		if _, err := p.Call(ctx, "add", 1, 2); err != nil {
			t.Fatal(err)
		}
	}
	p := proxy(t, d.URIFor("calc0"))
	var re *pyro.RemoteError
	if _, err := p.Call(ctx, "fail", "x"); !errors.As(err, &re) {
		t.Fatalf("fail: %v", err)
	}
	if _, err := p.Call(ctx, "add", "a", 1); !errors.As(err, &re) { // a TypeError: the second class
		t.Fatalf("add('a', 1): %v", err)
	}
	W := promscrape.W
	s := promscrape.Await(t, url, bound,
		W(1, "pyro_calls_total", "server", "app", "object", "calc0", "method", "add", "outcome", "ok"),
		W(1, "pyro_calls_total", "server", "app", "object", "calc1", "method", "add", "outcome", "ok"),
		W(1, "pyro_calls_total", "server", "app", "object", "calc2", "method", "add", "outcome", "ok"),
		// calc3.add, calc4.add and calc0.fail are pairs beyond the cap
		W(2, "pyro_calls_total", "server", "app", "object", metrics.Other, "method", metrics.Other, "outcome", "ok"),
		W(1, "pyro_calls_total", "server", "app", "object", metrics.Other, "method", metrics.Other, "outcome", "builtins.ValueError"),
		// the TypeError is a class beyond the cap
		W(1, "pyro_calls_total", "server", "app", "object", "calc0", "method", "add", "outcome", metrics.Other),
		W(3, "pyro_call_duration_seconds_count", "server", "app", "object", metrics.Other, "method", metrics.Other),
	)
	for k := range s {
		if strings.Contains(k, "calc3") || strings.Contains(k, "calc4") || strings.Contains(k, "TypeError") {
			t.Errorf("series %s beyond the caps", k)
		}
	}
}
