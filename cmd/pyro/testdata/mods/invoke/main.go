// Command invoke is an agent test module of "pyro mobile serve --grant":
// invoke(object, method, *args) calls method of the server's object
// through guest.Invoke and returns the result. Built with GOOS=wasip1
// GOARCH=wasm -buildmode=c-shared.
package main

import (
	"errors"

	"github.com/pyrogo/pyro/mobile/guest"
)

func main() {}

//go:wasmexport pyro_fn_invoke
func invoke(ptr, n int32) int64 { return guest.Call(ptr, n, Invoke) }

// Invoke is invoke(object: str, method: str, *args).
func Invoke(args []any) (any, error) {
	if len(args) < 2 {
		return nil, errors.New("invoke(object, method, *args)")
	}
	object, ok1 := args[0].(string)
	method, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, errors.New("invoke: object and method must be str")
	}
	return guest.Invoke(object, method, args[2:]...)
}
