package pyro

import (
	"context"
	"errors"
	"iter"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// Unit tests of call dispatch: a dispatcher driven directly, with no
// socket and no codec, as the connection loop drives it.

// calc is the object of the dispatch tests.
type calc struct {
	mu     sync.Mutex
	Label  string
	hidden string
	ran    chan string // oneway calls report here
	child  *calc
	Inner  *calcInner
}

type calcInner struct{}

func (*calcInner) Deep() string { return "deep" }

func (*calc) PyroExpose() Exposure {
	return Exposure{
		Attrs:    []string{"label", "hidden_value"},
		Names:    map[string]string{"__len__": "Len"},
		Params:   map[string][]string{"sub": {"a", "b"}, "opts": {"name", "limit", "sort"}},
		Callback: []string{"cb_fail"},
	}
}

func (*calc) Sub(a, b int) int                 { return a - b }
func (*calc) Sum(nums ...int) (s int)          { return sumInts(nums) }
func (*calc) Opts(name string, opt ...any) any { return append([]any{name}, opt...) }
func (*calc) Kw(a int, kw Kwargs) any          { return py.DictOf("a", int64(a), "n", int64(len(kw))) }
func (*calc) Len() int                         { return 7 }
func (*calc) Fail() error                      { return &PythonError{Class: "ValueError", Msg: "bad value"} }
func (*calc) CbFail() error                    { return errors.New("callback failed") }
func (*calc) Deny() error                      { return NewError(ErrSecurity, "not you") }
func (*calc) Gone() error                      { return NewError(ErrCommunication, "nested call lost") }
func (*calc) Boom() string                     { panic("kaboom") }
func (c *calc) Child() *calc                   { return c.child }
func (c *calc) Children() []any                { return []any{c.child, "x"} }
func (*calc) Peer(ctx context.Context) string  { return CallContextFrom(ctx).Conn.RemoteAddr.String() }
func (c *calc) Note(s string)                  { c.ran <- s }
func (*calc) Count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}
func (c *calc) GetHiddenValue() string { return c.hidden }
func (c *calc) SetHiddenValue(v string) {
	c.mu.Lock()
	c.hidden = v
	c.mu.Unlock()
}

func sumInts(n []int) (s int) {
	for _, x := range n {
		s += x
	}
	return s
}

