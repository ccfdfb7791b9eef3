// Command agent is the agent test module of package mobile: it calls the
// server's objects through guest.Invoke. Built with GOOS=wasip1
// GOARCH=wasm -buildmode=c-shared.
package main

import (
	"errors"
	"fmt"

	"github.com/pyrogo/pyro/mobile/guest"
)

func main() {}

//go:wasmexport pyro_fn_summarize
func summarize(ptr, n int32) int64 { return guest.Call(ptr, n, Summarize) }

// Summarize is summarize(object: str, batch: int, tag: str): it reads
// every record of object (count(), then slice(start, n) in batches), and
// returns how many there are, the sum and maximum of their "value", and
// how many have the tag.
func Summarize(args []any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("summarize takes 3 arguments, %d given", len(args))
	}
	obj, ok1 := args[0].(string)
	batch, ok2 := args[1].(int64)
	tag, ok3 := args[2].(string)
	if !ok1 || !ok2 || !ok3 || batch <= 0 {
		return nil, errors.New("summarize(object: str, batch: int > 0, tag: str)")
	}
	c, err := guest.Invoke(obj, "count")
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	count, ok := c.(int64)
	if !ok {
		return nil, fmt.Errorf("count returned %T", c)
	}
	var sum, mx, tagged, seen int64
	for start := int64(0); start < count; start += batch {
		r, err := guest.Invoke(obj, "slice", start, batch)
		if err != nil {
			return nil, fmt.Errorf("slice(%d, %d): %w", start, batch, err)
		}
		recs, ok := r.([]any)
		if !ok {
			return nil, fmt.Errorf("slice returned %T", r)
		}
		for _, x := range recs {
			rec, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("a record is %T", x)
			}
			v, _ := rec["value"].(int64)
			sum += v
			mx = max(mx, v)
			if rec["tag"] == tag {
				tagged++
			}
			seen++
		}
	}
	return map[string]any{"count": seen, "sum": sum, "max": mx, "tagged": tagged}, nil
}

//go:wasmexport pyro_fn_invoke
func invoke(ptr, n int32) int64 { return guest.Call(ptr, n, Invoke) }

// Invoke is invoke(object: str, method: str, args: list): one call,
// its result returned as it is.
func Invoke(args []any) (any, error) {
	if len(args) != 3 {
		return nil, errors.New("invoke(object, method, args)")
	}
	obj, _ := args[0].(string)
	method, _ := args[1].(string)
	a, _ := args[2].([]any)
	return guest.Invoke(obj, method, a...)
}

//go:wasmexport pyro_fn_repeat
func repeat(ptr, n int32) int64 { return guest.Call(ptr, n, Repeat) }

// Repeat is repeat(object: str, method: str, n: int): n calls without
// arguments; it returns how many succeeded, or the first error.
func Repeat(args []any) (any, error) {
	if len(args) != 3 {
		return nil, errors.New("repeat(object, method, n)")
	}
	obj, _ := args[0].(string)
	method, _ := args[1].(string)
	n, _ := args[2].(int64)
	for i := int64(0); i < n; i++ {
		if _, err := guest.Invoke(obj, method); err != nil {
			return nil, fmt.Errorf("call %d: %w", i+1, err)
		}
	}
	return n, nil
}
