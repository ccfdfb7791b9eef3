package pyro_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// Interop of argument structs and the typed calls with real Pyro4: Python
// clients call Go methods that take argument structs and get what the
// same calls get from Pyro4's own daemon (pyserver.py's Thing, whose
// greet and add have the signatures below); Go proxies call Pyro4's
// daemon with CallKwT, CallStream and CallStreamKw.

// TypedThing has Thing's greet(name, greeting="hello", punct="!") and
// add(a, b) of pyserver.py, with argument structs.
type TypedThing struct{}

type thingGreet struct {
	pyro.Args
	Name     string
	Greeting string `pyro:",optional"`
	Punct    *string
}

type thingAdd struct {
	pyro.Args
	A, B int
}

func (TypedThing) Greet(a thingGreet) string {
	g, p := a.Greeting, "!"
	if g == "" {
		g = "hello"
	}
	if a.Punct != nil {
		p = *a.Punct
	}
	return g + " " + a.Name + p
}

func (TypedThing) Add(ctx context.Context, a *thingAdd) (int, error) {
	if ctx == nil {
		return 0, errors.New("no context")
	}
	return a.A + a.B, nil
}

// TestInteropArgStructPythonClients: Python clients, every serializer,
// plain and batch calls: the Go daemon answers as Pyro4's does, its
// TypeErrors word for word (the class name aside).
func TestInteropArgStructPythonClients(t *testing.T) {
	pytest.Python(t)
	srv := startPyServers(t)
	goURI := pyrotest.Serve(t, pyrotest.Config(), "obj", TypedThing{}).String()
	calls := []pyCall{
		{Method: "greet", Args: "('Ann',)"},
		{Method: "greet", Args: "('Ann', 'hi')"},
		{Method: "greet", Args: "('Ann',)", Kwargs: "{'punct': '?'}"},
		{Method: "greet", Kwargs: "{'punct': '.', 'greeting': 'yo', 'name': 'Ann'}"},
		{Method: "add", Kwargs: "{'b': 2, 'a': 40}"},
		{Method: "add", Args: "(40,)", Kwargs: "{'b': 2}"},
		{Method: "greet"},
		{Method: "greet", Kwargs: "{'greeting': 'x'}"},
		{Method: "greet", Args: "('a', 'b', 'c', 'd')"},
		{Method: "greet", Args: "('a',)", Kwargs: "{'name': 'b'}"},
		{Method: "greet", Args: "('a',)", Kwargs: "{'bogus': 1}"},
		{Method: "greet", Args: "('a', 'b', 'c', 'd')", Kwargs: "{'bogus': 1}"},
		{Method: "add"},
		{Method: "add", Args: "(1, 2, 3)"},
		{Method: "add", Args: "(1, 2)", Kwargs: "{'a': 3}"},
		{Batch: []pyCall{
			{Method: "greet", Args: "('Al',)"},
			{Method: "add", Kwargs: "{'a': 1, 'b': 2}"},
			{Method: "greet", Kwargs: "{'greeting': 'hey', 'name': 'Bo'}"},
			{Method: "greet", Kwargs: "{'nom': 'x'}"},
			{Method: "greet", Args: "('never',)"},
		}},
	}
	wantOK := []string{"'hello Ann!'", "'hi Ann!'", "'hello Ann?'", "'yo Ann.'", "42", "42"}
	for _, ser := range pyrotest.Serializers {
		run := func(uri string) []pyResult {
			cs := slices.Clone(calls)
			for i := range cs {
				cs[i].URI, cs[i].Serializer = uri, ser
			}
			return runPyCalls(t, cs)
		}
		fromPy, fromGo := run(srv.plain), run(goURI)
		for i, py := range fromPy {
			got := fromGo[i]
			got.Message = strings.ReplaceAll(got.Message, "TypedThing.", "Thing.")
			got.Repr = strings.ReplaceAll(got.Repr, "TypedThing.", "Thing.")
			if got != py {
				t.Errorf("%s: %s(%s, %s): Go daemon %v\n Pyro4 daemon %v", ser, calls[i].Method, calls[i].Args, calls[i].Kwargs, got, py)
			}
			if i < len(wantOK) && (!py.OK || py.Repr != wantOK[i]) {
				t.Errorf("%s: call %d: Pyro4's daemon answered %v, want %s", ser, i, py, wantOK[i])
			}
		}
		b := fromPy[len(fromPy)-1]
		if ser == "marshal" {
			// Pyro4 4.82's marshal serializer cannot send a batch: its
			// dumpsCall calls kwargs.items() on the batch's None kwargs,
			// in the client, so neither daemon sees the call
			if b.Repr != `["builtins.AttributeError: 'NoneType' object has no attribute 'items'"]` {
				t.Errorf("%s: batch %v", ser, b)
			}
			continue
		}
		if b.Repr != `["'hello Al!'", '3', "'hey Bo!'", "builtins.TypeError: Thing.greet() got an unexpected keyword argument 'nom'"]` {
			t.Errorf("%s: batch %v", ser, b)
		}
	}
}

