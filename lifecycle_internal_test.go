package pyro

import (
	"context"
	"errors"
	"iter"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// lcObj has methods that block until released or until their context
// ends, and report what they saw.
type lcObj struct {
	entered  chan string   // method names on entry
	causes   chan error    // context.Cause when a context ended
	release  chan struct{} // closed to let blocked methods return
	started  atomic.Int64  // calls of Count started
	running  atomic.Int64  // oneway calls running now
	maxRun   atomic.Int64  // most oneway calls running at once
	finished atomic.Int64  // oneway calls finished
}

func newLCObj() *lcObj {
	return &lcObj{entered: make(chan string, 1000), causes: make(chan error, 1000), release: make(chan struct{})}
}

func (o *lcObj) PyroExpose() Exposure {
	return Exposure{Oneway: []string{"oneway_block", "oneway_wait_ctx"}, Params: map[string][]string{"echo": {"v"}}}
}

type lcKey struct{}

func (o *lcObj) Echo(v any) any { return v }

// WaitCtx returns only when its context ends.
func (o *lcObj) WaitCtx(ctx context.Context) string {
	o.entered <- "wait_ctx"
	<-ctx.Done()
	o.causes <- context.Cause(ctx)
	return "cancelled"
}

// Block returns when released (or its context ends).
func (o *lcObj) Block(ctx context.Context) string {
	o.entered <- "block"
	select {
	case <-o.release:
		return "released"
	case <-ctx.Done():
		return "cancelled"
	}
}

// Count counts the calls that started.
func (o *lcObj) Count() int64 { return o.started.Add(1) }

// CtxValue returns the value Serve's context carries.
func (o *lcObj) CtxValue(ctx context.Context) string { s, _ := ctx.Value(lcKey{}).(string); return s }

// OnewayWaitCtx waits for its context (called oneway).
func (o *lcObj) OnewayWaitCtx(ctx context.Context) {
	o.entered <- "oneway_wait_ctx"
	<-ctx.Done()
	o.causes <- context.Cause(ctx)
}

// OnewayBlock waits for the release (called oneway) and counts.
func (o *lcObj) OnewayBlock(ctx context.Context) {
	n := o.running.Add(1)
	for m := o.maxRun.Load(); n > m && !o.maxRun.CompareAndSwap(m, n); m = o.maxRun.Load() {
	}
	select {
	case <-o.release:
	case <-ctx.Done():
	}
	o.running.Add(-1)
	o.finished.Add(1)
}

// Items yields n items, then waits for its context and reports its cause.
func (o *lcObj) Items(ctx context.Context, n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; i < n; i++ {
			if !yield(i) {
				return
			}
		}
		o.entered <- "items_blocked"
		<-ctx.Done()
		o.causes <- context.Cause(ctx)
	}
}

// Feed is a channel stream that sends one item and is never closed.
func (o *lcObj) Feed() <-chan int {
	ch := make(chan int, 1)
	ch <- 1
	return ch
}

