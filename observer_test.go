package pyro_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/wire"
)

// recorder is an Observer that records what it is told.
type recorder struct {
	mu      sync.Mutex
	opened  int
	refused []pyro.RefusalReason
	closed  []pyro.ConnStats
	calls   []pyro.CallEvent
	change  chan struct{}
}

func newRecorder() *recorder { return &recorder{change: make(chan struct{}, 1)} }

func (r *recorder) note(f func()) {
	r.mu.Lock()
	f()
	r.mu.Unlock()
	select {
	case r.change <- struct{}{}:
	default:
	}
}

func (r *recorder) ConnOpened(*pyro.ConnInfo) { r.note(func() { r.opened++ }) }
func (r *recorder) ConnRefused(_ *pyro.ConnInfo, why pyro.RefusalReason) {
	r.note(func() { r.refused = append(r.refused, why) })
}
func (r *recorder) ConnClosed(_ *pyro.ConnInfo, st pyro.ConnStats) {
	r.note(func() { r.closed = append(r.closed, st) })
}
func (r *recorder) CallDone(ev pyro.CallEvent) {
	e := ev
	e.Conn = nil
	r.note(func() { r.calls = append(r.calls, e) })
}

// await waits until cond holds (under the lock), within a generous bound.
func (r *recorder) await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(testbound.Scale(30 * time.Second))
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.change:
		case <-deadline.C:
			t.Fatalf("observer: %s never happened", what)
		}
	}
}

type obsCalc struct{}

func (obsCalc) Add(a, b int) int { return a + b }
func (obsCalc) Fail() error      { return &pyro.PythonError{Class: "ValueError", Msg: "no"} }

// waiter's Wait tells it started, then returns when ctx ends (the client
// leaves or the daemon closes).
type waiter struct{ started chan struct{} }

func (w *waiter) Wait(ctx context.Context) {
	w.started <- struct{}{}
	<-ctx.Done()
}