// TestInteropTypedCallsToPython: Go proxies call Pyro4's daemon with the
// typed calls, every serializer.
func TestInteropTypedCallsToPython(t *testing.T) {
	pytest.Python(t)
	srv := startPyServers(t)
	ctx := context.Background()
	for _, ser := range pyrotest.Serializers {
		p := pyrotest.Proxy(t, srv.plain, nil, pyro.WithSerializer(ser))
		punct := "?"
		for _, tc := range []struct {
			kwargs any
			want   string
		}{
			{thingGreet{Name: "Ann"}, "hello Ann!"},
			{&thingGreet{Name: "Ann", Greeting: "hi", Punct: &punct}, "hi Ann?"},
			{map[string]any{"name": "Bo", "punct": "."}, "hello Bo."},
			{pyro.Kwargs{"name": "Cy"}, "hello Cy!"},
		} {
			got, err := pyro.CallKwT[string](ctx, p, "greet", nil, tc.kwargs)
			if err != nil || got != tc.want {
				t.Errorf("%s: greet(**%#v) = %q, %v; want %q", ser, tc.kwargs, got, err, tc.want)
			}
		}
		_, err := pyro.CallKwT[string](ctx, p, "greet", []any{"a"}, thingGreet{Name: "b"})
		var re *pyro.RemoteError
		if !errors.As(err, &re) || re.Class() != "builtins.TypeError" || !strings.Contains(err.Error(), "got multiple values for argument 'name'") {
			t.Errorf("%s: greet('a', name='b'): %v", ser, err)
		}

		var got []int
		for n, err := range pyro.CallStream[int](ctx, p, "gen", 5) {
			if err != nil {
				t.Fatalf("%s: gen(5): %v", ser, err)
			}
			got = append(got, n)
		}
		if !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
			t.Errorf("%s: gen(5) gave %v", ser, got)
		}
		got = got[:0]
		for n, err := range pyro.CallStreamKw[int](ctx, p, "gen", nil, map[string]any{"n": 100}) {
			if err != nil {
				t.Fatalf("%s: gen(n=100): %v", ser, err)
			}
			if got = append(got, n); len(got) == 2 {
				break // closes the stream (close_stream, oneway)
			}
		}
		if !slices.Equal(got, []int{0, 1}) {
			t.Errorf("%s: gen(n=100), two items: %v", ser, got)
		}
		// the proxy still works after the early close
		if v, err := pyro.CallT[int](ctx, p, "add", 40, 2); err != nil || v != 42 {
			t.Errorf("%s: add after an early close: %v, %v", ser, v, err)
		}

		// an exception raised by the generator ends the loop
		got = got[:0]
		var last error
		for n, err := range pyro.CallStream[int](ctx, p, "gen_fail", 2) {
			if err != nil {
				last = err
				continue
			}
			got = append(got, n)
		}
		if !slices.Equal(got, []int{0, 1}) || !errors.As(last, &re) || re.Class() != "builtins.ValueError" ||
			!strings.Contains(last.Error(), "generator failed after 2 items") {
			t.Errorf("%s: gen_fail(2): %v, %v", ser, got, last)
		}

		// a list result is iterated too
		got = got[:0]
		for n, err := range pyro.CallStream[int](ctx, p, "echo", []int{7, 8}) {
			if err != nil {
				t.Fatalf("%s: echo([7, 8]): %v", ser, err)
			}
			got = append(got, n)
		}
		if !slices.Equal(got, []int{7, 8}) {
			t.Errorf("%s: echo([7, 8]) iterated %v", ser, got)
		}

		// a stream where one value was expected is closed, and an error
		if v, err := pyro.CallT[int](ctx, p, "gen", 3); !errors.Is(err, pyro.ErrSerialize) || !strings.Contains(err.Error(), "iterate it with CallStream") {
			t.Errorf("%s: CallT on gen(3): %v, %v", ser, v, err)
		}
	}
}
