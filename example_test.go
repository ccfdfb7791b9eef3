package pyro_test

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/pyrogo/pyro"
)

// Warehouse is an ordinary Go value; its exported methods become remote
// methods (Store as "store", Contents as "contents"). The daemon calls
// them concurrently (one goroutine per client connection, and a shared
// proxy opens several), so they guard their state like any Go value
// shared between goroutines.
type Warehouse struct {
	mu    sync.Mutex
	items []string
}

func (w *Warehouse) Store(item string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.items = append(w.items, item)
}

func (w *Warehouse) Contents() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.items)
}

// A 20-line server and client: the daemon hosts a Warehouse, a proxy
// calls it. A Python client could call the same URI with Pyro4.Proxy.
func Example() {
	ctx := context.Background()
	d, err := pyro.NewDaemon(pyro.BuiltinConfig()) // localhost, free port
	if err != nil {
		panic(err)
	}
	defer d.Close()
	uri, _ := d.Register(&Warehouse{}, "example.warehouse")
	go d.Serve(ctx)

	p, _ := pyro.NewProxyURI(uri, nil)
	defer p.Close()
	p.Call(ctx, "store", "umbrella")
	p.Call(ctx, "store", "teddy bear")
	items, err := pyro.CallT[[]string](ctx, p, "contents")
	fmt.Println(items, err)
	// Output: [umbrella teddy bear] <nil>
}

// Errors raised remotely are *pyro.RemoteError values carrying the
// Python class; Pyro's own classes work with errors.Is.
func ExampleRemoteError() {
	ctx := context.Background()
	d, _ := pyro.NewDaemon(nil)
	defer d.Close()
	uri, _ := d.Register(&Warehouse{}, "example.warehouse")
	go d.Serve(ctx)
	p, _ := pyro.NewProxyURI(uri, nil)
	defer p.Close()
	_, err := p.Call(ctx, "store", 42) // store takes a str
	fmt.Println(err)
	// Output: TypeError: arg 1: cannot convert int to string
}

// An interceptor runs before every call the daemon serves: here it lets
// clients read the warehouse but not change it. It decides by GoMethod,
// which names the Go method whatever name the client called it by.
func ExampleWithInterceptors() {
	ctx := context.Background()
	readOnly := pyro.InterceptorFunc(func(next pyro.CallFunc) pyro.CallFunc {
		return func(ctx context.Context, call *pyro.Call) (any, error) {
			if call.GoMethod() != "Contents" {
				return nil, &pyro.PythonError{Class: "PermissionError", Msg: call.Method() + "() is not allowed here"}
			}
			return next(ctx, call)
		}
	})
	d, err := pyro.NewDaemon(nil, pyro.WithInterceptors(readOnly))
	if err != nil {
		panic(err)
	}
	defer d.Close()
	uri, _ := d.Register(&Warehouse{items: []string{"umbrella"}}, "example.warehouse")
	go d.Serve(ctx)

	p, _ := pyro.NewProxyURI(uri, nil)
	defer p.Close()
	_, err = p.Call(ctx, "store", "kite")
	fmt.Println(err)
	items, err := pyro.CallT[[]string](ctx, p, "contents")
	fmt.Println(items, err)
	// Output:
	// PermissionError: store() is not allowed here
	// [umbrella] <nil>
}
