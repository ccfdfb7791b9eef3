package pyro

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// Call dispatch: what a daemon does with a decoded INVOKE. A dispatcher
// finds the object and the method (resolvemethod.go), runs the daemon's
// interceptors (interceptor.go) and the method with its arguments
// converted to the Go parameter types (args.go), runs batches
// (batchserver.go), remote attribute access (attrs.go), oneway calls
// (oneway.go) and item streams (streams.go), recovers panics, and says
// what to answer. It knows nothing of the socket: the connection loop
// (serverconn.go) decodes the request and encodes and sends the answer,
// and tests drive a dispatcher directly.

// dispatcher runs the calls of one client connection.
type dispatcher struct {
	d *Daemon
	// ctx is the connection's context: the parent of the contexts of its
	// answered calls (a oneway call's parent is the daemon's). It carries
	// the dispatcher under connCtxKey.
	ctx      context.Context
	conn     *ConnInfo      // the connection, as CallContext.Conn shows it
	sessions map[string]any // the instances of InstanceSession registrations
	nstreams int            // open item streams owned; guarded by d.streams.mu
	oneway   chan struct{}  // slots for running oneway calls (ONEWAY_MAXCONN), made on first use
	// watch watches for the client leaving while a call that takes a
	// context runs (nil: no watching); the function it returns stops it
	watch func() (stop func())
	// mem is the connection's budget share, which a oneway call running
	// on in a goroutine releases for its arguments (nil: none)
	mem *connMem
}

// request is a decoded INVOKE.
type request struct {
	call   *codec.Call
	cc     *CallContext
	oneway bool
	batch  bool
	// held is the budget that the request's arguments hold; a oneway call
	// that runs on in a goroutine takes it over and sets it to 0
	held int
}

// outcome is what the connection sends for a request.
type outcome struct {
	value    any    // the result (of a batch: the list of results)
	err      error  // the call failed: answered with its exception
	streamID string // the result is the item stream with this id
	batch    bool   // value is a batch's results
	silent   bool   // nothing is sent (oneway calls, and see dispatch)
	end      error  // the connection ends after the answer, for this reason
}

// dispatch runs one request.
func (dc *dispatcher) dispatch(req *request) outcome {
	d := dc.d
	call := req.call
	if call.Object == DaemonObjectID && call.Method == AuthMethod {
		// a proof is answered once, before any call (authserver.go)
		return outcome{err: NewError(ErrSecurity, reasonAuthNotPending), silent: req.oneway,
			end: &connEnd{level: slog.LevelWarn, msg: "pyro: authenticate call on an established connection, closing"}}
	}
	r := d.lookup(call.Object)
	if r == nil {
		dc.observeUnknownObject(req)
		return outcome{err: NewError(ErrDaemon, "unknown object"), silent: req.oneway}
	}
	obj := r.instance(dc)
	if req.batch {
		if req.oneway { // inline, as in Pyro
			dc.runBatch(d.ctx, req.cc, r, obj, call)
			return outcome{silent: true}
		}
		stop := dc.watchCall()
		results := dc.runBatch(dc.ctx, req.cc, r, obj, call)
		stop()
		return outcome{value: results, batch: true}
	}
	var c Call
	dc.prepare(&c, req.cc, r, obj, call.Object, call.Method, call.Args, call.Kwargs, true)
	if req.oneway {
		return dc.runOneway(&c, req)
	}
	var res any
	var err error
	if c.m != nil && c.m.hasCtx {
		stop := dc.watchCall()
		res, err = dc.call(dc.ctx, &c)
		stop()
	} else {
		res, err = dc.call(dc.ctx, &c)
	}
	if err != nil {
		if dropsConnection(exceptionFor(err)) {
			// as Pyro: a CommunicationError from a method drops the
			// connection, with no reply
			return outcome{silent: true, end: &connEnd{level: slog.LevelInfo,
				msg: "pyro: closing connection: the method failed with a CommunicationError", attrs: []any{"err", err}, err: err}}
		}
		out := outcome{err: err}
		switch {
		case c.m != nil && c.m.callback:
			out.end = &connEnd{level: slog.LevelInfo, msg: "pyro: closing connection after the error of a callback method",
				attrs: []any{"method", c.method, "err", err}, err: err}
		case errors.Is(err, ErrSecurity):
			out.end = &connEnd{level: slog.LevelInfo, msg: "pyro: closing connection after a SecurityError", attrs: []any{"err", err}, err: err}
		}
		return out
	}
	if s, ok := res.(streamSource); ok {
		return dc.startStream(s)
	}
	return outcome{value: res}
}

