package pyro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/py"
)

func TestExceptionForKeepsClass(t *testing.T) {
	remote := &RemoteError{Exception: &py.Exception{Class: "builtins.KeyError", Args: py.Tuple{"k"}}}
	tests := []struct {
		name      string
		err       error
		class     string
		message   string
		closeConn bool
	}{
		{"plain error", errors.New("boom"), "builtins.Exception", "boom", false},
		{"wrapped sentinel", fmt.Errorf("lookup %q: %w", "x", ErrNaming), "Pyro4.errors.NamingError", `lookup "x"`, false},
		{"bare sentinel", ErrDaemon, "Pyro4.errors.DaemonError", "DaemonError", false},
		{"sentinel in the middle", fmt.Errorf("a: %w: b", ErrSecurity), "Pyro4.errors.SecurityError", "a: SecurityError: b", false},
		{"PythonError", &PythonError{Class: "ValueError", Msg: "bad port"}, "builtins.ValueError", "bad port", false},
		{"wrapped PythonError", fmt.Errorf("loading config: %w", &PythonError{Class: "ValueError", Msg: "bad port"}),
			"builtins.ValueError", "loading config: bad port", false},
		{"wrapped qualified PythonError", fmt.Errorf("ns: %w", &PythonError{Class: "Pyro4.errors.NamingError", Msg: "unknown name: x"}),
			"Pyro4.errors.NamingError", "ns: unknown name: x", false},
		{"wrapped *Error", fmt.Errorf("step 2: %w", NewError(ErrDaemon, "unknown object")), "Pyro4.errors.DaemonError", "step 2: unknown object", false},
		{"RemoteError passes through", remote, "builtins.KeyError", "k", false},
		{"wrapped RemoteError", fmt.Errorf("nested call: %w", remote), "builtins.KeyError", "nested call: k", false},
		{"outermost class wins", &Error{Class: ErrNaming, Msg: "resolve", Err: remote}, "Pyro4.errors.NamingError", "resolve", false},
		{"joined errors", errors.Join(errors.New("first"), fmt.Errorf("second: %w", ErrNaming)), "Pyro4.errors.NamingError", "first\nsecond", false},
		{"convert error", &py.ConvertError{Msg: "cannot convert str to int"}, "builtins.TypeError", "cannot convert str to int", false},
		{"wrapped timeout drops the connection", fmt.Errorf("nested: %w", ErrTimeout), "Pyro4.errors.TimeoutError", "nested", true},
		{"serialize error keeps the connection", fmt.Errorf("x: %w", ErrSerialize), "Pyro4.errors.SerializeError", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exc := exceptionFor(tt.err)
			if exc.Class != tt.class || exc.Message() != tt.message {
				t.Errorf("got %s %q, want %s %q", exc.Class, exc.Message(), tt.class, tt.message)
			}
			if got := dropsConnection(exc); got != tt.closeConn {
				t.Errorf("dropsConnection = %v, want %v", got, tt.closeConn)
			}
		})
	}
}

// errorsObject returns errors the ways Go code does.
type errorsObject struct{}

func (errorsObject) Naming(name string) error { return fmt.Errorf("lookup %q: %w", name, ErrNaming) }
func (errorsObject) WrappedValue() error {
	return fmt.Errorf("loading config: %w", &PythonError{Class: "ValueError", Msg: "bad port"})
}
func (errorsObject) WrappedDaemon() error {
	return fmt.Errorf("step 2: %w", NewError(ErrDaemon, "unknown object"))
}

// pyCall is one call for testdata/interop/pycall.py, and pyResult what
// came back.
type pyCall struct {
	URI        string `json:"uri"`
	Method     string `json:"method"`
	Args       string `json:"args,omitempty"`
	Kwargs     string `json:"kwargs,omitempty"`
	Serializer string `json:"serializer"`
}

type pyResult struct {
	OK      bool   `json:"ok"`
	Type    string `json:"type"`
	Repr    string `json:"repr"`
	Class   string `json:"class"`
	Message string `json:"message"`
}

