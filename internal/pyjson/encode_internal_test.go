package pyjson

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

// classDicter is a ClassDicter outside package py, like a URI type.
type classDicter struct{ state py.Tuple }

func (c *classDicter) PyroClassDict() *py.Dict {
	return py.DictOf("__class__", "Pyro4.core.URI", "state", c.state)
}

// Byte-exact payloads of protocol §11.2 (json name server lookup).
const (
	dumpConnect   = `{"handshake": "hello", "object": "Pyro.NameServer"}`
	dumpConnectOK = `{"handshake": "hello", "meta": {"methods": ["list", "count", "remove", "ping", "register", "lookup", "set_metadata"], "oneway": [], "attrs": []}}`
	dumpInvoke    = `{"object": "Pyro.NameServer", "method": "lookup", "params": ["Pyro.NameServer"], "kwargs": {}}`
	dumpResult    = `{"__class__": "Pyro4.core.URI", "state": ["PYRO", "Pyro.NameServer", null, "127.0.0.1", 19090]}`
)

func dumpValues() map[string]any {
	return map[string]any{
		dumpConnect: py.DictOf("handshake", "hello", "object", "Pyro.NameServer"),
		dumpConnectOK: py.DictOf("handshake", "hello", "meta", py.DictOf(
			"methods", []any{"list", "count", "remove", "ping", "register", "lookup", "set_metadata"},
			"oneway", []any{}, "attrs", []any{})),
		dumpInvoke: py.DictOf("object", "Pyro.NameServer", "method", "lookup",
			"params", []any{"Pyro.NameServer"}, "kwargs", py.NewDict(0)),
		dumpResult: py.DictOf("__class__", "Pyro4.core.URI",
			"state", []any{"PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19090)}),
	}
}

func TestEncodeTable(t *testing.T) {
	exc := &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"bad value", int64(12)},
		Attributes: py.DictOf("_pyroTraceback", []any{"Traceback\n", "ValueError\n"})}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"none", nil, "null"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"zero", int64(0), "0"},
		{"neg", int64(-5), "-5"},
		{"minint64", int64(math.MinInt64), "-9223372036854775808"},
		{"bigint", testkit.BigInt("123456789012345678901234567890"), "123456789012345678901234567890"},
		{"negbigint", testkit.BigInt("-1180591620717411303424"), "-1180591620717411303424"},
		{"goint", 42, "42"},
		{"goint8", int8(-8), "-8"},
		{"gouint64", uint64(math.MaxUint64), "18446744073709551615"},
		{"float", 1.5, "1.5"},
		{"float integral", 3.0, "3.0"},
		{"float big", 1e22, "1e+22"},
		{"float 1e16", 1e16, "1e+16"},
		{"float small", 1e-7, "1e-07"},
		{"float 123456789.0", 123456789.0, "123456789.0"},
		{"float 0.1", 0.1, "0.1"},
		{"float negzero", math.Copysign(0, -1), "-0.0"},
		{"nan", math.NaN(), "NaN"},
		{"inf", math.Inf(1), "Infinity"},
		{"-inf", math.Inf(-1), "-Infinity"},
		{"empty str", "", `""`},
		{"str escapes", "a\"b\\c\nd\re\tf\bg\fh/", `"a\"b\\c\nd\re\tf\bg\fh/"`},
		{"str controls", "\x00\x01\x0b\x1f\x7f", `"\u0000\u0001\u000b\u001f` + "\x7f\""},
		{"str unicode raw", "héllo\u2028\u2029\U0001F600\uFEFF", "\"héllo\u2028\u2029\U0001F600\uFEFF\""},
		{"tuple", py.Tuple{int64(1), "a"}, `[1, "a"]`},
		{"empty tuple", py.Tuple{}, `[]`},
		{"list", []any{int64(1), []any{}, py.NewDict(0)}, `[1, [], {}]`},
		{"nil list", []any(nil), `[]`},
		{"set", py.SetOf(int64(3), int64(1), int64(2)), `[3, 1, 2]`},
		{"empty set", py.NewSet(0, false), `[]`},
		{"nil dict", (*py.Dict)(nil), `{}`},
		{"dict order", py.DictOf("z", int64(1), "a", int64(2)), `{"z": 1, "a": 2}`},
		{"int keys", py.DictOf(int64(1), "a", int64(-2), "b"), `{"1": "a", "-2": "b"}`},
		{"bool None keys", py.DictOf(true, int64(1), false, int64(2), nil, int64(3)), `{"true": 1, "false": 2, "null": 3}`},
		{"float keys", py.DictOf(1.5, int64(1), math.NaN(), int64(2), math.Inf(1), int64(3), math.Inf(-1), int64(4), math.Copysign(0, -1), int64(5), 1e22, int64(6)),
			`{"1.5": 1, "NaN": 2, "Infinity": 3, "-Infinity": 4, "-0.0": 5, "1e+22": 6}`},
		{"big int key", py.DictOf(testkit.BigInt("1000000000000000000000000000000"), int64(1)), `{"1000000000000000000000000000000": 1}`},
		{"mixed keys", py.DictOf("x", int64(1), int64(2), int64(2)), `{"x": 1, "2": 2}`},
		{"key escapes", py.DictOf("a\"\n", nil), `{"a\"\n": null}`},
		{"exception", exc, `{"__class__": "builtins.ValueError", "__exception__": true, "args": ["bad value", 12], "attributes": {"_pyroTraceback": ["Traceback\n", "ValueError\n"]}}`},
		{"exception no attrs", &py.Exception{Class: "Pyro4.errors.NamingError", Args: py.Tuple{"unknown name: nope"}},
			`{"__class__": "Pyro4.errors.NamingError", "__exception__": true, "args": ["unknown name: nope"], "attributes": {}}`},
		{"classdicter", &classDicter{py.Tuple{"PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19090)}}, dumpResult},
		{"nil classdicter", (*classDicter)(nil), "null"},
		{"nil exception", (*py.Exception)(nil), "null"},
		{"nested", []any{py.DictOf("a", py.Tuple{py.SetOf(int64(1))})}, `[{"a": [[1]]}]`},
		// Values outside the model go through py.FromGo.
		{"go []string", []string{"a", "b"}, `["a", "b"]`},
		{"go map", map[string]int{"k": 1}, `{"k": 1}`},
		{"go nested in model", []any{[]string{"x"}}, `[["x"]]`},
		{"go time", time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), `"2024-01-02T03:04:05.000006+00:00"`},
	}
	for want, v := range dumpValues() {
		tests = append(tests, struct {
			name string
			v    any
			want string
		}{"dump " + want[:20], v, want})
	}
	var enc Encoder
	for _, tt := range tests {
		got, err := enc.Append(nil, tt.v)
		if err != nil {
			t.Errorf("%s: error %v", tt.name, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestEncodeAppends(t *testing.T) {
	var enc Encoder
	got, err := enc.Append([]byte("prefix:"), []any{int64(1)})
	if err != nil || string(got) != "prefix:[1]" {
		t.Fatalf("got %q, %v", got, err)
	}
	got, err = enc.Append([]byte("prefix:"), []any{int64(1), []byte("x")})
	if err == nil || string(got) != "prefix:" {
		t.Fatalf("on error got %q, %v; want the original slice and an error", got, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	self := []any{nil}
	self[0] = self
	tests := []struct {
		name string
		v    any
		msg  string // substring of the error
	}{
		{"bytes", []byte("x"), "don't know how to serialize class <class 'bytes'> using serializer JsonSerializer. Give it vars() or an appropriate __getstate__"},
		{"nested bytes", []any{py.DictOf("a", []byte{})}, "<class 'bytes'>"},
		{"frozenset", &py.Set{Frozen: true}, "<class 'frozenset'>"},
		{"complex", complex(1, 2), "<class 'complex'>"},
		{"tuple key", py.DictOf(py.Tuple{int64(1), int64(2)}, "a"), "keys must be str, int, float, bool or None, not tuple"},
		{"bytes key", py.DictOf([]byte("k"), "a"), "not bytes"},
		{"complex key", py.DictOf(complex(1, 1), "a"), "not complex"},
		{"invalid utf8", "a\xffb", "invalid UTF-8"},
		{"invalid utf8 key", py.DictOf("\xc3", int64(1)), "invalid UTF-8"},
		{"go chan", make(chan int), "serialize"},
		{"circular", self, "circular"},
	}
	var enc Encoder
	for _, tt := range tests {
		_, err := enc.Append(nil, tt.v)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !errors.Is(err, py.ErrUnsupported) {
			t.Errorf("%s: error %v is not ErrUnsupported", tt.name, err)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %q does not contain %q", tt.name, err, tt.msg)
		}
	}
}

func TestEncodeMaxDepth(t *testing.T) {
	v := any(int64(1))
	for range 50 {
		v = []any{v}
	}
	if _, err := (&Encoder{MaxDepth: 49}).Append(nil, v); err == nil {
		t.Error("depth 50 with MaxDepth 49: no error")
	}
	if _, err := (&Encoder{MaxDepth: 50}).Append(nil, v); err != nil {
		t.Errorf("depth 50 with MaxDepth 50: %v", err)
	}
	if _, err := (&Encoder{MaxDepth: -1}).Append(nil, v); err != nil {
		t.Errorf("unlimited: %v", err)
	}
	var nilEnc *Encoder
	if got, err := nilEnc.Append(nil, v); err != nil || len(got) != 101 {
		t.Errorf("nil encoder: %q, %v", got, err)
	}
}
