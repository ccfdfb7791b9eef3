//go:build wasip1

package guest

import (
	"errors"
	"runtime"
	"unsafe"
)

// hostInvoke is pyro.invoke (spec.md, "Mobile code", agents): it reads
// the request at (ptr, n) and returns the packed (pointer << 32 | length)
// of the result, which the host wrote into a buffer it got from
// pyro_alloc, or of the error text with bit 31 of the length set.
//
//go:wasmimport pyro invoke
func hostInvoke(ptr, n int32) int64

// Invoke calls method of the server's object registered under the id
// object, with positional args (values as Call's results may be), through
// the daemon's dispatch, and returns the result (decoded as Call's
// arguments are). The server must have granted the module the call
// (mobile.WithGrants); a refusal, a failure of the method or a limit
// reached is an error whose text says which, with the Python exception
// class first ("SecurityError: ...", "ValueError: ...").
//
// A module that calls Invoke imports pyro.invoke, so it loads only in a
// service that offers agents (mobile.WithGrants).
func Invoke(object, method string, args ...any) (any, error) {
	if args == nil {
		args = []any{}
	}
	req, err := Append(nil, []any{object, method, args})
	if err != nil {
		return nil, err
	}
	r := hostInvoke(int32(uintptr(unsafe.Pointer(unsafe.SliceData(req)))), int32(len(req)))
	runtime.KeepAlive(req)
	ptr, n := uint32(uint64(r)>>32), uint32(r)
	isErr := n&(1<<31) != 0
	n &^= 1 << 31
	var out []byte
	if n > 0 {
		out = unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(ptr))), n)
	}
	if isErr {
		return nil, errors.New(string(out))
	}
	return Decode(out)
}