// startLC serves an lcObj as "lc" under serveCtx and shuts the daemon
// down with the test.
func startLC(t *testing.T, cfg *Config, serveCtx context.Context, opts ...DaemonOption) (*Daemon, URI, *lcObj) {
	t.Helper()
	if cfg == nil {
		cfg = BuiltinConfig()
	}
	d, err := NewDaemon(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	o := newLCObj()
	u, err := d.Register(o, "lc")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(serveCtx) }()
	t.Cleanup(func() {
		select {
		case <-o.release:
		default:
			close(o.release)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
		if err := <-served; !errors.Is(err, ErrDaemonClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return d, u, o
}

// TestCallContextEndsWhenClientLeaves: a method waiting on its context
// returns when its client disconnects, on every transport (TLS included:
// the daemon notices through a background read while the call runs).
func TestCallContextEndsWhenClientLeaves(t *testing.T) {
	for _, tr := range transports(t) {
		t.Run(tr.name, func(t *testing.T) {
			cfg := BuiltinConfig()
			_, u, o := startLC(t, cfg, context.Background(), tr.daemon(t, cfg)...)
			p := newProxy(t, u, nil, tr.proxy...)
			ctx, cancel := context.WithCancel(context.Background())
			res := make(chan error, 1)
			go func() { _, err := p.Call(ctx, "wait_ctx"); res <- err }()
			testkit.Receive(t, o.entered, "method entered")
			cancel() // the proxy drops its connection
			if err := testkit.Receive(t, res, "client returned"); !errors.Is(err, context.Canceled) {
				t.Errorf("client: %v", err)
			}
			if cause := testkit.Receive(t, o.causes, "method's context ended"); !errors.Is(cause, ErrClientGone) {
				t.Errorf("cause %v, want ErrClientGone", cause)
			}
			// the daemon still serves the proxy on a new connection
			if v, err := p.Call(context.Background(), "echo", "ok"); err != nil || v != "ok" {
				t.Errorf("after: %v %v", v, err)
			}
		})
	}
}

// TestCallContextFromServe: the method's context carries the values of
// the context given to Serve, and ends when that context does.
func TestCallContextFromServe(t *testing.T) {
	serveCtx, stop := context.WithCancel(context.WithValue(context.Background(), lcKey{}, "from Serve"))
	defer stop()
	_, u, o := startLC(t, nil, serveCtx)
	p := newProxy(t, u, nil)
	if v, err := p.Call(context.Background(), "ctx_value"); err != nil || v != "from Serve" {
		t.Fatalf("ctx_value: %v %v", v, err)
	}
	res := make(chan error, 1)
	go func() { _, err := p.Call(context.Background(), "wait_ctx"); res <- err }()
	testkit.Receive(t, o.entered, "method entered")
	stop()
	if cause := testkit.Receive(t, o.causes, "method's context ended"); !errors.Is(cause, ErrDaemonClosed) && !errors.Is(cause, context.Canceled) {
		t.Errorf("cause %v", cause)
	}
	testkit.Receive(t, res, "client returned")
}

// TestPipelinedBytesKeptDuringCall: data a client sends while a call runs
// (the background read takes the first byte of it) is served afterwards,
// byte for byte.
func TestPipelinedBytesKeptDuringCall(t *testing.T) {
	_, u, o := startLC(t, nil, context.Background())
	c := dialRaw(t, u)
	c.Send(rawpyro.ConnectMessage("lc"))
	if m, err := c.Recv(); err != nil || m.Type != wire.MsgConnectOK {
		t.Fatalf("connect: %v %v", m, err)
	}
	c.Send(rawpyro.Invoke(1, 1, "lc", "block"))
	testkit.Receive(t, o.entered, "method entered")
	time.Sleep(50 * time.Millisecond) // let the background read start
	c.Send(rawpyro.Invoke(1, 2, "lc", "echo", "second"))
	time.Sleep(50 * time.Millisecond) // and take its first byte
	close(o.release)
	for i, want := range []string{"released", "second"} {
		seq := uint16(i + 1)
		m, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		v, err := codecFor(m).Unmarshal(m.Data)
		if err != nil || m.Seq != seq || v != want {
			t.Errorf("reply %d: seq %d %v %v, want %q", seq, m.Seq, py.Repr(v), err, want)
		}
	}
}

// TestShutdownKeepsItsDeadline: Shutdown returns ctx.Err() by its
// deadline although a method waits for its context; the method's context
// is cancelled, and nothing is left running.
func TestShutdownKeepsItsDeadline(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d, err := NewDaemon(nil)
	if err != nil {
		t.Fatal(err)
	}
	o := newLCObj()
	u, _ := d.Register(o, "lc")
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	p, err := NewProxyURI(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res := make(chan error, 1)
	go func() { _, err := p.Call(context.Background(), "wait_ctx"); res <- err }()
	testkit.Receive(t, o.entered, "method entered")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- d.Shutdown(ctx) }()
	if err := testkit.Receive(t, shut, "Shutdown returned"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v", err)
	}
	if cause := testkit.Receive(t, o.causes, "method's context ended"); !errors.Is(cause, ErrDaemonClosed) {
		t.Errorf("cause %v", cause)
	}
	// the method's answer may get out before the connection is closed
	if err := testkit.Receive(t, res, "client returned"); err != nil && !errors.Is(err, ErrCommunication) {
		t.Errorf("client: %v", err)
	}
	if err := testkit.Receive(t, served, "Serve returned"); !errors.Is(err, ErrDaemonClosed) {
		t.Errorf("Serve: %v", err)
	}
}

// TestShutdownEndsOnewayCallsAndStreams: Shutdown (and Close) end oneway
// goroutines and stream iterators through their contexts; a channel
// stream that is never closed ends too; nothing leaks.
func TestShutdownEndsOnewayCallsAndStreams(t *testing.T) {
	for _, how := range []string{"Shutdown", "Close"} {
		t.Run(how, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			cfg := BuiltinConfig()
			d, err := NewDaemon(cfg)
			if err != nil {
				t.Fatal(err)
			}
			o := newLCObj()
			u, _ := d.Register(o, "lc")
			served := make(chan error, 1)
			go func() { served <- d.Serve(context.Background()) }()
			p, err := NewProxyURI(u, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			bg := context.Background()
			if err := p.Oneway(bg, "oneway_wait_ctx"); err != nil {
				t.Fatal(err)
			}
			testkit.Receive(t, o.entered, "oneway call entered")
			// a stream whose iterator is blocked in a pull
			v, err := p.Call(bg, "items", 1)
			if err != nil {
				t.Fatal(err)
			}
			s := v.(*Stream)
			if _, ok, err := s.Next(bg); !ok || err != nil {
				t.Fatalf("first item: %v %v", ok, err)
			}
			pulled := make(chan error, 1)
			go func() { _, _, err := s.Next(bg); pulled <- err }()
			if e := testkit.Receive(t, o.entered, "iterator blocked"); e != "items_blocked" {
				t.Fatalf("entered %s", e)
			}
			// a lingering channel stream, its connection gone
			p2, err := NewProxyURI(u, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p2.Call(bg, "feed"); err != nil {
				t.Fatal(err)
			}
			p2.Close()
			if how == "Shutdown" {
				ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
				defer cancel()
				shut := make(chan error, 1)
				go func() { shut <- d.Shutdown(ctx) }()
				if err := testkit.Receive(t, shut, "Shutdown returned"); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Shutdown: %v", err)
				}
			} else {
				d.Close()
			}
			for i := 0; i < 2; i++ {
				if cause := testkit.Receive(t, o.causes, "contexts ended"); !errors.Is(cause, ErrDaemonClosed) && !errors.Is(cause, context.Canceled) {
					t.Errorf("cause %v", cause)
				}
			}
			testkit.Receive(t, pulled, "pull returned")
			testkit.Receive(t, served, "Serve returned")
			testkit.Eventually(t, "streams closed", func() bool { return d.streams.count() == 0 })
		})
	}
}

// TestShutdownRequestWindow: a request read while Shutdown starts is
// either answered or never started, never started and dropped.
func TestShutdownRequestWindow(t *testing.T) {
	for _, where := range []string{"after the first byte", "after the request was read"} {
		t.Run(where, func(t *testing.T) {
			d, err := NewDaemon(nil)
			if err != nil {
				t.Fatal(err)
			}
			o := newLCObj()
			u, _ := d.Register(o, "lc")
			served := make(chan error, 1)
			go func() { served <- d.Serve(context.Background()) }()
			c := dialRaw(t, u)
			c.Send(rawpyro.ConnectMessage("lc"))
			if m, err := c.Recv(); err != nil || m.Type != wire.MsgConnectOK {
				t.Fatalf("connect: %v %v", m, err)
			}
			shut := make(chan error, 1)
			hook := func() {
				go func() { shut <- d.Shutdown(context.Background()) }()
				testkit.Eventually(t, "shutdown started", func() bool {
					d.connMu.Lock()
					defer d.connMu.Unlock()
					return d.shuttingDown
				})
			}
			if where == "after the first byte" {
				testHookBeforeActive = hook
			} else {
				testHookRequestRead = hook
			}
			defer func() { testHookBeforeActive, testHookRequestRead = nil, nil }()
			c.Send(rawpyro.Invoke(1, 1, "lc", "count"))
			m, err := c.Recv()
			started := o.started.Load()
			switch {
			case err == nil && started == 1:
				if v, _ := codecFor(m).Unmarshal(m.Data); py.Repr(v) != "1" {
					t.Errorf("reply %v", py.Repr(v))
				}
				if where == "after the first byte" {
					t.Error("a request that arrived after the shutdown began was served")
				}
			case err != nil && started == 0:
				if where == "after the request was read" {
					t.Error("a request being served when the shutdown began was not answered")
				}
			default:
				t.Errorf("request started %d times, reply %v %v: started but not answered", started, m, err)
			}
			if err := testkit.Receive(t, shut, "Shutdown returned"); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			testkit.Receive(t, served, "Serve returned")
		})
	}
}

// Range yields 0..n-1.
func (o *lcObj) Range(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; i < n; i++ {
			if !yield(i) {
				return
			}
		}
	}
}
