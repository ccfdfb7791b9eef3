package pyro

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// callLog records what interceptors see, safely from oneway goroutines.
type callLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *callLog) add(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *callLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.lines, " ")
	l.lines = nil
	return s
}

// takeSorted is take for lines logged by concurrent goroutines.
func (l *callLog) takeSorted() string {
	l.mu.Lock()
	slices.Sort(l.lines)
	l.mu.Unlock()
	return l.take()
}

// tracer logs entering and leaving under name.
func tracer(l *callLog, name string) Interceptor {
	return InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) {
			l.add("%s>%s", name, c.Method())
			res, err := next(ctx, c)
			l.add("<%s", name)
			return res, err
		}
	})
}

// Several interceptors run in the order given, the first outermost, for
// methods, attribute access and names that resolve to nothing; not for
// unknown objects.
func TestInterceptorOrder(t *testing.T) {
	var l callLog
	_, dc, _ := testDispatcher(t, nil, WithInterceptors(tracer(&l, "a"), tracer(&l, "b")), WithInterceptors(tracer(&l, "c")))
	wantValue(t, "sub", dc.do(0, "calc", "sub", []any{int64(3), int64(1)}), int64(2))
	if got := l.take(); got != "a>sub b>sub c>sub <c <b <a" {
		t.Errorf("order: %s", got)
	}
	wantValue(t, "attribute", dc.do(0, "calc", "__getattr__", []any{"label"}), "main")
	if got := l.take(); got != "a>__getattr__ b>__getattr__ c>__getattr__ <c <b <a" {
		t.Errorf("attribute: %s", got)
	}
	wantErr(t, "unresolved", dc.do(0, "calc", "nope", nil), "builtins.AttributeError", "'calc' object has no attribute 'nope'")
	if got := l.take(); got != "a>nope b>nope c>nope <c <b <a" {
		t.Errorf("unresolved: %s", got)
	}
	wantErr(t, "unknown object", dc.do(0, "none", "sub", nil), "Pyro4.errors.DaemonError", "unknown object")
	if got := l.take(); got != "" {
		t.Errorf("unknown object intercepted: %s", got)
	}
}

// An interceptor's error is the call's error, and the method does not
// run; an interceptor sees and may change arguments and results.
func TestInterceptorRefuseAndAlter(t *testing.T) {
	var ran []string
	guard := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) {
			switch c.GoMethod() {
			case "Deny":
				return nil, errors.New("unreachable")
			case "Sub":
				if c.CallContext().Conn.RemoteAddr.String() != "192.0.2.1:4242" {
					return nil, errors.New("wrong connection")
				}
				if len(c.Args) == 2 && c.Args[1] == int64(0) {
					return nil, NewError(ErrSecurity, "no subtracting zero")
				}
				c.Args = append([]any{int64(100)}, c.Args[1:]...) // a changed argument
			}
			ran = append(ran, c.GoMethod())
			res, err := next(ctx, c)
			if n, ok := res.(int); ok {
				res = n * 10 // a changed result
			}
			return res, err
		}
	})
	_, dc, _ := testDispatcher(t, nil, WithInterceptors(guard))
	out := dc.do(0, "calc", "sub", []any{int64(5), int64(0)})
	wantErr(t, "refused", out, "Pyro4.errors.SecurityError", "no subtracting zero")
	if out.end == nil {
		t.Error("a SecurityError from an interceptor did not end the connection, as one from the method does")
	}
	if len(ran) != 0 {
		t.Errorf("the method ran after a refusal: %v", ran)
	}
	wantValue(t, "altered", dc.do(0, "calc", "sub", []any{int64(5), int64(1)}), int64(990))
	wantValue(t, "by another name", dc.do(0, "calc", "Sub", []any{int64(5), int64(1)}), int64(990))
	if strings.Join(ran, ",") != "Sub,Sub" {
		t.Errorf("GoMethod seen: %v", ran)
	}
}

