package pymsgpack

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"

	"github.com/pyrogo/pyro/py"
)

// runPython runs the shared serializer interop script (package
// internal/pytest) once with all requests; it skips without Python, or
// fails when the environment variable CI is set.
func runPython(t *testing.T, mode string, reqs []map[string]any) []map[string]any {
	t.Helper()
	return pytest.SerializerInterop(t, "msgpack", mode, reqs)
}

const (
	both = iota
	decodeOnly
	encodeOnly
)

type interopCase struct {
	py      string // Python expression
	goVal   any    // the Go value decoded from / encoded to it
	dir     int
	noBytes bool // Go's bytes may differ from Python's
	call    bool // py is a 4-tuple for dumpsCall / loadsCall
}

func strs(n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = "s"
	}
	return l
}

func keysDict(n int) *py.Dict {
	d := py.NewDict(n)
	for i := range n {
		d.SetString("k"+strings.Repeat("x", i), int64(i))
	}
	return d
}

func interopCases() []interopCase {
	tb := []any{"Traceback (most recent call last):\n", "ValueError: ('bad value', 12)\n"}
	cases := []interopCase{
		{py: "None", goVal: nil},
		{py: "True", goVal: true},
		{py: "False", goVal: false},
		{py: "float('nan')", goVal: pyNaN},
		{py: "float('inf')", goVal: math.Inf(1)},
		{py: "float('-inf')", goVal: math.Inf(-1)},
		{py: "-0.0", goVal: math.Copysign(0, -1)},
		{py: "0.0", goVal: 0.0},
		{py: "1.5", goVal: 1.5},
		{py: "0.1", goVal: 0.1},
		{py: "1e22", goVal: 1e22},
		{py: "5e-324", goVal: 5e-324},
		{py: "1.7976931348623157e308", goVal: math.MaxFloat64},
		{py: "10**30", goVal: testkit.BigInt("1" + strings.Repeat("0", 30))},
		{py: "-10**30", goVal: testkit.BigInt("-1" + strings.Repeat("0", 30))},
		{py: "int('9'*4300)", goVal: testkit.BigInt(strings.Repeat("9", 4300))},
		{py: "-int('9'*4300)", goVal: testkit.BigInt("-" + strings.Repeat("9", 4300))},
		{py: "''", goVal: ""},
		{py: `'\x00\x01\x1f\x7f"\\'`, goVal: "\x00\x01\x1f\x7f\"\\"},
		{py: `'h\u00e9llo \U0001F600\U0010FFFF \u2028\u2029\ufeff\uffff'`, goVal: "héllo \U0001F600\U0010FFFF \u2028\u2029\ufeff\uffff"},
		{py: "b''", goVal: []byte{}},
		{py: "bytes(range(256))", goVal: func() []byte {
			b := make([]byte, 256)
			for i := range b {
				b[i] = byte(i)
			}
			return b
		}()},
		{py: "bytearray(b'ab')", goVal: []byte("ab"), dir: decodeOnly},
		{py: "1+2j", goVal: complex(1, 2)},
		{py: "complex(float('inf'), -0.0)", goVal: complex(math.Inf(1), math.Copysign(0, -1))},
		{py: "[]", goVal: []any{}},
		{py: "{}", goVal: py.NewDict(0)},
		{py: "[1, 'a', None, [2.5, []], {}, b'x']", goVal: []any{int64(1), "a", nil, []any{2.5, []any{}}, py.NewDict(0), []byte("x")}},
		{py: "(1, 'a', (2,))", goVal: []any{int64(1), "a", []any{int64(2)}}, dir: decodeOnly},
		{py: "(1, 'a', (2,))", goVal: py.Tuple{int64(1), "a", py.Tuple{int64(2)}}, dir: encodeOnly},
		{py: "{1, 2, 3}", goVal: []any{int64(1), int64(2), int64(3)}, dir: decodeOnly},
		{py: "{1, 2, 3}", goVal: py.SetOf(int64(1), int64(2), int64(3)), dir: encodeOnly},
		{py: "{'b': 1, 'a': [1, 2], 'c': {'d': None}}", goVal: py.DictOf("b", int64(1), "a", []any{int64(1), int64(2)}, "c", py.DictOf("d", nil))},
		{py: "{b'k': 1, 'k': 2}", goVal: py.DictOf([]byte("k"), int64(1), "k", int64(2))},
		// msgpack-python ≥ 1.0 unpacks with strict_map_key=True: a Python
		// peer refuses these (see TestInteropStrictMapKeys), but it writes them.
		{py: "{1: 'a', 2.5: 'b', None: 'c', 2**70: 'd', 1j: 'e'}", goVal: py.DictOf(int64(1), "a", 2.5, "b", nil, "c", pyInt("2**70"), "d", complex(0, 1), "e"), dir: decodeOnly},
		{py: "['s'] * 15", goVal: strs(15)},
		{py: "['s'] * 16", goVal: strs(16)},
		{py: "['s'] * 65535", goVal: strs(65535)},
		{py: "['s'] * 65536", goVal: strs(65536)},
		{py: "{'k' + 'x' * i: i for i in range(15)}", goVal: keysDict(15)},
		{py: "{'k' + 'x' * i: i for i in range(16)}", goVal: keysDict(16)},
		{py: "nest(300)", goVal: pygen.NestedList(300, int64(1))},
		{py: "nest(300, {})", goVal: pygen.NestedList(300, py.NewDict(0))},
		{py: "nestdict(300)", goVal: pygen.NestedDict(300, "a", int64(1))},
		{py: "exc(ValueError, 'bad value', 12, tb=" + pytest.ListLiteral(tb) + ")",
			goVal: py.DictOf("__class__", "builtins.ValueError", "__exception__", true, "args", []any{"bad value", int64(12)},
				"attributes", py.DictOf("_pyroTraceback", tb)), dir: decodeOnly},
		{py: "exc(ValueError, 'bad value', 12, tb=" + pytest.ListLiteral(tb) + ")",
			goVal: &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"bad value", int64(12)}, Attributes: py.DictOf("_pyroTraceback", tb)}, dir: encodeOnly},
		{py: "exc(Pyro4.errors.NamingError, 'unknown name: nope')",
			goVal: &py.Exception{Class: "Pyro4.errors.NamingError", Args: py.Tuple{"unknown name: nope"}}, dir: encodeOnly},
		{py: "uri('PYRO:Pyro.NameServer@127.0.0.1:19290')",
			goVal: py.DictOf("__class__", "Pyro4.core.URI", "state", []any{"PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19290)})},
		{py: "uri('PYRO:Pyro.NameServer@127.0.0.1:19290')",
			goVal: &classDicter{py.Tuple{"PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19290)}}, dir: encodeOnly},
		{py: "[uuid.UUID('12345678-1234-5678-1234-567812345678'), decimal.Decimal('3.14')]",
			goVal: []any{"12345678-1234-5678-1234-567812345678", "3.14"}, dir: decodeOnly},
		{py: "('test.echoserver', 'echo', ('x' * 48,), {})", call: true,
			goVal: []any{"test.echoserver", "echo", []any{strings.Repeat("x", 48)}, py.NewDict(0)}, dir: decodeOnly},
		{py: "('test.echoserver', 'echo', ('x' * 48,), {})", call: true,
			goVal: py.Tuple{"test.echoserver", "echo", py.Tuple{strings.Repeat("x", 48)}, py.NewDict(0)}, dir: encodeOnly},
		{py: "('thing', '__getattr__', ('x',), None)", call: true,
			goVal: []any{"thing", "__getattr__", []any{"x"}, nil}},
		{py: "datetime.datetime(2024, 1, 2, 3, 4, 5, 6)", goVal: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.Local)},
		{py: "datetime.datetime(1969, 7, 20, 20, 17, 40, 999999)", goVal: time.Date(1969, 7, 20, 20, 17, 40, 999999000, time.Local)},
		{py: "datetime.date(2024, 1, 2)", goVal: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{py: "datetime.date(1, 1, 1)", goVal: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{py: "datetime.date(9999, 12, 31)", goVal: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{py: "datetime.date(1969, 12, 31)", goVal: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
		{py: "datetime.date(9999, 12, 31)", goVal: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), dir: decodeOnly},
	}
	// Every msgpack int width and its boundaries.
	for _, n := range []string{"0", "1", "127", "128", "255", "256", "65535", "65536", "2**32-1", "2**32",
		"2**63-1", "-1", "-31", "-32", "-33", "-127", "-128", "-129", "-32767", "-32768", "-32769",
		"-2**31", "-2**31-1", "-2**63"} {
		cases = append(cases, interopCase{py: n, goVal: pyInt(n)})
	}
	for _, n := range []string{"2**63", "2**64-1", "2**64", "-2**63-1", "2**100", "-2**100"} {
		cases = append(cases, interopCase{py: n, goVal: pyInt(n)})
	}
	// Every str and bin length boundary.
	for _, n := range []int{31, 32, 255, 256, 65535, 65536} {
		s := strings.Repeat("é", n/2) + strings.Repeat("a", n%2)
		cases = append(cases,
			interopCase{py: "'\u00e9' * " + strconv.Itoa(n/2) + " + 'a' * " + strconv.Itoa(n%2), goVal: s},
			interopCase{py: "b'a' * " + strconv.Itoa(n), goVal: bytes.Repeat([]byte("a"), n)})
	}
	return cases
}

// pyInt evaluates the integer expressions used above: [-]N or
// [-]2**N[-1], with Python's precedence.
func pyInt(expr string) any {
	e, neg := strings.CutPrefix(expr, "-")
	adj := int64(0)
	if strings.Contains(e, "**") {
		if cut, ok := strings.CutSuffix(e, "-1"); ok {
			e, adj = cut, -1
		}
	}
	var v *big.Int
	if exp, ok := strings.CutPrefix(e, "2**"); ok {
		n, err := strconv.Atoi(exp)
		if err != nil {
			panic(expr)
		}
		v = new(big.Int).Lsh(big.NewInt(1), uint(n))
	} else {
		v = testkit.BigInt(e)
	}
	if neg {
		v.Neg(v)
	}
	return py.NormalizeInt(v.Add(v, big.NewInt(adj)))
}

// sameVal is py.Same extended to time.Time at the top level.
func sameVal(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb) && ta.Location().String() == tb.Location().String()
	}
	return py.Same(a, b)
}

// TestInteropDecode: Python (Pyro4's MsgpackSerializer) writes, Go reads.
func TestInteropDecode(t *testing.T) {
	var cases []interopCase
	var reqs []map[string]any
	for _, c := range interopCases() {
		if c.dir != encodeOnly {
			cases = append(cases, c)
			reqs = append(reqs, map[string]any{"expr": c.py, "call": c.call})
		}
	}
	ans := runPython(t, "dump", reqs)
	var dec Decoder
	enc := Encoder{TimeExt: true}
	for i, c := range cases {
		if e, ok := ans[i]["err"]; ok {
			t.Errorf("%.60s: python: %v", c.py, e)
			continue
		}
		payload, err := base64.StdEncoding.DecodeString(ans[i]["b64"].(string))
		if err != nil {
			t.Fatal(err)
		}
		got, err := dec.Decode(payload)
		if err != nil {
			t.Errorf("%.60s: decoding % x: %v", c.py, trunc(payload), err)
			continue
		}
		if !sameVal(got, c.goVal) {
			t.Errorf("%.60s: got %.200s, want %.200s", c.py, py.Repr(got), py.Repr(c.goVal))
		}
		// Re-encoding gives Python's bytes, dates included.
		again, err := enc.Append(nil, got)
		if err != nil || !bytes.Equal(again, payload) {
			t.Errorf("%.60s: re-encoded % x, %v; python wrote % x", c.py, trunc(again), err, trunc(payload))
		}
	}
}

// TestInteropEncode: Go writes, Python (Pyro4's MsgpackSerializer) reads and
// compares with its own serialization of the same value; the bytes must be
// identical.
func TestInteropEncode(t *testing.T) {
	var cases []interopCase
	var reqs []map[string]any
	enc := Encoder{TimeExt: true}
	for _, c := range interopCases() {
		if c.dir == decodeOnly {
			continue
		}
		payload, err := enc.Append(nil, c.goVal)
		if err != nil {
			t.Errorf("%.60s: encode: %v", c.py, err)
			continue
		}
		cases = append(cases, c)
		reqs = append(reqs, map[string]any{"expr": c.py, "call": c.call, "bytes": !c.noBytes,
			"b64": base64.StdEncoding.EncodeToString(payload)})
	}
	ans := runPython(t, "load", reqs)
	for i, c := range cases {
		if e, ok := ans[i]["err"]; ok {
			t.Errorf("%.60s: python: %v", c.py, e)
		} else if ans[i]["ok"] != true {
			t.Errorf("%.60s: %.300v", c.py, ans[i]["why"])
		}
	}
}

// TestInteropStrictMapKeys documents a Python-side limit: Pyro4 on
// msgpack-python ≥ 1.0 cannot load maps whose keys are not str or bytes,
// although it writes them. Go decodes them (TestInteropDecode).
func TestInteropStrictMapKeys(t *testing.T) {
	payload, err := (&Encoder{}).Append(nil, py.DictOf(int64(1), "a"))
	if err != nil {
		t.Fatal(err)
	}
	ans := runPython(t, "load", []map[string]any{{"expr": "{1: 'a'}", "b64": base64.StdEncoding.EncodeToString(payload)}})
	e, _ := ans[0]["err"].(string)
	if !strings.Contains(e, "strict_map_key") {
		t.Skipf("this msgpack-python loads int keys (answer %v); the limitation is gone", ans[0])
	}
}

// TestInteropErrors: values Python's MsgpackSerializer refuses are refused
// by the Go encoder with the same message, and a map with a tuple key,
// which Python writes as an array key but cannot read back, fails to
// decode in Go as well.
func TestInteropErrors(t *testing.T) {
	ans := runPython(t, "dump", []map[string]any{{"expr": "frozenset([1])"}, {"expr": "{(1, 2): 'd'}"}})
	pyErr, _ := ans[0]["err"].(string)
	_, goErr := (&Encoder{}).Append(nil, &py.Set{Frozen: true})
	if pyErr == "" || goErr == nil {
		t.Fatalf("python error %q, Go error %v; want both to fail", pyErr, goErr)
	}
	msg := pyErr[strings.Index(pyErr, ": ")+2:]
	if !strings.Contains(goErr.Error(), msg) {
		t.Errorf("Go error %q lacks Python's message %q", goErr, msg)
	}
	payload, err := base64.StdEncoding.DecodeString(ans[1]["b64"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := (&Decoder{}).Decode(payload); !errors.Is(err, py.ErrSyntax) {
		t.Errorf("tuple-key map % x: got %v, %v; want an unhashable key error", payload, v, err)
	}
}
