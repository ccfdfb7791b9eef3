package pyro_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

type onlyPointerMethods struct{}

func (*onlyPointerMethods) Ping() {}

type noMethods struct{ X int }

// attrsOnly exposes a remote attribute and no method.
type attrsOnly struct{ Size int }

func (attrsOnly) PyroExpose() pyro.Exposure { return pyro.Exposure{Attrs: []string{"size"}} }

// someUnsupported has one method that can be called and two that cannot.
type someUnsupported struct{}

func (someUnsupported) Echo(s string) string      { return s }
func (someUnsupported) OnEvent(f func(string))    {}
func (someUnsupported) Pair() (int, int)          { return 1, 2 }
func (someUnsupported) Feed(ch chan<- int) error  { return nil }
func (someUnsupported) PyroExpose() pyro.Exposure { return pyro.Exposure{Hide: []string{"Feed"}} }

type allUnsupported struct{}

func (allUnsupported) OnEvent(f func(string)) {}

func TestRegisterRules(t *testing.T) {
	logger, logs := testkit.TextLogger(slog.LevelInfo)
	d, err := pyro.NewDaemon(nil, pyro.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	refused := []struct {
		name string
		obj  any
		want []string
	}{
		{"int", 42, []string{"int", "no exported method"}},
		{"string", "text", []string{"string"}},
		{"struct without methods", noMethods{}, []string{"noMethods"}},
		{"pointer methods on a value", onlyPointerMethods{}, []string{"pointer receivers", "*pyro_test.onlyPointerMethods"}},
		{"only unsupported methods", allUnsupported{}, []string{"OnEvent: parameter 1 has type func(string)"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Register(tt.obj, "")
			if err == nil {
				t.Fatalf("Register(%#v) succeeded", tt.obj)
			}
			if !errors.Is(err, pyro.ErrDaemon) {
				t.Errorf("error %v is not a DaemonError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := d.Register(&onlyPointerMethods{}, ""); err != nil {
		t.Errorf("pointer: %v", err)
	}
	if _, err := d.Register(attrsOnly{Size: 3}, ""); err != nil {
		t.Errorf("a type with only attributes: %v", err)
	}
	if strings.Contains(logs.String(), "not exposed") {
		t.Errorf("unexpected warning:\n%s", logs)
	}
	u, err := d.Register(someUnsupported{}, "some")
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, w := range []string{"level=WARN", "not exposed", "someUnsupported", "OnEvent: parameter 1 has type func(string)",
		"Pair: its second result is int, not error"} {
		if !strings.Contains(out, w) {
			t.Errorf("log does not mention %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "Feed") {
		t.Errorf("a hidden method was reported:\n%s", out)
	}
	// the method that can be called still is
	go d.Serve(context.Background())
	p, err := pyro.NewProxyURI(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	methods, _, _, err := p.Metadata(context.Background())
	if err != nil || len(methods) != 1 || methods[0] != "echo" {
		t.Errorf("metadata methods %v, %v; want [echo]", methods, err)
	}
}

// TestBuiltinObjectsRegisterQuietly: the daemon's own object, the echo
// server and the name server register without warnings.
func TestBuiltinObjectsRegisterQuietly(t *testing.T) {
	logger, logs := testkit.TextLogger(slog.LevelDebug)
	d, err := pyro.NewDaemon(nil, pyro.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Register(&echoserver.EchoServer{}, echoserver.ObjectID); err != nil {
		t.Fatal(err)
	}
	srv, err := naming.Start(pyro.BuiltinConfig(), naming.WithPort(0), naming.WithBroadcast(false), naming.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if strings.Contains(logs.String(), "not exposed") {
		t.Errorf("warnings:\n%s", logs)
	}
}

// guarded embeds a mutex, as Go types often do.
type guarded struct {
	sync.Mutex
	n int
}

type atomicCounter struct{ sync.RWMutex }

func (g *guarded) Bump() int {
	g.Lock()
	defer g.Unlock()
	g.n++
	return g.n
}

// embeddedLocks reaches sync methods through a second level of embedding.
type embeddedLocks struct {
	*guarded
	atomicCounter
}

// TestSyncMethodsNeverExposed: methods promoted from embedded sync (and
// sync/atomic) values are not remote methods, so no client can call
// lock() and deadlock the object for everyone.
func TestSyncMethodsNeverExposed(t *testing.T) {
	d, err := pyro.NewDaemon(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	go d.Serve(context.Background())
	// a deadlocked object must fail the test, not hang it
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, obj := range []any{&guarded{}, &embeddedLocks{guarded: &guarded{}}} {
		u, err := d.Register(obj, "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := pyro.NewProxyURI(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		methods, _, _, err := p.Metadata(ctx)
		if err != nil || len(methods) != 1 || methods[0] != "bump" {
			t.Errorf("%T: metadata methods %v, %v; want [bump]", obj, methods, err)
		}
		for _, m := range []string{"lock", "unlock", "try_lock", "r_lock", "Lock"} {
			// a proxy without metadata, so the daemon itself answers
			raw, err := pyro.NewProxyURI(u, noMetadata())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Call(ctx, m); err == nil || !strings.Contains(err.Error(), "AttributeError") {
				t.Errorf("%T: calling %s: %v, want an AttributeError", obj, m, err)
			}
			raw.Close()
		}
		if n, err := pyro.CallT[int](ctx, p, "bump"); err != nil || n != 1 {
			t.Errorf("%T: bump = %d, %v", obj, n, err)
		}
		p.Close()
	}
}

func noMetadata() *pyro.Config {
	c := pyro.BuiltinConfig()
	c.Metadata = false
	return c
}
