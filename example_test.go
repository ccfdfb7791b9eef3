package pyro_test

import (
	"context"
	"fmt"
	"iter"
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

// Catalog takes its keyword arguments in argument structs.
type Catalog struct{}

// SearchArgs is search(text, limit=10, exact=False) for Python callers:
// a field is a parameter, named by its tag or in snake_case; pointer and
// optional fields are optional keywords.
type SearchArgs struct {
	pyro.Args
	Text  string
	Limit *int `pyro:"limit"` // nil: not given
	Exact bool `pyro:",optional"`
}

func (Catalog) Search(ctx context.Context, a SearchArgs) ([]string, error) {
	limit := 10
	if a.Limit != nil {
		limit = *a.Limit
	}
	return []string{fmt.Sprintf("%q limit=%d exact=%v", a.Text, limit, a.Exact)}, nil
}

// A method taking an argument struct gets positional and keyword
// arguments as Python binds them (here a Python client would call
// catalog.search("kite", exact=True)), and a Go client can pass the same
// struct as keywords with CallKwT. Python's TypeErrors come with Python's
// words.
func ExampleArgs() {
	ctx := context.Background()
	d, err := pyro.NewDaemon(nil)
	if err != nil {
		panic(err)
	}
	defer d.Close()
	uri, _ := d.Register(Catalog{}, "example.catalog")
	go d.Serve(ctx)

	p, _ := pyro.NewProxyURI(uri, nil)
	defer p.Close()
	found, err := pyro.CallKwT[[]string](ctx, p, "search", []any{"kite"}, map[string]any{"exact": true})
	fmt.Println(found, err)
	three := 3
	found, err = pyro.CallKwT[[]string](ctx, p, "search", nil, SearchArgs{Text: "kite", Limit: &three})
	fmt.Println(found, err)
	_, err = p.CallKw(ctx, "search", nil, map[string]any{"exact": true})
	fmt.Println(err)
	// Output:
	// ["kite" limit=10 exact=true] <nil>
	// ["kite" limit=3 exact=false] <nil>
	// TypeError: Catalog.search() missing 1 required positional argument: 'text'
}

// Countdown streams its items: a method returning an iter.Seq (or a
// channel) is a remote iterator, which the daemon runs as the client
// asks for items.
type Countdown struct{}

func (Countdown) From(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := n; i > 0; i-- {
			if !yield(i) {
				return
			}
		}
	}
}

// CallStream iterates a remote iterator, one item per round trip, each
// converted to the type asked for; leaving the loop early closes the
// stream on the daemon.
func ExampleCallStream() {
	ctx := context.Background()
	d, err := pyro.NewDaemon(nil)
	if err != nil {
		panic(err)
	}
	defer d.Close()
	uri, _ := d.Register(Countdown{}, "example.countdown")
	go d.Serve(ctx)

	p, _ := pyro.NewProxyURI(uri, nil)
	defer p.Close()
	for n, err := range pyro.CallStream[int](ctx, p, "from", 1000) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(n)
		if n == 998 {
			break
		}
	}
	// Output:
	// 1000
	// 999
	// 998
}
