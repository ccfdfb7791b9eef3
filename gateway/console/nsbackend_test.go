package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway/console"
	"github.com/pyrogo/pyro/naming"
)

// nsBackend is a Backend over a real name server and real daemons, as the
// gateway is: it lists the names matching its expose pattern, and for
// every Describe and Call it looks the name up and makes a new proxy
// (Pyro4's gateway is stateless in the same way).
type nsBackend struct {
	ns      *naming.Client
	nsURI   string
	expose  *regexp.Regexp
	started time.Time
	key     string // the gateway key; "" = none

	requests, calls, errors, refused atomic.Uint64
}

func (b *nsBackend) exposed(name string) bool {
	loc := b.expose.FindStringIndex(name)
	return loc != nil && loc[0] == 0
}

func (b *nsBackend) Names(ctx context.Context) ([]console.Name, error) {
	b.requests.Add(1)
	regs, err := b.ns.List(ctx, naming.Filter{})
	if err != nil {
		return nil, err
	}
	var out []console.Name
	for _, r := range regs {
		if b.exposed(r.Name) {
			out = append(out, console.Name{Name: r.Name, URI: r.URI, Metadata: r.Metadata})
		}
	}
	slices.SortFunc(out, func(a, b console.Name) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (b *nsBackend) proxy(ctx context.Context, name string) (*pyro.Proxy, error) {
	if !b.exposed(name) {
		b.refused.Add(1)
		return nil, fmt.Errorf("name %q is not exposed: %w", name, console.ErrForbidden)
	}
	u, err := b.ns.Lookup(ctx, name)
	if errors.Is(err, pyro.ErrNaming) {
		return nil, fmt.Errorf("%w: %v", console.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	return pyro.NewProxyURI(u, nil)
}

func (b *nsBackend) Describe(ctx context.Context, name string) (console.Description, error) {
	b.requests.Add(1)
	p, err := b.proxy(ctx, name)
	if err != nil {
		return console.Description{}, err
	}
	defer p.Close()
	m, o, a, err := p.Metadata(ctx)
	return console.Description{Methods: m, Oneway: o, Attributes: a}, err
}

func (b *nsBackend) Call(ctx context.Context, name, method string, args []any, kwargs map[string]any) (any, error) {
	b.requests.Add(1)
	p, err := b.proxy(ctx, name)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	b.calls.Add(1)
	res, err := p.CallKw(ctx, method, args, kwargs)
	if err != nil {
		b.errors.Add(1)
	}
	return res, err
}

func (b *nsBackend) Authorize(r *http.Request) error {
	if b.key != "" && r.Header.Get(console.KeyHeader) != b.key {
		b.refused.Add(1)
		return fmt.Errorf("%w: wrong gateway key", console.ErrForbidden)
	}
	return nil
}

func (b *nsBackend) Info() console.Info {
	return console.Info{
		NameServer: b.nsURI, Expose: b.expose.String(), Started: b.started,
		Requests: b.requests.Load(), Calls: b.calls.Load(), Errors: b.errors.Load(), Refused: b.refused.Load(),
	}
}

// Calculator is the Go object the browser test calls.
type Calculator struct{}

// Add adds.
func (Calculator) Add(a, b int) int { return a + b }

// Divide divides, or raises ZeroDivisionError.
func (Calculator) Divide(a, b float64) (float64, error) {
	if b == 0 {
		return 0, &pyro.PythonError{Class: "ZeroDivisionError", Msg: "division by zero"}
	}
	return a / b, nil
}

// Summary describes a list of numbers and a label.
func (Calculator) Summary(label string, xs []int) map[string]any {
	s := 0
	for _, x := range xs {
		s += x
	}
	return map[string]any{"label": label, "count": len(xs), "sum": s}
}

// Greeter answers with a greeting.
type Greeter struct{}

// Greet greets.
func (Greeter) Greet(name string) string { return "hello " + name }

// hostileName is a name an attacker could register; the page must show
// it as text.
const hostileName = `http.<img src=x onerror=alert(1)>`

// startWorld starts a name server and a daemon on loopback, registers
// the test objects, and returns a Backend over them. Everything stops in
// t.Cleanup.
func startWorld(t *testing.T) *nsBackend {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := naming.Start(pyro.BuiltinConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0), naming.WithBroadcast(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	})
	d, err := pyro.NewDaemon(nil)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = d.Serve(context.Background()) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = d.Shutdown(sctx)
		<-served
	})
	p, err := pyro.NewProxyURI(srv.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	ns := naming.NewClient(p)
	reg := func(obj any, id, name string, tags ...string) {
		u, err := d.Register(obj, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := ns.Register(ctx, name, u.String(), false, tags); err != nil {
			t.Fatal(err)
		}
	}
	reg(Calculator{}, "calc", "http.calc", "kind:arith", "owner:ops")
	reg(Greeter{}, "greeter", "http.greeter", "kind:text")
	reg(Greeter{}, "hostile", hostileName, "<script>alert(2)</script>")
	reg(Calculator{}, "secret", "internal.secret", "kind:arith")
	return &nsBackend{ns: ns, nsURI: srv.URI().String(), expose: regexp.MustCompile(`http\.`), started: time.Now()}
}
