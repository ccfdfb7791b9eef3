package pyro

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/py"
)

// shelf is the object of the local call tests.
type shelf struct {
	Inner *calcInner
	n     int
}

func (*shelf) PyroExpose() Exposure { return Exposure{Hide: []string{"Secret"}} }

func (s *shelf) Count() int               { return s.n }
func (*shelf) Pair(a int, b string) []any { return []any{a, b} }
func (*shelf) Scale(xs []float64, f float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * f
	}
	return out
}
func (*shelf) Secret() string { return "secret" }
func (*shelf) Fail() error    { return &PythonError{Class: "ValueError", Msg: "bad value"} }
func (*shelf) Boom() int      { panic("boom") }
func (*shelf) Seq() func(func(int) bool) {
	return func(yield func(int) bool) { _ = yield(1) }
}

// Who reports the CallContext the method sees.
func (*shelf) Who(ctx context.Context) []any {
	cc := CallContextFrom(ctx)
	host := ""
	if cc.Conn != nil {
		host = cc.Conn.RemoteAddr.String()
	}
	return []any{cc.Agent, host, int(cc.Flags)}
}

// OnConn reports whether the method runs as a call of a connection.
func (*shelf) OnConn(ctx context.Context) bool {
	c, _ := ctx.Value(connCtxKey{}).(*dispatcher)
	return c != nil
}

// Wait blocks until its context ends.
func (*shelf) Wait(ctx context.Context) error {
	<-ctx.Done()
	return context.Cause(ctx)
}

// TestDaemonInvoke: a local call resolves, converts, refuses and fails as
// a remote call does.
func TestDaemonInvoke(t *testing.T) {
	cfg := BuiltinConfig()
	d, _, _ := testDispatcher(t, cfg)
	if _, err := d.Register(&shelf{n: 3, Inner: &calcInner{}}, "shelf"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name, object, method string
		args                 []any
		kwargs               *py.Dict
		want                 string // py.Repr of the result
		class, text          string // or the exception
	}{
		{name: "exposed", object: "shelf", method: "count", want: "3"},
		{name: "go name", object: "shelf", method: "Count", want: "3"},
		{name: "converted", object: "shelf", method: "scale", args: []any{[]any{int64(1), 2.5}, int64(2)}, want: "[2 5]"},
		{name: "kwargs", object: "shelf", method: "pair", args: []any{int64(1)}, kwargs: py.DictOf("b", "x"),
			class: "builtins.TypeError", text: "keyword"},
		{name: "wrong type", object: "shelf", method: "pair", args: []any{"x", "y"}, class: "builtins.TypeError", text: "cannot convert str to int"},
		{name: "too few", object: "shelf", method: "pair", args: []any{int64(1)}, class: "builtins.TypeError", text: "pair"},
		{name: "hidden", object: "shelf", method: "secret", class: "builtins.AttributeError", text: "no attribute 'secret'"},
		{name: "private", object: "shelf", method: "_count", class: "builtins.AttributeError", text: "private attribute"},
		{name: "dunder", object: "shelf", method: "__init__", class: "builtins.AttributeError", text: "private attribute"},
		{name: "missing", object: "shelf", method: "nope", class: "builtins.AttributeError", text: "no attribute 'nope'"},
		{name: "dotted off", object: "shelf", method: "inner.deep", class: "builtins.AttributeError", text: "no attribute 'inner.deep'"},
		{name: "unknown object", object: "nobody", method: "count", class: "Pyro4.errors.DaemonError", text: "unknown object"},
		{name: "method error", object: "shelf", method: "fail", class: "builtins.ValueError", text: "bad value"},
		{name: "panic", object: "shelf", method: "boom", class: "builtins.RuntimeError", text: "panic in method Boom: boom"},
		{name: "iterator", object: "shelf", method: "seq", class: "Pyro4.errors.ProtocolError", text: "iterator"},
		{name: "daemon object", object: DaemonObjectID, method: "ping", want: "<nil>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := d.Invoke(ctx, "agent1", c.object, c.method, c.args, c.kwargs)
			if c.class == "" {
				if err != nil || fmt.Sprint(res) != c.want {
					t.Fatalf("got %v, %v; want %s", res, err, c.want)
				}
				return
			}
			exc := ExceptionOf(err)
			if err == nil || exc.Class != c.class || !strings.Contains(exc.Message(), c.text) {
				t.Fatalf("got %s, %v (%v); want %s with %q", py.Repr(res), err, exc, c.class, c.text)
			}
		})
	}
	if _, err := d.Invoke(ctx, "", "shelf", "count", nil, nil); !errors.Is(err, errLocalAgent) {
		t.Errorf("no agent: %v", err)
	}
}