// An interceptor runs for each call of a batch; its refusal ends the
// batch there, like a failing call.
func TestInterceptorBatch(t *testing.T) {
	var l callLog
	stop := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) {
			l.add("%s:%v", c.Method(), c.InBatch())
			if c.Method() == "sum" {
				return nil, &PythonError{Class: "PermissionError", Msg: "no sums"}
			}
			return next(ctx, c)
		}
	})
	_, dc, _ := testDispatcher(t, nil, WithInterceptors(stop))
	item := func(m string, args ...any) any { return py.Tuple{m, py.Tuple(args), py.NewDict(0)} }
	out := dc.do(wire.FlagBatch, "calc", "<batch>", []any{item("sub", int64(3), int64(1)), item("sum", int64(1)), item("sub", int64(1), int64(1))})
	res, _ := out.value.([]any)
	if len(res) != 2 || res[0] != 2 {
		t.Fatalf("batch: %v", py.Repr(out.value))
	}
	if w, ok := res[1].(*codec.ExceptionWrapper); !ok || w.Exception.Class != "builtins.PermissionError" {
		t.Errorf("refused batch call: %v", py.Repr(res[1]))
	}
	if got := l.take(); got != "sub:true sum:true" {
		t.Errorf("batch calls intercepted: %s", got)
	}
}

// Oneway calls are intercepted too (in their goroutine); a refusal means
// the method does not run, and nothing is answered either way.
func TestInterceptorOneway(t *testing.T) {
	for _, threaded := range []bool{true, false} {
		var l callLog
		refuse := InterceptorFunc(func(next CallFunc) CallFunc {
			return func(ctx context.Context, c *Call) (any, error) {
				l.add("%v:%v", c.Args[0], c.Oneway())
				if c.Args[0] == "refused" {
					return nil, errors.New("no")
				}
				return next(ctx, c)
			}
		})
		cfg := BuiltinConfig()
		cfg.OnewayThreaded = threaded
		d, dc, obj := testDispatcher(t, cfg, WithInterceptors(refuse))
		for _, arg := range []string{"refused", "passed"} {
			if out := dc.do(wire.FlagOneway, "calc", "note", []any{arg}); !out.silent || out.err != nil {
				t.Errorf("oneway %s: %+v", arg, out)
			}
		}
		select {
		case s := <-obj.ran:
			if s != "passed" {
				t.Errorf("ran %q", s)
			}
		case <-time.After(testbound.Scale(10 * time.Second)):
			t.Fatal("the oneway call that passed did not run")
		}
		d.wg.Wait()
		if len(obj.ran) != 0 {
			t.Errorf("the refused oneway call ran: %q", <-obj.ran)
		}
		if got := l.takeSorted(); got != "passed:true refused:true" {
			t.Errorf("threaded %v: %s", threaded, got)
		}
	}
}

type ctxKey struct{}

// The interceptor's context carries the CallContext, and values it adds
// reach a method that takes a context.
func TestInterceptorContext(t *testing.T) {
	add := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) {
			if CallContextFrom(ctx) != c.CallContext() {
				return nil, errors.New("no CallContext in the interceptor's context")
			}
			return next(context.WithValue(ctx, ctxKey{}, "from the interceptor"), c)
		}
	})
	d, dc, _ := testDispatcher(t, nil, WithInterceptors(add))
	if _, err := d.Register(&ctxProbe{}, "probe"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, "value", dc.do(0, "probe", "value", nil), "from the interceptor")
}

type ctxProbe struct{}

func (ctxProbe) Value(ctx context.Context) any { return ctx.Value(ctxKey{}) }

// A panic in an interceptor is the call's RuntimeError.
func TestInterceptorPanic(t *testing.T) {
	boom := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) { panic("in the interceptor") }
	})
	d, dc, _ := testDispatcher(t, nil, WithInterceptors(boom))
	out := dc.do(0, "calc", "sub", []any{int64(1), int64(1)})
	wantErr(t, "panic", out, "builtins.RuntimeError", "panic in interceptor of sub: in the interceptor")
	if _, tb := d.exception(out.err); !strings.Contains(strings.Join(tb, ""), "Go interceptor of sub") {
		t.Errorf("traceback %q", tb)
	}
}

