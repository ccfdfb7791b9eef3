package echoserver

import (
	"context"
	"fmt"
	"io"
	"iter"
	"math"
	"sync"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// ObjectID is the id the echo server is registered under.
const ObjectID = "test.echoserver"

// EchoServer is the echo server object. Its zero value is ready to use;
// Out receives the verbose log lines (nil = discard).
type EchoServer struct {
	mu       sync.Mutex
	verbose  bool
	Out      io.Writer
	shutdown chan struct{}
	once     sync.Once
	// SlowDelay is how long slow() and oneway_slow() wait (default 5 s,
	// as in Pyro).
	SlowDelay time.Duration
}

// PyroExpose lists the oneway methods, the verbose attribute, keyword
// parameter names and the __dunder__ method, as Pyro's echo server has.
func (e *EchoServer) PyroExpose() pyro.Exposure {
	return pyro.Exposure{
		Oneway: []string{"oneway_echo", "oneway_slow"},
		Attrs:  []string{"verbose"},
		Names:  map[string]string{"__dunder__": "Dunder"},
		Params: map[string][]string{"echo": {"message"}, "oneway_echo": {"message"}},
		Hide:   []string{"Done"},
	}
}

// logRepr logs what with the repr of v, which is only computed when
// verbose: the repr of a large or reference-sharing message can be far
// larger than the message itself.
func (e *EchoServer) logRepr(what string, v any) {
	e.mu.Lock()
	on := e.verbose && e.Out != nil
	e.mu.Unlock()
	if on {
		e.logf("%s: %s", what, py.Repr(v))
	}
}

func (e *EchoServer) logf(format string, args ...any) {
	e.mu.Lock()
	v, out := e.verbose, e.Out
	e.mu.Unlock()
	if v && out != nil {
		fmt.Fprintf(out, "%s - %s\n", time.Now().Format(time.ANSIC), fmt.Sprintf(format, args...))
	}
}

// Echo returns the message.
func (e *EchoServer) Echo(message any) any {
	e.logRepr("echo", message)
	return message
}

// Error raises a ValueError, with the text of the echo server of the
// caller's generation: Pyro4's and Pyro5's differ only here.
func (e *EchoServer) Error(ctx context.Context) error {
	e.logf("error: generating exception")
	msg := "expected error from echoserver error() method"
	if cc := pyro.CallContextFrom(ctx); cc != nil && cc.Conn != nil && cc.Conn.Protocol == int(wire.Protocol502) {
		msg = "this is the generated error from echoserver echo() method"
	}
	return &pyro.PythonError{Class: "ValueError", Msg: msg}
}

// ErrorWithText raises a ValueError with a message.
func (e *EchoServer) ErrorWithText() error {
	e.logf("error: generating exception")
	return &pyro.PythonError{Class: "ValueError", Msg: "the message of the error"}
}

// OnewayEcho is echo, called oneway.
func (e *EchoServer) OnewayEcho(message any) string {
	e.logRepr("oneway_echo", message)
	return "bogus return value"
}

func (e *EchoServer) delay() time.Duration {
	if e.SlowDelay > 0 {
		return e.SlowDelay
	}
	return 5 * time.Second
}

// Slow answers after a delay.
func (e *EchoServer) Slow(ctx context.Context) string {
	e.logf("slow: waiting a bit...")
	time.Sleep(e.delay())
	e.logf("slow: returning result")
	return "Finally, an answer!"
}

// Generator streams three strings.
func (e *EchoServer) Generator() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, s := range []string{"one", "two", "three"} {
			if !yield(s) {
				return
			}
		}
	}
}

// Nan returns NaN.
func (e *EchoServer) Nan() float64 { return math.NaN() }

// Inf returns +Inf.
func (e *EchoServer) Inf() float64 { return math.Inf(1) }

// OnewaySlow waits, then returns; callers don't wait for it.
func (e *EchoServer) OnewaySlow() string {
	e.logf("oneway_slow: waiting a bit...")
	time.Sleep(e.delay())
	e.logf("oneway_slow: returning result")
	return "bogus return value"
}

// Dunder is reachable as __dunder__.
func (e *EchoServer) Dunder() string { return "should be allowed (dunder)" }

// Shutdown asks the server program to stop.
func (e *EchoServer) Shutdown() {
	e.logf("shutting down")
	e.once.Do(func() {
		e.mu.Lock()
		if e.shutdown == nil {
			e.shutdown = make(chan struct{})
		}
		close(e.shutdown)
		e.mu.Unlock()
	})
}

// Done is closed after Shutdown was called.
func (e *EchoServer) Done() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shutdown == nil {
		e.shutdown = make(chan struct{})
	}
	return e.shutdown
}

// Verbose is the verbose attribute.
func (e *EchoServer) Verbose() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.verbose
}

// SetVerbose sets the verbose attribute.
func (e *EchoServer) SetVerbose(on bool) {
	e.mu.Lock()
	e.verbose = on
	e.mu.Unlock()
}