// testDispatcher returns a daemon that is never served, with a calc as
// "calc" (and its child registered as "child"), and the dispatcher of a
// connection from 192.0.2.1:4242.
func testDispatcher(t testing.TB, cfg *Config, opts ...DaemonOption) (*Daemon, *dispatcher, *calc) {
	t.Helper()
	if cfg == nil {
		cfg = BuiltinConfig()
	}
	d, err := NewDaemon(cfg, append([]DaemonOption{WithListener(fakeListener{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		<-d.streams.closeAll()
	})
	obj := &calc{ran: make(chan string, 10), child: &calc{Label: "child"}, Label: "main", hidden: "h"}
	if _, err := d.Register(obj, "calc"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(obj.child, "child"); err != nil {
		t.Fatal(err)
	}
	return d, newTestDispatcher(d), obj
}

func newTestDispatcher(d *Daemon) *dispatcher {
	dc := &dispatcher{d: d, conn: &ConnInfo{RemoteAddr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4242}}}
	dc.ctx = context.WithValue(d.ctx, connCtxKey{}, dc)
	return dc
}

// do dispatches a call as the connection loop would.
func (dc *dispatcher) do(flags wire.Flags, object, method string, args []any, kw ...any) outcome {
	req := request{call: &codec.Call{Object: object, Method: method, Args: args, Kwargs: py.DictOf(kw...)},
		cc: &CallContext{Conn: dc.conn, Flags: uint16(flags)}, oneway: flags&wire.FlagOneway != 0, batch: flags&wire.FlagBatch != 0}
	return dc.dispatch(&req)
}

// wantErr checks that an outcome is the exception class: text.
func wantErr(t *testing.T, what string, out outcome, class, text string) {
	t.Helper()
	if out.err == nil {
		t.Errorf("%s: result %v, want %s: %s", what, py.Repr(out.value), class, text)
		return
	}
	exc := exceptionFor(out.err)
	if exc.Class != class || exc.Message() != text {
		t.Errorf("%s: %s: %s\n want %s: %s", what, exc.Class, exc.Message(), class, text)
	}
}

// pyValue is v as the client gets it (Go values converted).
func pyValue(t *testing.T, v any) string {
	t.Helper()
	pv, err := py.FromGo(v)
	if err != nil {
		t.Fatalf("%T: %v", v, err)
	}
	return py.Repr(pv)
}

func wantValue(t *testing.T, what string, out outcome, want any) {
	t.Helper()
	if got := pyValue(t, out.value); out.err != nil || got != py.Repr(want) {
		t.Errorf("%s: %v, %v; want %v", what, got, out.err, py.Repr(want))
	}
	if out.end != nil || out.silent {
		t.Errorf("%s: end %v, silent %v", what, out.end, out.silent)
	}
}

// Method resolution, with Pyro's error texts.
func TestDispatchResolve(t *testing.T) {
	cfg := BuiltinConfig()
	_, dc, _ := testDispatcher(t, cfg)
	wantValue(t, "python name", dc.do(0, "calc", "sub", []any{int64(5), int64(3)}), int64(2))
	wantValue(t, "go name", dc.do(0, "calc", "Sub", []any{int64(5), int64(3)}), int64(2))
	wantValue(t, "alias", dc.do(0, "calc", "__len__", nil), int64(7))
	wantErr(t, "unknown object", dc.do(0, "nothing", "sub", nil), "Pyro4.errors.DaemonError", "unknown object")
	wantErr(t, "unknown method", dc.do(0, "calc", "mul", nil), "builtins.AttributeError", "'calc' object has no attribute 'mul'")
	wantErr(t, "private", dc.do(0, "calc", "_sub", nil), "builtins.AttributeError", "attempt to access private attribute '_sub'")
	wantErr(t, "reserved dunder", dc.do(0, "calc", "__class__", nil), "builtins.AttributeError", "attempt to access private attribute '__class__'")
	wantErr(t, "attribute called", dc.do(0, "calc", "label", nil), "builtins.AttributeError", "attempt to access unexposed attribute 'label'")
	wantErr(t, "dotted, off", dc.do(0, "calc", "inner.deep", nil), "builtins.AttributeError", "'calc' object has no attribute 'inner.deep'")
	wantErr(t, "getter hidden", dc.do(0, "calc", "get_hidden_value", nil), "builtins.AttributeError", "'calc' object has no attribute 'get_hidden_value'")

	cfg = BuiltinConfig()
	cfg.DottedNames = true
	_, dc, obj := testDispatcher(t, cfg)
	obj.Inner = &calcInner{}
	wantValue(t, "dotted, on", dc.do(0, "calc", "inner.deep", nil), "deep")
	wantErr(t, "dotted private", dc.do(0, "calc", "inner._x", nil), "builtins.AttributeError", "attempt to access private attribute '_x'")
	wantErr(t, "dotted unexported", dc.do(0, "calc", "hidden.x", nil), "builtins.AttributeError", "'calc' object has no attribute 'hidden'")
	obj.Inner = nil
	wantErr(t, "dotted nil", dc.do(0, "calc", "inner.deep", nil), "builtins.AttributeError", "'NoneType' object has no attribute 'deep'")
}

// Argument building: positional, keyword, variadic, Python-style optional
// parameters, Kwargs, and Python's texts for what does not fit.
func TestDispatchArguments(t *testing.T) {
	_, dc, _ := testDispatcher(t, nil)
	for _, tc := range []struct {
		name   string
		method string
		args   []any
		kw     []any
		want   any
		class  string
		text   string
	}{
		{name: "positional", method: "sub", args: []any{int64(9), int64(4)}, want: int64(5)},
		{name: "keyword", method: "sub", kw: []any{"b", int64(4), "a", int64(9)}, want: int64(5)},
		{name: "mixed", method: "sub", args: []any{int64(9)}, kw: []any{"b", int64(1)}, want: int64(8)},
		{name: "variadic", method: "sum", args: []any{int64(1), int64(2), int64(3)}, want: int64(6)},
		{name: "variadic empty", method: "sum", want: int64(0)},
		{name: "optional slots", method: "opts", args: []any{"n"}, kw: []any{"sort", true}, want: []any{"n", nil, true}},
		{name: "kwargs", method: "kw", args: []any{int64(1)}, kw: []any{"x", 1, "y", 2}, want: py.DictOf("a", int64(1), "n", int64(2))},
		{name: "missing", method: "sub", args: []any{int64(1)}, class: "builtins.TypeError", text: "sub() missing required argument 'b'"},
		{name: "too many", method: "sub", args: []any{int64(1), int64(2), int64(3)}, class: "builtins.TypeError",
			text: "sub() takes 2 positional arguments but 3 were given"},
		{name: "twice", method: "sub", args: []any{int64(1), int64(2)}, kw: []any{"a", int64(3)}, class: "builtins.TypeError",
			text: "sub() got multiple values for argument 'a'"},
		{name: "unexpected", method: "sub", args: []any{int64(1), int64(2)}, kw: []any{"c", int64(3)}, class: "builtins.TypeError",
			text: "sub() got an unexpected keyword argument 'c'"},
		{name: "wrong type", method: "sub", args: []any{"one", int64(2)}, class: "builtins.TypeError", text: "arg 1: cannot convert str to int"},
		{name: "wrong variadic", method: "sum", args: []any{int64(1), "two"}, class: "builtins.TypeError", text: "arg 2: cannot convert str to int"},
	} {
		out := dc.do(0, "calc", tc.method, tc.args, tc.kw...)
		if tc.class != "" {
			wantErr(t, tc.name, out, tc.class, tc.text)
		} else {
			wantValue(t, tc.name, out, tc.want)
		}
	}
	wantValue(t, "context", dc.do(0, "calc", "peer", nil), "192.0.2.1:4242")
}

// A method's error, and how some end the connection.
func TestDispatchErrors(t *testing.T) {
	_, dc, _ := testDispatcher(t, nil)
	out := dc.do(0, "calc", "fail", nil)
	wantErr(t, "error", out, "builtins.ValueError", "bad value")
	if out.end != nil {
		t.Errorf("an error ended the connection: %v", out.end)
	}
	out = dc.do(0, "calc", "cb_fail", nil)
	wantErr(t, "callback", out, "builtins.Exception", "callback failed")
	if out.end == nil || out.silent {
		t.Errorf("a callback method's error: end %v, silent %v; want answered, then closed", out.end, out.silent)
	}
	out = dc.do(0, "calc", "deny", nil)
	wantErr(t, "security", out, "Pyro4.errors.SecurityError", "not you")
	if out.end == nil || out.silent {
		t.Errorf("SecurityError: end %v, silent %v; want answered, then closed", out.end, out.silent)
	}
	out = dc.do(0, "calc", "gone", nil)
	if !out.silent || out.end == nil {
		t.Errorf("CommunicationError: silent %v, end %v; want no answer and closed", out.silent, out.end)
	}
	out = dc.do(0, DaemonObjectID, AuthMethod, []any{"a", "b", "c", "d"})
	wantErr(t, "authenticate", out, "Pyro4.errors.SecurityError", reasonAuthNotPending)
	if out.end == nil {
		t.Error("authenticate on an established connection did not end it")
	}
}

// A panic is the call's RuntimeError, with a traceback; the connection
// stays.
func TestDispatchPanic(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.DetailedTraceback = true
	d, dc, _ := testDispatcher(t, cfg)
	out := dc.do(0, "calc", "boom", nil)
	wantErr(t, "panic", out, "builtins.RuntimeError", "panic in method Boom: kaboom")
	if out.end != nil {
		t.Errorf("a panic ended the connection: %v", out.end)
	}
	_, tb := d.exception(out.err)
	if s := strings.Join(tb, ""); !strings.Contains(s, "Go method Boom") || !strings.Contains(s, "dispatch_internal_test.go") {
		t.Errorf("traceback:\n%s", s)
	}
	wantValue(t, "after the panic", dc.do(0, "calc", "sub", []any{int64(2), int64(1)}), int64(1))
}

// Remote attributes.
func TestDispatchAttributes(t *testing.T) {
	_, dc, obj := testDispatcher(t, nil)
	wantValue(t, "field", dc.do(0, "calc", "__getattr__", []any{"label"}), "main")
	wantValue(t, "getter", dc.do(0, "calc", "__getattr__", []any{"hidden_value"}), "h")
	wantValue(t, "setter", dc.do(0, "calc", "__setattr__", []any{"hidden_value", "new"}), nil)
	wantValue(t, "set field", dc.do(0, "calc", "__setattr__", []any{"label", "renamed"}), nil)
	if obj.hidden != "new" || obj.Label != "renamed" {
		t.Errorf("attributes set to %q, %q", obj.hidden, obj.Label)
	}
	wantErr(t, "unknown", dc.do(0, "calc", "__getattr__", []any{"nope"}), "builtins.AttributeError", "type object 'calc' has no attribute 'nope'")
	wantErr(t, "method", dc.do(0, "calc", "__getattr__", []any{"sub"}), "builtins.AttributeError", "attempt to access unexposed or unknown remote attribute 'sub'")
	wantErr(t, "no name", dc.do(0, "calc", "__getattr__", nil), "builtins.TypeError", "__getattr__ needs an attribute name")
	wantErr(t, "bad value", dc.do(0, "calc", "__setattr__", []any{"label", int64(3)}), "builtins.TypeError", "arg 2: cannot convert int to string")
}

// Batches: results in order, the first failure ends the batch.
func TestDispatchBatch(t *testing.T) {
	_, dc, _ := testDispatcher(t, nil)
	item := func(m string, args ...any) any { return py.Tuple{m, py.Tuple(args), py.NewDict(0)} }
	out := dc.do(wire.FlagBatch, "calc", "<batch>", []any{item("sub", int64(3), int64(1)), item("sum", int64(1), int64(2)),
		item("fail"), item("sub", int64(1), int64(1))})
	if !out.batch || out.err != nil {
		t.Fatalf("batch: %+v", out)
	}
	res := out.value.([]any)
	if len(res) != 3 || res[0] != 2 || res[1] != 3 {
		t.Fatalf("batch results %v", py.Repr(res))
	}
	w, ok := res[2].(*codec.ExceptionWrapper)
	if !ok || w.Exception.Class != "builtins.ValueError" {
		t.Fatalf("batch failure %v", py.Repr(res[2]))
	}
	for _, tc := range []struct {
		name string
		item any
		want string
	}{
		{"not a triple", py.Tuple{"sub"}, "ValueError: batch item is not a (method, vargs, kwargs) triple"},
		{"stream", item("count", int64(3)), "ProtocolError: result of call is an iterator, which a batch cannot return"},
		{"attribute", item("__getattr__", "label"), "AttributeError: attempt to access private attribute '__getattr__'"},
		{"panic", item("boom"), "RuntimeError: panic in method Boom: kaboom"},
	} {
		out := dc.do(wire.FlagBatch, "calc", "<batch>", []any{tc.item})
		res, _ := out.value.([]any)
		if len(res) != 1 {
			t.Errorf("%s: %v", tc.name, py.Repr(out.value))
			continue
		}
		w, ok := res[0].(*codec.ExceptionWrapper)
		if !ok || w.Exception.ShortClass()+": "+w.Exception.Message() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, py.Repr(res[0]), tc.want)
		}
	}
	// a oneway batch runs inline and answers nothing
	out = dc.do(wire.FlagBatch|wire.FlagOneway, "calc", "<batch>", []any{item("note", "batched")})
	if !out.silent {
		t.Errorf("oneway batch answered %+v", out)
	}
	select {
	case s := <-dc.d.lookup("calc").obj.(*calc).ran:
		if s != "batched" {
			t.Errorf("oneway batch ran %q", s)
		}
	default:
		t.Error("oneway batch did not run inline")
	}
}

// Oneway calls answer nothing; with ONEWAY_THREADED they run in a
// goroutine that takes over the budget their arguments hold.
func TestDispatchOneway(t *testing.T) {
	for _, threaded := range []bool{true, false} {
		cfg := BuiltinConfig()
		cfg.OnewayThreaded = threaded
		d, dc, obj := testDispatcher(t, cfg)
		dc.mem = &connMem{b: newMemBudget(1 << 20)}
		if err := dc.mem.Acquire(100); err != nil {
			t.Fatal(err)
		}
		req := request{call: &codec.Call{Object: "calc", Method: "note", Args: []any{"hi"}, Kwargs: py.NewDict(0)},
			cc: &CallContext{Conn: dc.conn, Flags: uint16(wire.FlagOneway)}, oneway: true, held: 100}
		if out := dc.dispatch(&req); !out.silent || out.end != nil {
			t.Errorf("threaded %v: outcome %+v", threaded, out)
		}
		if threaded != (req.held == 0) {
			t.Errorf("threaded %v: the request still holds %d", threaded, req.held)
		}
		select {
		case s := <-obj.ran:
			if s != "hi" {
				t.Errorf("oneway ran with %q", s)
			}
		case <-time.After(testbound.Scale(10 * time.Second)):
			t.Fatal("oneway call did not run")
		}
		d.wg.Wait()
		if threaded && dc.mem.held.Load() != 0 {
			t.Errorf("the oneway goroutine did not release its arguments' budget: %d held", dc.mem.held.Load())
		}
		// errors are dropped, nothing is answered
		for _, m := range []string{"fail", "nope", "boom"} {
			if out := dc.do(wire.FlagOneway, "calc", m, nil); !out.silent {
				t.Errorf("oneway %s answered %+v", m, out)
			}
		}
		d.wg.Wait()
	}
}

// Item streams: a method's iterator result becomes a stream that
// Pyro.Daemon serves item by item.
func TestDispatchStreams(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.IterStreamMaxConn = 1
	d, dc, _ := testDispatcher(t, cfg)
	out := dc.do(0, "calc", "count", []any{int64(2)})
	if out.streamID == "" || out.err != nil {
		t.Fatalf("stream start: %+v", out)
	}
	for _, want := range []int64{0, 1} {
		wantValue(t, "item", dc.do(0, DaemonObjectID, "get_next_stream_item", []any{out.streamID}), want)
	}
	wantErr(t, "end", dc.do(0, DaemonObjectID, "get_next_stream_item", []any{out.streamID}), "builtins.StopIteration", "")
	if n := d.streams.count(); n != 0 {
		t.Errorf("%d streams left", n)
	}
	// ITER_STREAM_MAXCONN=1
	if out := dc.do(0, "calc", "count", []any{int64(5)}); out.streamID == "" {
		t.Fatalf("stream start: %+v", out)
	}
	wantErr(t, "over the limit", dc.do(0, "calc", "count", []any{int64(5)}), "Pyro4.errors.DaemonError",
		"too many open item streams on this connection (ITER_STREAM_MAXCONN=1); finish or close some first")

	cfg = BuiltinConfig()
	cfg.IterStreaming = false
	_, dc, _ = testDispatcher(t, cfg)
	wantErr(t, "streaming off", dc.do(0, "calc", "count", []any{int64(2)}), "Pyro4.errors.ProtocolError",
		"result of call is an iterator, but the server is not configured to allow streaming")
}

// Registered objects in results travel as proxies (AUTOPROXY).
func TestDispatchAutoproxy(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := BuiltinConfig()
		cfg.AutoProxy = on
		_, dc, _ := testDispatcher(t, cfg)
		for _, m := range []string{"child", "children"} {
			out := dc.do(0, "calc", m, nil)
			v := out.value
			if l, ok := v.([]any); ok {
				v = l[0]
			}
			ref, isRef := v.(*codec.ProxyRef)
			if isRef != on || out.err != nil {
				t.Errorf("autoproxy %v, %s: %T %v", on, m, v, out.err)
			}
			if on && (ref.URI.Object != "child" || len(ref.Methods) == 0) {
				t.Errorf("autoproxy %s: %+v", m, ref)
			}
		}
	}
}

