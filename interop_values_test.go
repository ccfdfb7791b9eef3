package pyro_test

// Interop B, values: what Go proxies send to and get from Python daemons
// (the echo corpus, the types Python sees, results, large messages,
// keyword arguments).

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

// echoCase is a value a Go proxy sends to Python's echo server, with what
// comes back per serializer (nil map entry: the value itself).
type echoCase struct {
	name   string
	value  any
	want   map[string]any // serializer -> expected result, when it differs
	cannot []string       // serializers that cannot carry the value
}

func echoCorpus() []echoCase {
	nested := any([]any{})
	for range 40 {
		nested = []any{nested}
	}
	intKeys := py.DictOf(int64(1), "one", int64(-2), py.Tuple{int64(2)})
	strKeys := py.DictOf("1", "one", "-2", []any{int64(2)})
	tuple := py.Tuple{int64(1), "a", 2.5}
	tupleAsList := []any{int64(1), "a", 2.5}
	set := py.SetOf(int64(1), int64(2), int64(3))
	setAsList := []any{int64(1), int64(2), int64(3)}
	long := strings.Repeat("0123456789abcdef", 8192)
	frozen := py.NewSet(1, true)
	frozen.Add("a")
	longList := make([]any, 10000)
	for i := range longList {
		longList[i] = int64(i)
	}
	return []echoCase{
		{name: "none", value: nil},
		{name: "true", value: true},
		{name: "false", value: false},
		{name: "int_zero", value: int64(0)},
		{name: "int_neg", value: int64(-42)},
		{name: "int_max64", value: int64(math.MaxInt64)},
		{name: "int_min64", value: int64(math.MinInt64)},
		{name: "uint64_max", value: testkit.BigInt("18446744073709551615")},
		{name: "bigint", value: testkit.BigInt("1267650600228229401496703217721")},
		{name: "bigint_neg", value: testkit.BigInt("-2503155504993241601315571986085849")},
		{name: "float", value: math.Pi},
		{name: "float_neg_zero", value: math.Copysign(0, -1)},
		{name: "float_tiny", value: 5e-324},
		{name: "float_huge", value: math.MaxFloat64},
		{name: "float_int_valued", value: 2.0},
		{name: "nan", value: math.NaN()},
		{name: "inf", value: math.Inf(1)},
		{name: "neg_inf", value: math.Inf(-1)},
		{name: "str", value: "hello"},
		{name: "str_empty", value: ""},
		{name: "unicode", value: "häßlich € ☃ 𝄞 中文 مرحبا"},
		{name: "str_escapes", value: "it's \"quoted\" \\ back\nnew\ttab\rcr \x7f \x01 \u2028"},
		{name: "str_long", value: long},
		{name: "bytes", value: []byte("\x00\x01\xff\xfeabc"), cannot: []string{"json"}},
		{name: "list", value: []any{int64(1), "a", 2.5, nil, true}},
		{name: "list_empty", value: []any{}},
		{name: "tuple", value: tuple, want: map[string]any{"json": tupleAsList, "msgpack": tupleAsList}},
		{name: "tuple_empty", value: py.Tuple{}, want: map[string]any{"json": []any{}, "msgpack": []any{}}},
		{name: "dict", value: py.DictOf("a", int64(1), "b", []any{int64(1)}, "c", py.DictOf("d", nil))},
		{name: "dict_empty", value: py.NewDict(0)},
		{name: "dict_int_keys", value: intKeys, want: map[string]any{"json": strKeys}, cannot: []string{"msgpack"}},
		{name: "set", value: set, want: map[string]any{"json": setAsList, "msgpack": setAsList}},
		{name: "struct", value: ipPerson{"Ann", 41}, want: map[string]any{
			"serpent": py.DictOf("name", "Ann", "age", int64(41)), "json": py.DictOf("name", "Ann", "age", int64(41)),
			"marshal": py.DictOf("name", "Ann", "age", int64(41)), "msgpack": py.DictOf("name", "Ann", "age", int64(41))}},
		{name: "nested", value: nested},
		{name: "complex", value: complex(1.5, -2), cannot: []string{"json"}},
		{name: "floats_nested", value: []any{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), py.DictOf("x", math.NaN())}},
		{name: "str_nul", value: "a\x00b\x00"},
		{name: "bigint_huge", value: new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 1000), big.NewInt(1))},
		{name: "bigint_huge_neg", value: new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 999))},
		// serpent has no frozenset literal (Python sends a set too); Pyro's
		// json and msgpack serializers cannot carry frozensets, nor can ours
		{name: "frozenset", value: frozen, want: map[string]any{"serpent": py.SetOf("a")}, cannot: []string{"json", "msgpack"}},
		{name: "list_long", value: longList},
		{name: "dict_unicode_keys", value: py.DictOf("été", int64(1), "😀", []any{"☃"})},
	}
}