// A stream result that an interceptor drops is closed: the iterator's
// context ends.
func TestInterceptorDropsStream(t *testing.T) {
	drop := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) {
			_, err := next(ctx, c)
			return "replaced", err
		}
	})
	d, dc, _ := testDispatcher(t, nil, WithInterceptors(drop))
	probe := &streamProbe{done: make(chan struct{})}
	if _, err := d.Register(probe, "streams"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, "replaced", dc.do(0, "streams", "items", nil), "replaced")
	select {
	case <-probe.done:
	case <-time.After(testbound.Scale(10 * time.Second)):
		t.Fatal("the dropped stream's context did not end")
	}
	if n := d.streams.count(); n != 0 {
		t.Errorf("%d streams registered", n)
	}
}

type streamProbe struct{ done chan struct{} }

func (p *streamProbe) Items(ctx context.Context) func(func(int) bool) {
	context.AfterFunc(ctx, func() { close(p.done) })
	return func(yield func(int) bool) { yield(1) }
}

// A nil interceptor is refused when the daemon is made.
func TestInterceptorNil(t *testing.T) {
	for _, opt := range []DaemonOption{
		WithInterceptors(nil),
		WithInterceptors(InterceptorFunc(func(CallFunc) CallFunc { return nil })),
	} {
		if _, err := NewDaemon(nil, WithListener(fakeListener{}), opt); !errors.Is(err, errNilInterceptor) {
			t.Errorf("NewDaemon: %v", err)
		}
	}
	// a Call made outside a daemon reaches no method
	var c Call
	if _, err := runCall(context.Background(), &c); !errors.Is(err, errForeignCall) || c.Oneway() || c.InBatch() || c.GoMethod() != "" {
		t.Errorf("zero Call: %v", err)
	}
}

// Over the network: a Go proxy and a Python Pyro4 client get an
// interceptor's refusal as the exception it names, and the calls it lets
// through work.
func TestInterceptorOverTheWire(t *testing.T) {
	guard := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) {
			if c.GoMethod() == "Fail" {
				return nil, &PythonError{Class: "PermissionError", Msg: "fail() is not for you"}
			}
			if p := c.CallContext().Conn.Protocol; p != 48 {
				return nil, &PythonError{Class: "ValueError", Msg: fmt.Sprintf("a Pyro4 client's connection says protocol %d", p)}
			}
			return next(ctx, c)
		}
	})
	_, u, _ := startDaemon(t, nil, WithInterceptors(guard))
	p := newProxy(t, u, nil)
	if v, err := p.Call(context.Background(), "echo", "hi"); err != nil || v != "hi" {
		t.Errorf("echo: %v %v", v, err)
	}
	_, err := p.Call(context.Background(), "fail")
	var re *RemoteError
	if !errors.As(err, &re) || re.Class() != "builtins.PermissionError" || re.Message() != "fail() is not for you" {
		t.Errorf("refused call: %v", err)
	}
	out := runPython(t, `
import sys, Pyro4
p = Pyro4.Proxy(sys.argv[1])
print(p.echo("hi"))
try:
    p.fail()
except PermissionError as e:
    print("PermissionError:", e)
`, u.String())
	if out != "hi\nPermissionError: fail() is not for you\n" {
		t.Errorf("Python client:\n%s", out)
	}
}

// runPython runs a Python Pyro4 script with args and returns its output.
func runPython(t *testing.T, script string, args ...string) string {
	t.Helper()
	pytest.Python(t)
	r := pytest.Cmd{Args: append([]string{"-c", script}, args...)}.Run(t)
	if r.ExitCode != 0 {
		t.Fatalf("python exit %d:\n%s%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
}
