package pyro_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// errorsObject returns errors the ways Go code does.
type errorsObject struct{}

func (errorsObject) Naming(name string) error {
	return fmt.Errorf("lookup %q: %w", name, pyro.ErrNaming)
}
func (errorsObject) WrappedValue() error {
	return fmt.Errorf("loading config: %w", &pyro.PythonError{Class: "ValueError", Msg: "bad port"})
}
func (errorsObject) WrappedDaemon() error {
	return fmt.Errorf("step 2: %w", pyro.NewError(pyro.ErrDaemon, "unknown object"))
}

// TestErrorClassesReachPython: a Python client gets the class a Go error
// names, with the text around a wrapped error kept.
func TestErrorClassesReachPython(t *testing.T) {
	pytest.Python(t)
	u := pyrotest.Serve(t, pyrotest.Config(), "obj", errorsObject{}).String()
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
		if !errors.Is(err, pyro.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, pyro.ErrCommunication) {
			t.Fatalf("error %v (%T): Is(ErrTimeout)=%v Is(DeadlineExceeded)=%v", err, err,
				errors.Is(err, pyro.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
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
		p, err := pyro.NewProxy(silent, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err = p.Call(ctx, "x")
		check(t, err)
	})
	t.Run("connect, context cancelled", func(t *testing.T) {
		// also under TLS or a slow reconnect: a cancellation that the
		// connection sees as a timeout is still reported as the
		// cancellation
		p, err := pyro.NewProxy(silent, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err = p.Call(ctx, "x")
		if !errors.Is(err, context.Canceled) || !errors.Is(err, pyro.ErrCommunication) || errors.Is(err, pyro.ErrTimeout) {
			t.Fatalf("error %v: Is(Canceled)=%v Is(ErrCommunication)=%v Is(ErrTimeout)=%v", err,
				errors.Is(err, context.Canceled), errors.Is(err, pyro.ErrCommunication), errors.Is(err, pyro.ErrTimeout))
		}
	})
	t.Run("connect, proxy timeout", func(t *testing.T) {
		p, err := pyro.NewProxy(silent, nil, pyro.WithTimeout(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		_, err = p.Call(context.Background(), "x")
		check(t, err)
	})
	b := &blocker{release: make(chan struct{})}
	u := pyrotest.Serve(t, pyrotest.Config(), "obj", b).String()
	t.Cleanup(func() { close(b.release) }) // runs before the daemon's shutdown
	t.Run("call, proxy timeout", func(t *testing.T) {
		p, err := pyro.NewProxy(u, nil, pyro.WithTimeout(testbound.Scale(300*time.Millisecond)))
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
		p, err := pyro.NewProxy(u, nil)
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