// describeCases: what Python's describe() says it received, per serializer
// (canonical form of pyserver.py's canon(); "*" applies to all).
var describeCases = []struct {
	name  string
	value any
	want  map[string]string
}{
	{"int", int64(7), map[string]string{"*": `["int","7"]`}},
	{"int_go_width", int8(-3), map[string]string{"*": `["int","-3"]`}},
	{"uint64", uint64(math.MaxUint64), map[string]string{"*": `["int","18446744073709551615"]`}},
	// msgpack carries ints beyond 64 bits as ext type 0x31 (as Pyro4 does);
	// Pyro4's daemon decodes call arguments without its ext hook, so the
	// method gets a raw ExtType, exactly as from a Python client
	{"bigint", testkit.BigInt("-1267650600228229401496703217721"), map[string]string{"serpent": `["int","-1267650600228229401496703217721"]`,
		"json": `["int","-1267650600228229401496703217721"]`, "marshal": `["int","-1267650600228229401496703217721"]`,
		"msgpack": `["tuple",[["int","49"],["bytes","2d31323637363530363030323238323239343031343936373033323137373231"]]]`,
		// Pyro5's daemon decodes call arguments with its ext hook
		"msgpack5": `["int","-1267650600228229401496703217721"]`}},
	{"float", 2.5, map[string]string{"*": `["float","2.5"]`}},
	{"float32", float32(0.5), map[string]string{"*": `["float","0.5"]`}},
	{"float_whole", 3.0, map[string]string{"*": `["float","3.0"]`}},
	{"bool", true, map[string]string{"*": `["bool",true]`}},
	{"none", nil, map[string]string{"*": `["None"]`}},
	{"str", "ü€𝄞", map[string]string{"*": `["str","ü€𝄞"]`}},
	{"bytes", []byte("ab"), map[string]string{
		"serpent": `["dict",[[["str","data"],["str","YWI="]],[["str","encoding"],["str","base64"]]]]`,
		"marshal": `["bytes","6162"]`, "msgpack": `["bytes","6162"]`}},
	{"tuple", py.Tuple{int64(1)}, map[string]string{"serpent": `["tuple",[["int","1"]]]`, "marshal": `["tuple",[["int","1"]]]`,
		"json": `["list",[["int","1"]]]`, "msgpack": `["list",[["int","1"]]]`}},
	{"list", []string{"a"}, map[string]string{"*": `["list",[["str","a"]]]`}},
	{"set", py.SetOf("a"), map[string]string{"serpent": `["set",[["str","a"]]]`, "marshal": `["set",[["str","a"]]]`,
		"json": `["list",[["str","a"]]]`, "msgpack": `["list",[["str","a"]]]`}},
	{"map_int_keys", map[int]string{1: "x"}, map[string]string{"serpent": `["dict",[[["int","1"],["str","x"]]]]`,
		"marshal": `["dict",[[["int","1"],["str","x"]]]]`, "json": `["dict",[[["str","1"],["str","x"]]]]`}},
	{"struct", ipPoint{1, -2}, map[string]string{"*": `["dict",[[["str","x"],["float","1.0"]],[["str","y"],["float","-2.0"]]]]`}},
	{"nan", math.NaN(), map[string]string{"*": `["float","nan"]`}},
	{"neg_inf", math.Inf(-1), map[string]string{"*": `["float","-inf"]`}},
	{"complex", complex(1, 2), map[string]string{"serpent": `["complex","(1+2j)"]`, "marshal": `["complex","(1+2j)"]`,
		"msgpack":  `["tuple",[["int","48"],["bytes","000000000000f03f0000000000000040"]]]`, // ext 0x30, raw as above
		"msgpack5": `["complex","(1+2j)"]`}},
}

