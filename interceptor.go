package pyro

import (
	"context"
	"errors"
	"fmt"

	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// Interceptor wraps the calls a daemon serves, as net/http middleware
// wraps handlers (it is the daemon side of connect-go's Interceptor).
// WrapCall gets the next step of the chain and returns the function that
// runs instead of it; that function may look at or change the call's
// arguments, refuse the call by returning an error without calling next
// (the error is the call's error, sent to the client as its exception),
// or look at or replace the result of next.
//
// A daemon runs its interceptors (WithInterceptors) for every call of a
// method of a registered object, remote attribute access and each call
// of a batch included, oneway calls too (their result and error are
// dropped, as the method's would be), and also when the name resolves to
// no method (next then returns the AttributeError). They do not run for
// an unknown object, for the handshake, or for PINGs. They run in the
// goroutine that runs the method, before it: for a oneway call that is a
// goroutine of its own (ONEWAY_THREADED), otherwise the connection's.
//
// The context is the call's: CallContextFrom gives its CallContext, and it
// is the parent of the context a method taking one receives, so values an
// interceptor adds reach the method. It ends when the connection closes
// or the daemon does (for a oneway call, only the daemon). A panic in an
// interceptor is recovered and answered like a panic in a method.
//
// Interceptors must be safe for concurrent use.
type Interceptor interface {
	WrapCall(next CallFunc) CallFunc
}

// CallFunc is one step of a daemon's call chain: it runs the call and
// returns the result (as it will be sent, registered objects already
// replaced by proxies when AUTOPROXY is on) or the error. The last step
// runs the method.
type CallFunc func(ctx context.Context, call *Call) (any, error)

// InterceptorFunc makes a function an Interceptor.
type InterceptorFunc func(next CallFunc) CallFunc

// WrapCall calls f.
func (f InterceptorFunc) WrapCall(next CallFunc) CallFunc { return f(next) }

// Call is a call as interceptors see it. Args and Kwargs are the call's
// arguments as the client sent them (Python values, before conversion to
// the method's parameter types); an interceptor may replace them before
// calling next. The rest is read only.
type Call struct {
	// Args are the positional arguments; for attribute access, the
	// attribute's name (and, for __setattr__, the value).
	Args []any
	// Kwargs are the keyword arguments (nil or empty when none).
	Kwargs *py.Dict

	object, method string
	cc             *CallContext
	dc             *dispatcher
	r              *registration
	obj            any  // the instance the call goes to
	attr           bool // __getattr__ or __setattr__
	m              *method
	target         any   // obj, or the object a dotted name reached
	resolveErr     error // why the name reaches no method
	produced       streamSource
}

// Object returns the id of the object called.
func (c *Call) Object() string { return c.object }

// Method returns the name the client called: a Python name, a Go method
// name (which resolves too), a dotted name (DOTTEDNAMES), or
// "__getattr__" / "__setattr__" for remote attribute access. Decide by
// GoMethod, not by this name, what a call reaches.
func (c *Call) Method() string { return c.method }

// GoMethod returns the name of the Go method the call runs ("Lookup" for
// "lookup"), or "" for attribute access and for a name that reaches no
// method. Under one object id, it tells every name of a method apart
// from every other method's: aliases (Exposure.Names), the Go name and
// the snake_case name all give the same GoMethod. With DOTTEDNAMES, the
// method may be one of an object reached through fields.
func (c *Call) GoMethod() string {
	if c.m == nil {
		return ""
	}
	return c.m.goName
}

// CallContext returns the call's CallContext (the connection's details,
// the request's header fields and annotations).
func (c *Call) CallContext() *CallContext { return c.cc }

// Oneway reports whether the client waits for no answer.
func (c *Call) Oneway() bool { return c.cc != nil && c.cc.Flags&uint16(wire.FlagOneway) != 0 }

// InBatch reports whether the call is one of a batch.
func (c *Call) InBatch() bool { return c.cc != nil && c.cc.Flags&uint16(wire.FlagBatch) != 0 }

// errNilInterceptor refuses an interceptor that is nil or makes a nil
// CallFunc.
var errNilInterceptor = errors.New("pyro: nil interceptor")

// chainInterceptors builds the call chain of a daemon: the first
// interceptor is the outermost (it runs first, and sees the result
// last). Nil when there are none.
func chainInterceptors(is []Interceptor) (CallFunc, error) {
	if len(is) == 0 {
		return nil, nil
	}
	next := CallFunc(runCall)
	for i := len(is) - 1; i >= 0; i-- {
		if is[i] == nil {
			return nil, errNilInterceptor
		}
		if next = is[i].WrapCall(next); next == nil {
			return nil, fmt.Errorf("%w: %T.WrapCall returned nil", errNilInterceptor, is[i])
		}
	}
	return next, nil
}

// errForeignCall is the error of a Call that no daemon made.
var errForeignCall = errors.New("pyro: the Call was not made by a daemon")

// runCall is the last step of every chain.
func runCall(ctx context.Context, c *Call) (any, error) {
	if c.dc == nil {
		return nil, errForeignCall
	}
	return c.dc.run(ctx, c)
}