// watchCall starts watching for the client leaving during a call.
func (dc *dispatcher) watchCall() (stop func()) {
	if dc.watch == nil {
		return func() {}
	}
	return dc.watch()
}

// prepare fills c for a call of method on obj, the instance of r: it
// resolves the method (or notes that it does not resolve). With attrs,
// __getattr__ and __setattr__ are remote attribute access.
func (dc *dispatcher) prepare(c *Call, cc *CallContext, r *registration, obj any, object, method string, args []any, kwargs *py.Dict, attrs bool) {
	*c = Call{Args: args, Kwargs: kwargs, object: object, method: method, cc: cc, dc: dc, r: r, obj: obj}
	if attrs && (method == "__getattr__" || method == "__setattr__") {
		c.attr = true
		return
	}
	res, err := dc.resolve(r, obj, method)
	if err != nil {
		c.resolveErr = err
		return
	}
	m, target := res.resolvedMethod()
	c.m, c.target = m, obj
	if target != nil {
		c.target = target
	}
}

// call runs a prepared call through the daemon's interceptors, if any, to
// the method. A result that is a stream source is released here when an
// interceptor drops it.
func (dc *dispatcher) call(parent context.Context, c *Call) (any, error) {
	if obs := dc.d.obs; obs != nil {
		return dc.observedCall(obs, parent, c)
	}
	return dc.callChain(parent, c)
}

// callChain is call without the observer.
func (dc *dispatcher) callChain(parent context.Context, c *Call) (any, error) {
	chain := dc.d.chain
	if chain == nil {
		return dc.run(parent, c)
	}
	ic := *c // the interceptors' copy: c stays on the caller's stack
	res, err := dc.intercept(context.WithValue(parent, callCtxKey{}, c.cc), chain, &ic)
	if ic.produced.cancel != nil {
		if _, passed := res.(streamSource); !passed || err != nil {
			ic.produced.release() // an interceptor dropped the stream
			if passed {
				res = nil
			}
		}
	}
	return res, err
}

// intercept runs the interceptor chain, turning a panic in an interceptor
// into the call's error.
func (dc *dispatcher) intercept(ctx context.Context, chain CallFunc, c *Call) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			dc.d.log.Error("pyro: interceptor panicked", "method", c.method, "panic", p)
			result, err = nil, &panicError{method: c.method, where: "interceptor of", value: p, stack: debug.Stack()}
		}
	}()
	return chain(ctx, c)
}

// run is where every call ends, after the interceptors: attribute access,
// the error of a method that does not resolve, or the method.
func (dc *dispatcher) run(ctx context.Context, c *Call) (any, error) {
	switch {
	case c.attr:
		return dc.attribute(c.r, c.obj, c.method, c.Args)
	case c.resolveErr != nil:
		return nil, c.resolveErr
	}
	res, err := dc.invoke(ctx, c.cc, c.m, c.target, c.Args, c.Kwargs)
	if s, ok := res.(streamSource); ok {
		if c.produced.cancel != nil {
			c.produced.release() // an interceptor ran the method again
		}
		c.produced = s
	}
	return res, err
}

// startStream registers a method's stream result, or refuses it.
func (dc *dispatcher) startStream(s streamSource) outcome {
	d := dc.d
	if !d.cfg.IterStreaming {
		s.release()
		return outcome{err: NewError(ErrProtocol, "result of call is an iterator, but the server is not configured to allow streaming")}
	}
	sid, err := d.streams.add(dc, s)
	if err != nil {
		d.log.Info("pyro: item stream refused", "peer", dc.conn.RemoteAddr, "reason", err.Error())
		return outcome{err: err}
	}
	return outcome{streamID: sid}
}

