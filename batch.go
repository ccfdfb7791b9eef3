package pyro

import (
	"context"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

// Batch collects calls to send in one INVOKE (Pyro's batch proxy). The
// daemon runs them in order and stops at the first failure.
type Batch struct {
	p     *Proxy
	calls []any
}

// Batch starts a batch on this proxy.
func (p *Proxy) Batch() *Batch { return &Batch{p: p} }

// Call adds a call with positional arguments.
func (b *Batch) Call(method string, args ...any) *Batch {
	return b.CallKw(method, args, nil)
}

// CallKw adds a call with keyword arguments too.
func (b *Batch) CallKw(method string, args []any, kwargs map[string]any) *Batch {
	kw := py.NewDict(len(kwargs))
	for k, v := range kwargs {
		kw.SetString(k, v)
	}
	if args == nil {
		args = []any{}
	}
	b.calls = append(b.calls, py.Tuple{method, py.Tuple(args), kw})
	return b
}

// Len returns the number of queued calls.
func (b *Batch) Len() int { return len(b.calls) }

// Run sends the batch and returns the results of the calls that ran. If a
// call failed, results holds those before it and err is its *RemoteError.
func (b *Batch) Run(ctx context.Context) (results []any, err error) {
	v, err := b.p.invoke(ctx, &codec.Call{Method: "<batch>", Args: b.calls}, callOptions{batch: true})
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		if t, isTuple := v.(py.Tuple); isTuple {
			list = t
		} else {
			return nil, NewError(ErrProtocol, "batch result is "+py.TypeName(v))
		}
	}
	for _, r := range list {
		if w, ok := r.(*codec.ExceptionWrapper); ok {
			return results, &RemoteError{Exception: w.Exception}
		}
		results = append(results, b.p.liveProxies(r))
	}
	return results, nil
}

// RunOneway sends the batch as a oneway call: nothing comes back.
func (b *Batch) RunOneway(ctx context.Context) error {
	_, err := b.p.invoke(ctx, &codec.Call{Method: "<batch>", Args: b.calls}, callOptions{batch: true, oneway: true})
	return err
}

// Future is the pending result of an asynchronous call.
type Future struct {
	done chan struct{}
	v    any
	err  error
}

// Go starts a call in the background (on its own pool connection) and
// returns at once; Pyro's _pyroAsync.
func (p *Proxy) Go(ctx context.Context, method string, args ...any) *Future {
	f := &Future{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.v, f.err = p.Call(ctx, method, args...)
	}()
	return f
}

// Done is closed when the result is available.
func (f *Future) Done() <-chan struct{} { return f.done }

// Wait blocks until the result is available or ctx is done.
func (f *Future) Wait(ctx context.Context) (any, error) {
	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		return nil, ctxError(ctx.Err())
	}
}

// Ready reports whether the result is available.
func (f *Future) Ready() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}
