package pyro

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strconv"

	"github.com/pyrogo/pyro/py"
)

// The typed calls of a proxy: results converted to Go types (CallInto,
// CallT, CallKwT), keyword arguments from argument structs (CallKwT,
// CallStreamKw; kwargs.go), and item streams as Go iterators
// (CallStream, CallStreamKw). Proxy.Call and Proxy.CallKw are the
// dynamic forms, for scripts.

// CallInto invokes a method and converts the result into *dst (see
// py.Convert). A result that is an item stream is closed and an error,
// unless *dst can hold a *Stream.
func (p *Proxy) CallInto(ctx context.Context, dst any, method string, args ...any) error {
	v, err := p.Call(ctx, method, args...)
	if err != nil {
		return err
	}
	return convertResult(ctx, dst, method, v)
}

// CallT calls a method and converts the result to T (see CallInto).
func CallT[T any](ctx context.Context, p *Proxy, method string, args ...any) (T, error) {
	var out T
	err := p.CallInto(ctx, &out, method, args...)
	return out, err
}

// CallKwT calls a method with positional and keyword arguments and
// converts the result to T (see CallInto). kwargs is nil, a map with
// string keys (map[string]any, Kwargs, ...) or an argument struct (a
// struct embedding Args) or a pointer to one, whose fields are sent as
// keywords under their Python names: nil pointers and optional fields
// holding their zero value are left out, so that the remote defaults
// apply. Kwargs of another type are a SerializeError, and nothing is
// sent.
//
//	type greetArgs struct {
//		pyro.Args
//		Name     string
//		Greeting string `pyro:",optional"`
//	}
//	s, err := pyro.CallKwT[string](ctx, p, "greet", nil, greetArgs{Name: "Ann"})
//	// greet(name='Ann'): "hello Ann"
func CallKwT[T any](ctx context.Context, p *Proxy, method string, args []any, kwargs any) (T, error) {
	var out T
	kw, err := kwargsDict(kwargs)
	if err != nil {
		return out, err
	}
	v, err := p.callKw(ctx, method, args, kw)
	if err != nil {
		return out, err
	}
	return out, convertResult(ctx, &out, method, v)
}

// CallStream calls a method and iterates over its result, each item
// converted to T: a remote iterator (an item stream, fetched item by item
// as the loop asks for them) or a list or tuple, which came whole.
//
//	for n, err := range pyro.CallStream[int](ctx, p, "count", 3) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(n)
//	}
//
// The method is called when the loop starts, and again by every loop over
// the same sequence. An error (the call's, a remote exception raised by
// the iterator, an item that does not convert to T, any other result) is
// the last pair the loop sees. ctx bounds the call and every fetch: when
// it ends, the loop gets a TimeoutError or CommunicationError. Leaving the
// loop early, or an item that does not convert, closes the remote stream;
// after a lost connection the daemon ends it itself (ITER_STREAM_LINGER).
func CallStream[T any](ctx context.Context, p *Proxy, method string, args ...any) iter.Seq2[T, error] {
	return CallStreamKw[T](ctx, p, method, args, nil)
}

// CallStreamKw is CallStream with keyword arguments, which it takes as
// CallKwT does.
func CallStreamKw[T any](ctx context.Context, p *Proxy, method string, args []any, kwargs any) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		kw, err := kwargsDict(kwargs)
		if err != nil {
			yield(zero, err)
			return
		}
		v, err := p.callKw(ctx, method, args, kw)
		if err != nil {
			yield(zero, err)
			return
		}
		switch r := v.(type) {
		case *Stream:
			streamItems(ctx, r, method, yield)
		case []any:
			listItems(r, method, yield)
		case py.Tuple:
			listItems(r, method, yield)
		default:
			yield(zero, NewError(ErrSerialize, "result of "+method+" is "+py.TypeName(v)+", not an item stream, a list or a tuple"))
		}
	}
}

// streamItems yields the items of s converted to T, and closes s when the
// loop stops before its end, unless the connection failed.
func streamItems[T any](ctx context.Context, s *Stream, method string, yield func(T, error) bool) {
	var zero T
	for n := 0; ; n++ {
		item, ok, err := s.Next(ctx)
		if err != nil {
			var re *RemoteError
			if errors.As(err, &re) {
				s.Close(ctx) // the daemon answered: the connection is fine
			}
			yield(zero, err)
			return
		}
		if !ok {
			return
		}
		t, err := convertItem[T](item, method, n)
		if err != nil {
			s.Close(ctx)
			yield(zero, err)
			return
		}
		if !yield(t, nil) {
			s.Close(ctx)
			return
		}
	}
}

// listItems yields the items of a list or tuple result converted to T.
func listItems[T any](items []any, method string, yield func(T, error) bool) {
	var zero T
	for n, item := range items {
		t, err := convertItem[T](item, method, n)
		if err != nil {
			yield(zero, err)
			return
		}
		if !yield(t, nil) {
			return
		}
	}
}

// convertItem converts item n of a method's result to T.
func convertItem[T any](item any, method string, n int) (T, error) {
	var t T
	if err := py.Convert(&t, item); err != nil {
		return t, wrapError(ErrSerialize, "item "+strconv.Itoa(n)+" of the result of "+method+": "+err.Error(), err)
	}
	return t, nil
}

var streamPtrType = reflect.TypeFor[*Stream]()

// convertResult converts the result v of method into *dst. A stream
// result that *dst cannot hold is closed: nobody would iterate it.
func convertResult(ctx context.Context, dst any, method string, v any) error {
	if s, ok := v.(*Stream); ok {
		if dt := reflect.TypeOf(dst); dt == nil || dt.Kind() != reflect.Pointer || !streamPtrType.AssignableTo(dt.Elem()) {
			s.Close(ctx)
			return NewError(ErrSerialize, "result of "+method+" is an item stream, not a single value: iterate it with CallStream")
		}
	}
	if err := py.Convert(dst, v); err != nil {
		return wrapError(ErrSerialize, "result of "+method+": "+err.Error(), err)
	}
	return nil
}