// invoke converts arguments, calls the method and recovers panics.
//
// A method that takes a context gets a child of parent carrying the
// CallContext: parent is the connection's context for a call that is
// answered (so the call's context ends when the client disconnects or the
// daemon closes), the daemon's for a oneway call (a client may send one
// and leave; it runs on, until the daemon closes). The context ends when
// the method returns, unless the result is a stream: then it lives as
// long as the stream, which may outlast the connection
// (ITER_STREAM_LINGER).
func (dc *dispatcher) invoke(parent context.Context, cc *CallContext, m *method, obj any, args []any, kwargs *py.Dict) (result any, err error) {
	var ctx context.Context
	var cancel context.CancelFunc
	detach := func() bool { return true }
	if m.hasCtx {
		var cancelCause context.CancelCauseFunc
		ctx, cancelCause = context.WithCancelCause(context.WithValue(context.WithoutCancel(parent), callCtxKey{}, cc))
		cancel = func() { cancelCause(nil) }
		detach = context.AfterFunc(parent, func() { cancelCause(context.Cause(parent)) })
		defer func() {
			if _, streamed := result.(streamSource); !streamed {
				detach()
				cancel()
			}
		}()
	}
	in, err := buildArgs(ctx, m, args, kwargs, dc.d.conv)
	if err != nil {
		return nil, err
	}
	fn := m.methodValue(obj)
	defer func() {
		if p := recover(); p != nil {
			dc.d.log.Error("pyro: method panicked", "method", m.goName, "panic", p)
			result, err = nil, &panicError{method: m.goName, value: p, stack: debug.Stack()}
		}
	}()
	var out []reflect.Value
	if m.variadic {
		out = fn.CallSlice(in)
	} else {
		out = fn.Call(in)
	}
	if m.errOut {
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
	}
	if !m.valOut {
		return nil, nil
	}
	rv := out[0]
	if isSeq(rv) {
		if cancel != nil {
			detach() // the stream's life, not the connection's, ends it now
		} else {
			ctx, cancel = context.WithCancel(context.Background())
		}
		seq, _ := seqOf(rv, ctx.Done())
		return streamSource{seq: seq, cancel: cancel}, nil
	}
	return dc.d.autoproxy(rv.Interface()), nil
}

// panicError is a recovered panic of a method or an interceptor.
type panicError struct {
	method string
	where  string // "" for the method itself, "interceptor of" for an interceptor
	value  any
	stack  []byte
}

func (e *panicError) Error() string {
	if e.where != "" {
		return fmt.Sprintf("panic in %s %s: %v", e.where, e.method, e.value)
	}
	return fmt.Sprintf("panic in method %s: %v", e.method, e.value)
}

func (e *panicError) Exception() *py.Exception {
	return &py.Exception{Class: "builtins.RuntimeError", Args: py.Tuple{e.Error()}}
}

func (e *panicError) traceback(detailed bool) []string {
	where := "  Go method " + e.method + "\n"
	if e.where != "" {
		where = "  Go " + e.where + " " + e.method + "\n"
	}
	lines := []string{"Traceback (most recent call last):\n", where}
	if detailed {
		for _, l := range strings.Split(strings.TrimSpace(string(e.stack)), "\n") {
			lines = append(lines, "    "+l+"\n")
		}
	}
	return append(lines, "RuntimeError: "+e.Error()+"\n")
}

// exception is the exception a call's error is answered with, and its
// traceback (nil for the default one).
func (d *Daemon) exception(err error) (*py.Exception, []string) {
	var tb []string
	if pe, ok := err.(*panicError); ok {
		tb = pe.traceback(d.cfg.DetailedTraceback)
	}
	return exceptionFor(err), tb
}

func toAnyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func simpleTraceback(exc *py.Exception) []string {
	return []string{"Traceback (most recent call last):\n", "  (remote Go call)\n", exc.ShortClass() + ": " + exc.Message() + "\n"}
}

// simpleTracebackFor is simpleTraceback for a client of the given
// protocol: a Pyro5 client sees the last line as Python writes it for
// Pyro5's errors, module and all ("Pyro5.errors.DaemonError: ..."; the
// codec renames the class itself).
func simpleTracebackFor(exc *py.Exception, protocol int) []string {
	tb := simpleTraceback(exc)
	if protocol != int(wire.Protocol502) {
		return tb
	}
	class, msg := exc.ShortClass(), exc.Message()
	if rest, ok := strings.CutPrefix(exc.Class, "Pyro4.errors."); ok {
		class = "Pyro5.errors." + rest
	}
	if exc.Class == "builtins.KeyError" && len(exc.Args) == 1 {
		msg = py.Repr(exc.Args[0]) // str(KeyError) is its key's repr
	}
	tb[2] = class + ": " + msg + "\n"
	return tb
}

// protocol is the wire protocol of the dispatcher's connection (48 when it
// has none, as in tests).
func (dc *dispatcher) protocol() int {
	if dc.conn == nil {
		return int(wire.Protocol48)
	}
	return dc.conn.Protocol
}
