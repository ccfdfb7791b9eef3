//go:build wasip1

package guest

import "unsafe"

// pinned keeps the buffers handed out by pyro_alloc alive: the host
// writes into them after the call returns. An instance serves one call,
// so nothing is ever released.
var pinned [][]byte

//go:wasmexport pyro_alloc
func pyroAlloc(size int32) int32 {
	if size <= 0 {
		size = 1
	}
	b := make([]byte, size)
	pinned = append(pinned, b)
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// Func is a value function: it gets the decoded argument list.
type Func func(args []any) (any, error)

// Call runs f on the arguments the host wrote at (ptr, n) and returns the
// packed (pointer << 32 | length) of its serialized result, or of its
// error text with bit 31 of the length set.
func Call(ptr, n int32, f Func) int64 {
	// ptr is an address in this module's linear memory, where the host
	// wrote n bytes into a buffer from pyro_alloc
	in := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(uint32(ptr)))), n)
	v, err := Decode(in)
	if err != nil {
		return fail(err.Error())
	}
	args, ok := v.([]any)
	if !ok {
		return fail("guest: arguments are not a list")
	}
	res, err := f(args)
	if err != nil {
		return fail(err.Error())
	}
	out, err := Append(nil, res)
	if err != nil {
		return fail(err.Error())
	}
	return pack(out, 0)
}

func fail(msg string) int64 {
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	return pack([]byte(msg), 1<<31)
}

func pack(b []byte, flag uint32) int64 {
	pinned = append(pinned, b)
	var p uintptr
	if len(b) > 0 {
		p = uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	}
	return int64(uint64(p)<<32 | uint64(uint32(len(b))|flag))
}
