// Command basic is the test module of package mobile: numeric and value
// functions, and the hostile ones (endless loop, memory growth, deep
// recursion). Built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared.
package main

import (
	"errors"
	"fmt"

	"github.com/pyrogo/pyro/mobile/guest"
)

func main() {}

//go:wasmexport add
func add(a, b int32) int32 { return a + b }

//go:wasmexport mul64
func mul64(a, b int64) int64 { return a * b }

//go:wasmexport half
func half(x float64) float64 { return x / 2 }

//go:wasmexport spin
func spin() {
	for {
	}
}

var sink [][]byte

//go:wasmexport grow
func grow(mib int32) int32 {
	for i := int32(0); i < mib; i++ {
		sink = append(sink, make([]byte, 1<<20))
	}
	return int32(len(sink))
}

// depth recurses n deep with 1 KiB frames: the array is kept on the
// stack because the result reads it after the recursive call.
//
//go:noinline
func depth(n int32) int32 {
	if n == 0 {
		return 0
	}
	var pad [1024]byte
	pad[n%1024] = byte(n)
	return depth(n-1) + 1 + int32(pad[n%1024]&0x80)
}

//go:wasmexport recurse
func recurse(n int32) int32 { return depth(n) }

//go:wasmexport pyro_fn_summary
func summary(ptr, n int32) int64 { return guest.Call(ptr, n, Summary) }

// Summary is summary(data: bytes, threshold: int): the count, sum and
// maximum of the bytes of data, and how many are above threshold.
func Summary(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("summary takes 2 arguments, %d given", len(args))
	}
	data, ok := args[0].([]byte)
	if !ok {
		return nil, fmt.Errorf("summary: data must be bytes, not %T", args[0])
	}
	th, ok := args[1].(int64)
	if !ok {
		return nil, errors.New("summary: threshold must be an int")
	}
	var sum, above, mx int64
	for _, c := range data {
		sum += int64(c)
		if int64(c) > th {
			above++
		}
		mx = max(mx, int64(c))
	}
	return map[string]any{"count": int64(len(data)), "sum": sum, "above": above, "max": mx}, nil
}

//go:wasmexport pyro_fn_echo
func echo(ptr, n int32) int64 {
	return guest.Call(ptr, n, func(args []any) (any, error) { return args, nil })
}

//go:wasmexport pyro_fn_fail
func fail(ptr, n int32) int64 {
	return guest.Call(ptr, n, func(args []any) (any, error) {
		return nil, fmt.Errorf("bad input: %v", args)
	})
}

//go:wasmexport pyro_fn_hog
func hog(ptr, n int32) int64 {
	return guest.Call(ptr, n, func(args []any) (any, error) {
		var keep [][]byte
		for {
			b := make([]byte, 1<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1 // touch every page: resident, not just reserved
			}
			keep = append(keep, b)
			if len(keep) < 0 {
				return nil, nil
			}
		}
	})
}