func (r pyResult) String() string {
	if r.OK {
		return r.Type + " " + r.Repr
	}
	return r.Class + ": " + r.Message
}

// runPyCalls runs the calls in a Python Pyro4 client.
func runPyCalls(t *testing.T, calls []pyCall, env ...string) []pyResult {
	t.Helper()
	in, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	res := pytest.Cmd{Args: []string{"testdata/interop/pycall.py"}, Stdin: string(in), Env: env}.Run(t)
	var out []pyResult
	if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil || len(out) != len(calls) {
		t.Fatalf("pycall.py exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	return out
}

// startDaemonWith serves obj as "obj" in a daemon accepting every
// serializer and returns the object's URI.
func startDaemonWith(t *testing.T, obj any, opts ...DaemonOption) string {
	t.Helper()
	cfg := BuiltinConfig()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	d, _, _ := startDaemon(t, cfg, opts...)
	u, err := d.Register(obj, "obj")
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// TestErrorClassesReachPython: a Python client gets the class a Go error
// names, with the text around a wrapped error kept.
func TestErrorClassesReachPython(t *testing.T) {
	pytest.Python(t)
	u := startDaemonWith(t, errorsObject{})
	want := []pyResult{
		{Class: "Pyro4.errors.NamingError", Message: `lookup "x"`},
		{Class: "builtins.ValueError", Message: "loading config: bad port"},
		{Class: "Pyro4.errors.DaemonError", Message: "step 2: unknown object"},
	}
	var calls []pyCall
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		calls = append(calls,
			pyCall{URI: u, Method: "naming", Args: "('x',)", Serializer: ser},
			pyCall{URI: u, Method: "wrapped_value", Serializer: ser},
			pyCall{URI: u, Method: "wrapped_daemon", Serializer: ser})
	}
	for i, got := range runPyCalls(t, calls) {
		if w := want[i%len(want)]; got.OK || got.Class != w.Class || got.Message != w.Message {
			t.Errorf("%s %s: got %v, want %v", calls[i].Serializer, calls[i].Method, got, w)
		}
	}
}

// blocker has a method that blocks until the test ends.
type blocker struct{ release chan struct{} }

func (b *blocker) Wait() { <-b.release }

// TestDeadlineErrorsMatchContext: every client-side timeout is a
// pyro.ErrTimeout and a context.DeadlineExceeded.
func TestDeadlineErrorsMatchContext(t *testing.T) {
	check := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrCommunication) {
			t.Fatalf("error %v (%T): Is(ErrTimeout)=%v Is(DeadlineExceeded)=%v", err, err,
				errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded))
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("error %v is not a net.Error with Timeout()", err)
		}
	}
	// a server that accepts and never answers the handshake
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	})
	silent := "PYRO:obj@" + ln.Addr().String()

	t.Run("connect, context deadline", func(t *testing.T) {
		p, err := NewProxy(silent, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err = p.Call(ctx, "x")
		check(t, err)
	})
	t.Run("connect, proxy timeout", func(t *testing.T) {
		p, err := NewProxy(silent, nil, WithTimeout(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		_, err = p.Call(context.Background(), "x")
		check(t, err)
	})
	b := &blocker{release: make(chan struct{})}
	u := startDaemonWith(t, b)
	t.Cleanup(func() { close(b.release) }) // runs before the daemon's shutdown
	t.Run("call, proxy timeout", func(t *testing.T) {
		p, err := NewProxy(u, nil, WithTimeout(testbound.Scale(300*time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, _, _, err := p.Metadata(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err = p.Call(context.Background(), "wait")
		check(t, err)
	})
	t.Run("call, context deadline", func(t *testing.T) {
		p, err := NewProxy(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(300*time.Millisecond))
		defer cancel()
		_, err = p.Call(ctx, "wait")
		check(t, err)
	})
}
