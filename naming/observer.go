package naming

import (
	"context"
	"errors"

	"github.com/pyrogo/pyro"
)

// Observer is told of the name server's remote lookups, registrations
// and removals, for metrics (package metrics turns it into Prometheus
// metrics); WithObserver installs it. It sees the remote calls of the
// name server object, before the access policy, so that denied calls
// are counted too; local Go calls of the NameServer's methods are not
// seen. Its methods are called from the goroutine that served the call:
// they must be safe for concurrent use and return quickly.
//
// The number of names is not an event: (*NameServer).Count gives it.
type Observer interface {
	// Lookup: a lookup finished (ResultOK: the name was found).
	Lookup(result Result)
	// Register: a registration finished (ResultExists: safe
	// registration of a name that is registered).
	Register(result Result)
	// Remove: a removal finished and removed n names.
	Remove(result Result, n int)
}

// Result is the outcome of a name server call, one of a fixed set (so
// that it can label a metric).
type Result string

// The outcomes an Observer is told.
const (
	ResultOK       Result = "ok"
	ResultNotFound Result = "not_found" // lookup of a name that is not registered
	ResultExists   Result = "exists"    // safe registration of a registered name
	ResultDenied   Result = "denied"    // refused by the access policy (a SecurityError)
	ResultError    Result = "error"     // any other failure (bad arguments, storage)
)

// WithObserver makes the name server report its remote lookups,
// registrations and removals to o (see Observer).
func WithObserver(o Observer) ServerOption {
	return serverOption(func(c *serverConfig) { c.observer = o })
}

// observerInterceptor reports the name server object's calls to an
// Observer; it is the outermost interceptor, so it sees policy refusals.
type observerInterceptor struct{ o Observer }

// WrapCall implements pyro.Interceptor.
func (oi observerInterceptor) WrapCall(next pyro.CallFunc) pyro.CallFunc {
	return func(ctx context.Context, c *pyro.Call) (any, error) {
		res, err := next(ctx, c)
		if c.Object() != ObjectID {
			return res, err
		}
		switch c.GoMethod() {
		case "Lookup":
			oi.o.Lookup(resultOf(err, ResultNotFound))
		case "Register":
			oi.o.Register(resultOf(err, ResultExists))
		case "Remove":
			n, _ := res.(int)
			oi.o.Remove(resultOf(err, ResultError), n)
		}
		return res, err
	}
}

// resultOf classifies a call's error; a NamingError is naming.
func resultOf(err error, naming Result) Result {
	switch {
	case err == nil:
		return ResultOK
	case errors.Is(err, pyro.ErrSecurity):
		return ResultDenied
	case errors.Is(err, pyro.ErrNaming):
		return naming
	}
	return ResultError
}
