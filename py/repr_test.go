package py_test

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/pyrogo/pyro/py"
)

func TestReprContainers(t *testing.T) {
	big1, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	cases := []struct {
		in   any
		want string
	}{
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{int64(-5), "-5"},
		{big1, "-123456789012345678901234567890"},
		{py.Tuple{}, "()"},
		{py.Tuple{int64(1)}, "(1,)"},
		{py.Tuple{int64(1), "a"}, "(1, 'a')"},
		{[]any{}, "[]"},
		{[]any(nil), "[]"},
		{py.NewDict(0), "{}"},
		{(*py.Dict)(nil), "{}"},
		{py.NewSet(0, false), "set()"},
		{py.NewSet(0, true), "frozenset()"},
		// printed by CPython 3.11 for the same value
		{py.DictOf("a", []any{int64(1), 2.5, nil, true}, int64(2), py.Tuple{int64(1)},
			py.Tuple{int64(1), "x"}, []byte("y"), "e", py.NewSet(0, false), "f", py.NewSet(0, true),
			"g", py.SetOf(int64(3)), "h", frozen(int64(4)), "i", py.Tuple{}, "j", []any{}, "k", py.NewDict(0)),
			"{'a': [1, 2.5, None, True], 2: (1,), (1, 'x'): b'y', 'e': set(), 'f': frozenset(), 'g': {3}, 'h': frozenset({4}), 'i': (), 'j': [], 'k': {}}"},
		{&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"x"}}, "ValueError('x')"},
		{&py.Exception{Class: "builtins.ValueError"}, "ValueError()"},
		{&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"x", int64(2)}}, "ValueError('x', 2)"},
		{[]any{&py.Exception{Class: "ValueError", Args: py.Tuple{int64(1)}}, int64(2)}, "[ValueError(1), 2]"},
		{struct{}{}, "<Go Go struct {}>"},
	}
	for _, c := range cases {
		if got := py.Repr(c.in); got != c.want {
			t.Errorf("Repr(%#v) =\n %s\nwant\n %s", c.in, got, c.want)
		}
	}
}

func frozen(items ...any) *py.Set {
	s := py.NewSet(len(items), true)
	for _, it := range items {
		if err := s.Add(it); err != nil {
			panic(err)
		}
	}
	return s
}

func TestTypeName(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, "NoneType"}, {true, "bool"}, {int64(1), "int"}, {big.NewInt(1), "int"},
		{1.5, "float"}, {complex(1, 2), "complex"}, {"s", "str"}, {[]byte("b"), "bytes"},
		{py.Tuple{}, "tuple"}, {[]any{}, "list"}, {py.NewDict(0), "dict"},
		{py.NewSet(0, false), "set"}, {py.NewSet(0, true), "frozenset"},
		{&py.Exception{}, "exception"}, {int(1), "Go int"},
	}
	for _, c := range cases {
		if got := py.TypeName(c.in); got != c.want {
			t.Errorf("TypeName(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestExceptionText(t *testing.T) {
	// str() and the "Class: message" form, as Python prints them
	cases := []struct {
		e            *py.Exception
		short, msg   string
		errorMessage string
	}{
		{&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"x", int64(2)}}, "ValueError", "('x', 2)", "ValueError: ('x', 2)"},
		{&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{int64(1)}}, "ValueError", "1", "ValueError: 1"},
		{&py.Exception{Class: "Pyro4.errors.NamingError", Args: py.Tuple{"unknown name: x"}}, "NamingError", "unknown name: x", "NamingError: unknown name: x"},
		{&py.Exception{Class: "StopIteration"}, "StopIteration", "", "StopIteration"},
	}
	for _, c := range cases {
		if got := c.e.ShortClass(); got != c.short {
			t.Errorf("ShortClass = %q, want %q", got, c.short)
		}
		if got := c.e.Message(); got != c.msg {
			t.Errorf("Message = %q, want %q", got, c.msg)
		}
		if got := c.e.Error(); got != c.errorMessage {
			t.Errorf("Error = %q, want %q", got, c.errorMessage)
		}
	}
}

func TestExceptionDictForm(t *testing.T) {
	e := py.NewException("builtins.ValueError", "bad", []string{"Traceback:\n", "  line\n"})
	d := e.PyroClassDict()
	want := "{'__class__': 'builtins.ValueError', '__exception__': True, 'args': ('bad',), 'attributes': {'_pyroTraceback': ['Traceback:\\n', '  line\\n']}}"
	if got := py.Repr(d); got != want {
		t.Errorf("PyroClassDict = %s\nwant %s", got, want)
	}
	back, ok := py.ExceptionFromDict(d)
	if !ok || !py.Same(back, e) {
		t.Fatalf("ExceptionFromDict round trip: %v %#v", ok, back)
	}
	if tb := back.Traceback(); len(tb) != 2 || tb[1] != "  line\n" {
		t.Errorf("Traceback = %q", tb)
	}
	// args as a list (json) and a tuple traceback are accepted too
	d2 := py.DictOf("__class__", "ValueError", "__exception__", true, "args", []any{"a"},
		"attributes", py.DictOf("_pyroTraceback", py.Tuple{"x\n"}))
	e2, ok := py.ExceptionFromDict(d2)
	if !ok || e2.Message() != "a" || len(e2.Traceback()) != 1 {
		t.Errorf("list args: %v %#v %q", ok, e2, e2.Traceback())
	}
	for _, notExc := range []*py.Dict{
		py.DictOf("__class__", "x.Y"),
		py.DictOf("__class__", int64(1), "__exception__", true),
		py.DictOf("__exception__", true),
		py.DictOf("__class__", "x", "__exception__", false),
	} {
		if _, ok := py.ExceptionFromDict(notExc); ok {
			t.Errorf("ExceptionFromDict(%s) accepted", py.Repr(notExc))
		}
	}
	if (&py.Exception{Class: "X"}).Traceback() != nil {
		t.Error("Traceback of exception without attributes not nil")
	}
	// nil args and attributes still give a complete dict form
	if got := py.Repr((&py.Exception{Class: "X"}).PyroClassDict()); got != "{'__class__': 'X', '__exception__': True, 'args': (), 'attributes': {}}" {
		t.Errorf("empty exception dict: %s", got)
	}
}

func TestExceptionGoString(t *testing.T) {
	e := &py.Exception{Class: "builtins.KeyError", Args: py.Tuple{"k"}}
	if got := fmt.Sprintf("%#v", e); got != `&py.Exception{Class:"builtins.KeyError", Args:('k',)}` {
		t.Errorf("GoString = %s", got)
	}
}