// TestDaemonInvokeDotted: with DOTTEDNAMES a dotted name resolves as in
// a remote call.
func TestDaemonInvokeDotted(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.DottedNames = true
	d, _, _ := testDispatcher(t, cfg)
	if _, err := d.Register(&shelf{Inner: &calcInner{}}, "shelf"); err != nil {
		t.Fatal(err)
	}
	res, err := d.Invoke(context.Background(), "a", "shelf", "inner.deep", nil, nil)
	if err != nil || res != "deep" {
		t.Fatalf("dotted: %v, %v", res, err)
	}
}

// TestDaemonInvokeContext: the method and the interceptors see a
// CallContext marked with the agent and carrying the connection of the
// daemon call the local call is made in; an interceptor can refuse it.
func TestDaemonInvokeContext(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	refuse := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) {
			cc := CallContextFrom(ctx)
			mu.Lock()
			seen = append(seen, cc.Agent+" "+c.Object()+"."+c.GoMethod())
			mu.Unlock()
			if cc.Agent != "" && c.GoMethod() == "Count" {
				return nil, NewError(ErrSecurity, "agents may not count")
			}
			return next(ctx, c)
		}
	})
	d, _, _ := testDispatcher(t, nil, WithInterceptors(refuse))
	if _, err := d.Register(&shelf{n: 3}, "shelf"); err != nil {
		t.Fatal(err)
	}
	client := &ConnInfo{RemoteAddr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 99}}
	outer := &CallContext{Conn: client, CorrelationID: [16]byte{1}, Flags: 4}
	ctx := context.WithValue(newTestDispatcher(d).ctx, callCtxKey{}, outer)

	res, err := d.Invoke(ctx, "mod1", "shelf", "who", nil, nil)
	if err != nil || fmt.Sprint(res) != "[mod1 192.0.2.7:99 0]" {
		t.Fatalf("who: %s, %v", py.Repr(res), err)
	}
	if on, err := d.Invoke(ctx, "mod1", "shelf", "on_conn", nil, nil); err != nil || on != false {
		t.Fatalf("a local call runs as a call of the client's connection: %v, %v", on, err)
	}
	_, err = d.Invoke(ctx, "mod1", "shelf", "count", nil, nil)
	if !errors.Is(err, ErrSecurity) || !strings.Contains(err.Error(), "agents may not count") {
		t.Fatalf("refused count: %v", err)
	}
	res, err = d.Invoke(context.Background(), "mod2", "shelf", "who", nil, nil)
	if err != nil || fmt.Sprint(res) != "[mod2  0]" {
		t.Fatalf("who without a client: %s, %v", py.Repr(res), err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, ","); got != "mod1 shelf.Who,mod1 shelf.OnConn,mod1 shelf.Count,mod2 shelf.Who" {
		t.Fatalf("interceptor saw %s", got)
	}
}

// TestDaemonInvokeCancel: a method blocked in a local call ends with the
// caller's context, and with the daemon.
func TestDaemonInvokeCancel(t *testing.T) {
	d, _, _ := testDispatcher(t, nil)
	if _, err := d.Register(&shelf{}, "shelf"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := d.Invoke(ctx, "a", "shelf", "wait", nil, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("wait ended with %v", err)
		}
	case <-time.After(testbound.Scale(30 * time.Second)):
		t.Fatal("the local call did not end with its context")
	}
	go func() {
		_, err := d.Invoke(context.Background(), "a", "shelf", "wait", nil, nil)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	d.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrDaemonClosed) {
			t.Fatalf("wait ended with %v", err)
		}
	case <-time.After(testbound.Scale(30 * time.Second)):
		t.Fatal("the local call did not end with the daemon")
	}
	if _, err := d.Invoke(context.Background(), "a", "shelf", "count", nil, nil); !errors.Is(err, ErrDaemonClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// TestDaemonInvokeInstanceModes: single and per-call registrations are
// as for remote calls; a session registration gets an instance per
// local call.
func TestDaemonInvokeInstanceModes(t *testing.T) {
	d, _, _ := testDispatcher(t, nil)
	made := 0
	factory := func() any { made++; return &shelf{n: made} }
	for _, r := range []struct {
		id   string
		mode InstanceMode
	}{{"percall", InstancePerCall}, {"session", InstanceSession}, {"single", InstanceSingle}} {
		if _, err := d.RegisterFactory(factory, r.mode, r.id); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	count := func(id string) any {
		t.Helper()
		res, err := d.Invoke(ctx, "a", id, "count", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// single: made once, at registration or first use
	first := count("single")
	if got := count("single"); got != first {
		t.Errorf("single: %v then %v", first, got)
	}
	for _, id := range []string{"percall", "session"} {
		a, b := count(id), count(id)
		if a == b {
			t.Errorf("%s: the same instance (%v) served two local calls", id, a)
		}
	}
}
