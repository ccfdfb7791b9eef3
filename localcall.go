package pyro

import (
	"context"
	"errors"

	"github.com/pyrogo/pyro/py"
)

// Local calls: a call of a registered object made inside the server's
// process (by a mobile code agent, say) through the same dispatch as a
// remote call.

// errLocalAgent refuses a local call that does not say who makes it.
var errLocalAgent = errors.New("pyro: a local call must name its agent")

// Invoke calls method of the object registered under the id object, in
// this process, as a remote call would: the object is looked up, the
// name resolved under the same rules (only exposed methods; no private
// or dunder names; dotted names only with DOTTEDNAMES; __getattr__ and
// __setattr__ are remote attribute access), the daemon's interceptors
// run, the arguments (Python values, as a serializer delivers them) are
// converted to the method's parameter types, panics are recovered, and
// errors are those a remote client would get (ExceptionOf gives the
// exception it would see).
//
// agent names who makes the call (a mobile code module's id, say); it
// must not be empty. The method and the interceptors see a CallContext
// whose Agent is agent and whose Conn and CorrelationID are those of the
// daemon call ctx belongs to, if any: the client on whose behalf the
// agent runs, so identity-based interceptors judge the agent as that
// client. Without one, Conn is nil (the process itself).
//
// A method that takes a context gets one that ends when ctx ends or the
// daemon closes; one that ignores it holds the caller until it returns,
// as it would hold a remote client's connection. The result is what a
// remote client would be sent (registered objects replaced by proxies
// under AUTOPROXY); an iterator result is refused (a local call has no
// item stream). An object registered with InstanceSession gets a fresh
// instance per local call (a local call has no connection to keep it
// for); InstancePerCall and InstanceSingle are as for remote calls.
func (d *Daemon) Invoke(ctx context.Context, agent, object, method string, args []any, kwargs *py.Dict) (any, error) {
	if agent == "" {
		return nil, errLocalAgent
	}
	d.connMu.Lock()
	closing, dctx := d.closing.Load(), d.ctx
	d.connMu.Unlock()
	if closing {
		return nil, ErrDaemonClosed
	}
	cc := &CallContext{Agent: agent, CorrelationID: newUUID4()}
	if outer := CallContextFrom(ctx); outer != nil {
		cc.Conn, cc.CorrelationID = outer.Conn, outer.CorrelationID
	}
	// a local call is no call of the client's connection: what the daemon
	// keeps per connection (item streams a daemon method adopts) is not
	// touched from here
	ctx = context.WithValue(ctx, connCtxKey{}, (*dispatcher)(nil))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(dctx, func() { cancel(ErrDaemonClosed) })
	defer stop()

	r := d.lookup(object)
	if r == nil {
		return nil, NewError(ErrDaemon, "unknown object")
	}
	dc := &dispatcher{d: d, ctx: ctx, conn: cc.Conn}
	var c Call
	dc.prepare(&c, cc, r, r.instance(dc), object, method, args, kwargs, true)
	res, err := dc.call(ctx, &c)
	if s, ok := res.(streamSource); ok {
		s.release()
		if err == nil {
			err = NewError(ErrProtocol, "result of call is an iterator, which a local call cannot stream")
		}
		res = nil
	}
	return res, err
}

// ExceptionOf returns the Python exception a daemon answers a call that
// failed with err with: its class (Pyro4.errors.DaemonError,
// builtins.AttributeError, ...) and message.
func ExceptionOf(err error) *py.Exception {
	if err == nil {
		return nil
	}
	return exceptionFor(err)
}
