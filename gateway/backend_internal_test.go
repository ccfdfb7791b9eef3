package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway/console"
)

// TestBackend: the console.Backend methods apply the expose regex, the
// method rules and the gateway key, and count what they do.
func TestBackend(t *testing.T) {
	h := newHostileSetup(t)
	g, err := New(testConfig(), WithNameServer(h.ns.URI().String()), WithGatewayKey([]byte("k")))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx := context.Background()
	names, err := g.Names(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, n.Name)
		if n.URI == "" {
			t.Errorf("%s: no URI", n.Name)
		}
	}
	if want := []string{"http.ok", "http.ok/x"}; !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	d, err := g.Describe(ctx, "http.ok")
	if err != nil || !slices.Equal(d.Methods, []string{"corr", "echo", "fail", "slow"}) {
		t.Errorf("Describe = %+v, %v", d, err)
	}
	if _, err := g.Describe(ctx, "secret"); !errors.Is(err, console.ErrForbidden) {
		t.Errorf("Describe(secret): %v", err)
	}
	if _, err := g.Describe(ctx, "http.nope"); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("Describe(http.nope): %v", err)
	}
	v, err := g.Call(ctx, "http.ok", "echo", []any{int64(7)}, nil)
	if err != nil || v != int64(7) {
		t.Errorf("Call echo = %v, %v", v, err)
	}
	v, err = g.Call(ctx, "http.ok", "echo", nil, map[string]any{"message": "kw"})
	if err != nil || v != "kw" {
		t.Errorf("Call echo kw = %v, %v", v, err)
	}
	var re *pyro.RemoteError
	if _, err := g.Call(ctx, "http.ok", "fail", nil, nil); !errors.As(err, &re) {
		t.Errorf("Call fail: %v", err)
	}
	for _, c := range []struct{ name, method string }{{"secret", "echo"}, {"http.ok", "_pyroBind"}, {"http.ok", "__class__"}, {"http.ok", "$meta"}, {"http.ok", "echo.x"}} {
		if _, err := g.Call(ctx, c.name, c.method, nil, nil); !errors.Is(err, console.ErrForbidden) {
			t.Errorf("Call %s.%s: %v", c.name, c.method, err)
		}
	}
	if _, err := g.Call(ctx, "http.nope", "echo", nil, nil); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("Call on an unknown name: %v", err)
	}
	r, _ := http.NewRequest("GET", "/console/api/info", nil)
	if err := g.Authorize(r); !errors.Is(err, console.ErrForbidden) {
		t.Errorf("Authorize without key: %v", err)
	}
	r.Header.Set(headerKey, "k")
	if err := g.Authorize(r); err != nil {
		t.Errorf("Authorize with key: %v", err)
	}
	info := g.Info()
	if info.Calls != 3 || info.Errors != 1 || info.Refused != 7 || info.Expose != DefaultExpose || info.NameServer != h.ns.URI().String() {
		t.Errorf("Info = %+v", info)
	}
	if h.reached.Load() != 0 {
		t.Error("the secret object was called")
	}
}

// TestProxyCacheBound: proxies are reused per object URI and at most
// MaxProxies are kept; evicted ones are closed, and calls keep working.
func TestProxyCacheBound(t *testing.T) {
	ns := startNS(t)
	var uris []string
	for i := range 5 {
		d, err := pyro.NewDaemon(testConfig(), pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := d.Register(GoThing{}, "gothing")
		done := make(chan struct{})
		go func() { defer close(done); d.Serve(context.Background()) }()
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10e9)
			defer cancel()
			d.Shutdown(sctx)
			<-done
		})
		name := "http.d" + string(rune('0'+i))
		if err := nsClientFor(t, ns).Register(context.Background(), name, u, false, nil); err != nil {
			t.Fatal(err)
		}
		uris = append(uris, name)
	}
	g, err := New(testConfig(), WithNameServer(ns.URI().String()), WithLimits(Limits{MaxProxies: 2}))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx := context.Background()
	for range 3 {
		if _, err := g.Call(ctx, uris[0], "echo", []any{"x"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.proxies.len(); n != 1 {
		t.Errorf("%d proxies after 3 calls to one object, want 1", n)
	}
	for round := range 2 {
		for _, name := range uris {
			if v, err := g.Call(ctx, name, "echo", []any{name}, nil); err != nil || v != name {
				t.Fatalf("round %d, %s: %v, %v", round, name, v, err)
			}
			if n := g.proxies.len(); n > 2 {
				t.Fatalf("%d proxies kept, at most 2", n)
			}
		}
	}
}