// observed starts a daemon with a recorder and opts, serving until the
// test ends.
func observed(t *testing.T, cfg *pyro.Config, opts ...pyro.DaemonOption) (*pyro.Daemon, *recorder) {
	t.Helper()
	rec := newRecorder()
	d, err := pyro.NewDaemon(cfg, append(opts, pyro.WithObserver(rec))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(obsCalc{}, "calc"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { d.Serve(context.Background()); close(done) }()
	t.Cleanup(func() { d.Close(); <-done })
	return d, rec
}

// countConn counts what a client sends and receives.
type countConn struct {
	net.Conn
	in, out atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// TestObserverCallsAndBytes: calls are reported with object, method,
// outcome and whether the names are registered and exposed; a closed
// connection's byte counts are exactly what the client sent and got.
func TestObserverCallsAndBytes(t *testing.T) {
	d, rec := observed(t, nil)
	nc, err := net.Dial("tcp", d.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc := &countConn{Conn: nc}
	c := rawpyro.New(t, cc)
	c.Connect("calc")
	for i, call := range []struct{ obj, method string }{{"calc", "add"}, {"calc", "fail"}, {"calc", "nope"}, {"nobody", "add"}} {
		args := []any{}
		if call.method == "add" {
			args = []any{1, 2}
		}
		c.Send(rawpyro.Invoke(codec.IDSerpent, uint16(i+1), call.obj, call.method, args...))
		if _, err := c.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	// a oneway call is reported when its method returns
	m := rawpyro.Invoke(codec.IDSerpent, 9, "calc", "add", 3, 4)
	m.Flags |= wire.FlagOneway
	c.Send(m)
	rec.await(t, "5 calls", func() bool { return len(rec.calls) == 5 })
	nc.Close()
	rec.await(t, "the close", func() bool { return len(rec.closed) == 1 })

	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []pyro.CallEvent{
		{Object: "calc", Method: "add", Registered: true, Exposed: true},
		{Object: "calc", Method: "fail", Registered: true, Exposed: true, Class: "builtins.ValueError"},
		{Object: "calc", Method: "nope", Registered: true, Exposed: false, Class: "builtins.AttributeError"},
		{Object: "nobody", Method: "add", Registered: false, Exposed: false, Class: "Pyro4.errors.DaemonError"},
		{Object: "calc", Method: "add", Registered: true, Exposed: true, Oneway: true},
	}
	for i, w := range want {
		got := rec.calls[i]
		if got.Duration < 0 {
			t.Errorf("call %d: duration %v", i, got.Duration)
		}
		got.Duration = 0
		if got != w {
			t.Errorf("call %d: %+v, want %+v", i, got, w)
		}
	}
	st := rec.closed[0]
	if !st.Established || st.BytesIn != cc.out.Load() || st.BytesOut != cc.in.Load() || rec.opened != 1 {
		t.Errorf("closed: %+v (opened %d); the client sent %d and got %d bytes", st, rec.opened, cc.out.Load(), cc.in.Load())
	}
	if len(rec.refused) != 0 {
		t.Errorf("refusals: %v", rec.refused)
	}
}

// TestObserverRefusals: each kind of refusal is reported with its reason.
func TestObserverRefusals(t *testing.T) {
	ctx := context.Background()
	call := func(t *testing.T, uri pyro.URI, opts ...pyro.ProxyOption) error {
		t.Helper()
		p, err := pyro.NewProxyURI(uri, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		_, err = p.Call(ctx, "add", 1, 2)
		return err
	}
	refusedFor := func(t *testing.T, rec *recorder, want pyro.RefusalReason) {
		t.Helper()
		rec.await(t, "refusal "+string(want), func() bool { return len(rec.refused) == 1 && len(rec.closed) >= 1 })
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.refused[0] != want {
			t.Errorf("refused for %q, want %q", rec.refused[0], want)
		}
		for _, st := range rec.closed {
			if st.Established {
				t.Errorf("a refused connection was established: %+v", st)
			}
		}
	}
	t.Run("max_connections", func(t *testing.T) {
		cfg := pyro.BuiltinConfig()
		cfg.MaxConnections = 1
		d, rec := observed(t, cfg)
		p, err := pyro.NewProxyURI(d.URIFor("calc"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.Call(ctx, "add", 1, 2); err != nil {
			t.Fatal(err)
		}
		if err := call(t, d.URIFor("calc")); !errors.Is(err, pyro.ErrConnectionDenied) {
			t.Fatalf("second client: %v", err)
		}
		rec.await(t, "refusal max_connections", func() bool {
			return len(rec.refused) == 1 && rec.refused[0] == pyro.RefusedMaxConnections
		})
	})
	t.Run("connection_cap", func(t *testing.T) {
		cfg := pyro.BuiltinConfig()
		cfg.ConnectionCap = 1
		d, rec := observed(t, cfg)
		w := &waiter{started: make(chan struct{}, 1)}
		if _, err := d.Register(w, "waiter"); err != nil {
			t.Fatal(err)
		}
		busy := rawpyro.Dial(t, "tcp", d.Addr().String())
		busy.Connect("waiter")
		busy.Send(rawpyro.Invoke(codec.IDSerpent, 1, "waiter", "wait")) // active: not evictable
		<-w.started
		if err := call(t, d.URIFor("calc")); !errors.Is(err, pyro.ErrConnectionDenied) {
			t.Fatalf("second client: %v", err)
		}
		rec.await(t, "refusal connection_cap", func() bool {
			return len(rec.refused) == 1 && rec.refused[0] == pyro.RefusedConnectionCap
		})
	})
	t.Run("validator", func(t *testing.T) {
		d, rec := observed(t, nil, pyro.WithConnValidators(pyro.ConnValidatorFunc(func(context.Context, *pyro.ConnInfo) error {
			return errors.New("not you")
		})))
		if err := call(t, d.URIFor("calc")); err == nil {
			t.Fatal("accepted")
		}
		refusedFor(t, rec, pyro.RefusedValidator)
	})
	t.Run("hmac", func(t *testing.T) {
		d, rec := observed(t, nil, pyro.WithHMACKey([]byte("right")))
		if err := call(t, d.URIFor("calc"), pyro.WithHMACKey([]byte("wrong"))); err == nil {
			t.Fatal("accepted")
		}
		refusedFor(t, rec, pyro.RefusedHMAC)
	})
	t.Run("auth", func(t *testing.T) {
		d, rec := observed(t, nil, pyro.WithAllowedIdentifications([]string{"right"}))
		if err := call(t, d.URIFor("calc"), pyro.WithIdentification("wrong")); err == nil {
			t.Fatal("accepted")
		}
		refusedFor(t, rec, pyro.RefusedAuth)
	})
	t.Run("handshake", func(t *testing.T) {
		d, rec := observed(t, nil, pyro.WithHandshake(func(context.Context, *pyro.ConnInfo, any) (any, error) {
			return nil, errors.New("go away")
		}))
		if err := call(t, d.URIFor("calc")); err == nil {
			t.Fatal("accepted")
		}
		refusedFor(t, rec, pyro.RefusedHandshake)
	})
	t.Run("protocol", func(t *testing.T) {
		d, rec := observed(t, nil)
		c := rawpyro.Dial(t, "tcp", d.Addr().String())
		c.Send(&wire.Message{Type: wire.MsgInvoke, SerializerID: codec.IDSerpent, Data: []byte("x")}) // not a CONNECT
		refusedFor(t, rec, pyro.RefusedProtocol)
	})
	t.Run("tls", func(t *testing.T) {
		b, err := devcert.New("localhost", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		sconf, err := b.ServerTLS(false)
		if err != nil {
			t.Fatal(err)
		}
		d, rec := observed(t, nil, pyro.WithTLSConfig(sconf))
		if err := call(t, d.URIFor("calc")); err == nil { // a plaintext client
			t.Fatal("accepted")
		}
		refusedFor(t, rec, pyro.RefusedTLS)
	})
}
