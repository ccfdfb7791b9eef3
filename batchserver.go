package pyro

import (
	"context"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

// The daemon's side of batch calls (Pyro's batch proxy; batch.go is the
// client's): one INVOKE carries (method, vargs, kwargs) triples, run in
// order on one object until the first failure.

// runBatch runs the calls of a batch on obj, the instance of r; each goes
// through the daemon's interceptors. The results are those of the calls
// that ran, the last one an exception wrapper when a call failed.
func (dc *dispatcher) runBatch(parent context.Context, cc *CallContext, r *registration, obj any, call *codec.Call) []any {
	results := make([]any, 0, len(call.Args))
	for _, item := range call.Args {
		var parts []any
		switch t := item.(type) {
		case py.Tuple:
			parts = t
		case []any:
			parts = t
		}
		var err error
		var res any
		if len(parts) != 3 {
			err = &PythonError{Class: "ValueError", Msg: "batch item is not a (method, vargs, kwargs) triple"}
		} else {
			name, _ := parts[0].(string)
			var args []any
			switch a := parts[1].(type) {
			case py.Tuple:
				args = a
			case []any:
				args = a
			}
			kw, _ := parts[2].(*py.Dict)
			var c Call
			// items are method calls: "__getattr__" is a private name here
			dc.prepare(&c, cc, r, obj, call.Object, name, args, kw, false)
			res, err = dc.call(parent, &c)
			if s, ok := res.(streamSource); ok {
				s.release()
				res = nil
				err = NewError(ErrProtocol, "result of call is an iterator, which a batch cannot return")
			}
		}
		if err != nil {
			exc := exceptionFor(err)
			if pe, ok := err.(*panicError); ok {
				exc.Attributes = py.DictOf("_pyroTraceback", toAnyList(pe.traceback(dc.d.cfg.DetailedTraceback)))
			} else {
				exc.Attributes = py.DictOf("_pyroTraceback", toAnyList(simpleTracebackFor(exc, dc.protocol())))
			}
			results = append(results, &codec.ExceptionWrapper{Exception: exc})
			break
		}
		results = append(results, res)
	}
	return results
}