// InstanceSession gives each connection its own instance; InstancePerCall
// each call.
func TestDispatchInstanceModes(t *testing.T) {
	d, dc, _ := testDispatcher(t, nil)
	made := 0
	factory := func() any { made++; return &calc{Label: "made"} }
	if _, err := d.RegisterFactory(factory, InstanceSession, "session"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RegisterFactory(factory, InstancePerCall, "percall"); err != nil {
		t.Fatal(err)
	}
	made = 0
	other := newTestDispatcher(d)
	for range 3 {
		dc.do(0, "session", "__setattr__", []any{"label", "set"})
		wantValue(t, "session", dc.do(0, "session", "__getattr__", []any{"label"}), "set")
		wantValue(t, "other session", other.do(0, "session", "__getattr__", []any{"label"}), "made")
	}
	if made != 2 {
		t.Errorf("%d session instances for two connections", made)
	}
	made = 0
	dc.do(0, "percall", "__setattr__", []any{"label", "set"})
	wantValue(t, "per call", dc.do(0, "percall", "__getattr__", []any{"label"}), "made")
	if made != 2 {
		t.Errorf("%d instances for two calls", made)
	}
}

// BenchmarkDispatch measures dispatch alone (no socket, no codec) of a
// two-argument call, without interceptors and with one that passes the
// call on.
func BenchmarkDispatch(b *testing.B) {
	pass := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) { return next(ctx, c) }
	})
	for _, tc := range []struct {
		name string
		opts []DaemonOption
	}{{"plain", nil}, {"interceptor", []DaemonOption{WithInterceptors(pass)}}} {
		b.Run(tc.name, func(b *testing.B) {
			_, dc, _ := testDispatcher(b, nil, tc.opts...)
			call := &codec.Call{Object: "calc", Method: "sub", Args: []any{int64(5), int64(3)}, Kwargs: py.NewDict(0)}
			cc := &CallContext{Conn: dc.conn}
			b.ReportAllocs()
			for b.Loop() {
				req := request{call: call, cc: cc}
				if out := dc.dispatch(&req); out.err != nil {
					b.Fatal(out.err)
				}
			}
		})
	}
}