func goProxyEchoCorpus(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	echo, ser := c.echo, c.ser
	for _, c := range echoCorpus() {
		t.Run(c.name, func(t *testing.T) {
			got, err := echo.Call(ctx, "echo", c.value)
			if slices.Contains(c.cannot, ser) {
				t.Skipf("%s cannot carry %s (got %v, %v)", ser, c.name, py.Repr(got), err)
			}
			if err != nil {
				t.Fatal(err)
			}
			want, ok := c.want[ser]
			if !ok {
				want = c.value
			}
			if ser == "serpent" && c.name == "bytes" {
				// Pyro never turns serpent's base64 dict back into bytes; it
				// converts on demand, as Pyro's serpent.tobytes does
				var b []byte
				if err := py.Convert(&b, got); err != nil || string(b) != string(c.value.([]byte)) {
					t.Errorf("bytes over serpent: %s (%v)", py.Repr(got), err)
				}
				return
			}
			if !py.Same(got, want) {
				t.Errorf("echo(%.200s) = %.200s, want %.200s", py.Repr(c.value), py.Repr(got), py.Repr(want))
			}
		})
	}
}

func goProxyTypesSeenByPython(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p, ser, py5 := c.p, c.ser, c.py5
	for _, c := range describeCases {
		t.Run(c.name, func(t *testing.T) {
			want, ok := "", false
			if py5 {
				want, ok = c.want[ser+"5"] // where Pyro5 differs
			}
			if !ok {
				want, ok = c.want[ser]
			}
			if !ok {
				want, ok = c.want["*"]
			}
			got, err := p.Call(ctx, "describe", c.value)
			if !ok {
				t.Skipf("%s cannot carry %s (got %v, %v)", ser, c.name, got, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			var args []any
			if err := json.Unmarshal([]byte(got.(string)), &args); err != nil {
				t.Fatal(err)
			}
			// describe(*args, **kwargs): args is always a tuple in Python
			wantArgs := canonJSON(t, `[["tuple",[`+want+`]],["dict",[]]]`)
			if !jsonEqual(args, wantArgs) {
				t.Errorf("python received %s, want %s", got, mustJSON(wantArgs))
			}
		})
	}
	got, err := p.CallKw(ctx, "describe", nil, map[string]any{"k": int64(1), "ü": []any{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	var args []any
	json.Unmarshal([]byte(got.(string)), &args)
	// (canon() sorts entries by their JSON text, where ü is \u00fc)
	want := canonJSON(t, `["dict",[[["str","ü"],["list",[["str","x"]]]],[["str","k"],["int","1"]]]]`)
	if len(args) != 2 || !jsonEqual(args[1], want) {
		t.Errorf("kwargs seen by python: %s", got)
	}
}

func goProxyResults(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p, ser := c.p, c.ser
	if v, err := p.Call(ctx, "add", 2, 3); err != nil || !py.Same(v, int64(5)) {
		t.Errorf("add = %v, %v", v, err)
	}
	if v, err := p.Call(ctx, "add", "a", "b"); err != nil || v != "ab" {
		t.Errorf("add strings = %v, %v", v, err)
	}
	n, err := pyro.CallT[int](ctx, p, "add", 40, 2)
	if err != nil || n != 42 {
		t.Errorf("CallT[int] = %v, %v", n, err)
	}
	v, err := p.Call(ctx, "kinds")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := v.(*py.Dict)
	if !ok {
		t.Fatalf("kinds() = %s", py.Repr(v))
	}
	get := func(k string) any { x, _ := d.GetString(k); return x }
	tupleWant := any(py.Tuple{int64(1), "a"})
	intKeys := any(py.DictOf(int64(1), "one", int64(2), "two"))
	switch ser {
	case "json":
		tupleWant = []any{int64(1), "a"}
		intKeys = py.DictOf("1", "one", "2", "two")
	case "msgpack":
		tupleWant = []any{int64(1), "a"}
	}
	for k, want := range map[string]any{
		"int": int64(7), "neg": int64(-7), "big": testkit.BigInt("1267650600228229401496703205376"), "float": 2.5,
		"str": "h\u00e9llo \u2603 \U0001d11e", "list": []any{int64(1), []any{int64(2), []any{int64(3)}}},
		"tuple": tupleWant, "none": nil, "true": true, "intkeys": intKeys, "empty": py.NewDict(0),
	} {
		if !py.Same(get(k), want) {
			t.Errorf("kinds()[%q] = %s, want %s", k, py.Repr(get(k)), py.Repr(want))
		}
	}
	var kinds struct {
		Int   int            `pyro:"int"`
		Big   *big.Int       `pyro:"big"`
		Str   string         `pyro:"str"`
		List  []any          `pyro:"list"`
		Empty map[string]int `pyro:"empty"`
	}
	if err := p.CallInto(ctx, &kinds, "kinds"); err != nil || kinds.Int != 7 || kinds.Big.BitLen() != 101 || kinds.Str != "h\u00e9llo \u2603 \U0001d11e" {
		t.Errorf("CallInto struct: %+v %v", kinds, err)
	}
	if ser == "json" {
		var keys map[string]string
		if err := py.Convert(&keys, get("intkeys")); err != nil || keys["2"] != "two" {
			t.Errorf("intkeys %v %v", keys, err)
		}
	} else {
		var keys map[int]string
		if err := py.Convert(&keys, get("intkeys")); err != nil || keys[2] != "two" {
			t.Errorf("intkeys %v %v", keys, err)
		}
	}
}

func goProxyLargeMessages(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p := c.p
	const n = 3 * 1000 * 1000
	if got, err := pyro.CallT[int](ctx, p, "size", strings.Repeat("y", n)); err != nil || got != n {
		t.Errorf("3 MB argument: %v %v", got, err)
	}
	if s, err := pyro.CallT[string](ctx, p, "big", n); err != nil || len(s) != n {
		t.Errorf("3 MB result: %d %v", len(s), err)
	}
}

func goProxyKwargs(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p := c.p
	for _, c := range []struct {
		args []any
		kw   map[string]any
		want string
	}{
		{[]any{"Ann"}, nil, "hello Ann!"},
		{[]any{"Ann"}, map[string]any{"greeting": "hi"}, "hi Ann!"},
		{nil, map[string]any{"name": "Bob", "punct": "?", "greeting": "yo"}, "yo Bob?"},
	} {
		if v, err := p.CallKw(ctx, "greet", c.args, c.kw); err != nil || v != c.want {
			t.Errorf("greet(%v, %v) = %v, %v", c.args, c.kw, v, err)
		}
	}
	_, err := p.CallKw(ctx, "greet", []any{"Ann"}, map[string]any{"bogus": 1})
	var re *pyro.RemoteError
	if !errors.As(err, &re) || re.Class() != "builtins.TypeError" || !strings.Contains(re.Message(), "bogus") {
		t.Errorf("unexpected keyword: %v", err)
	}
}
