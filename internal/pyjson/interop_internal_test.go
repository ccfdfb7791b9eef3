package pyjson

import (
	"bytes"
	"encoding/base64"
	"math"
	"strings"
	"testing"

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
	return pytest.SerializerInterop(t, "json", mode, reqs)
}

const (
	both = iota
	decodeOnly
	encodeOnly
)

type interopCase struct {
	py      string // Python expression
	goVal   any    // the Go value Go decodes from / encodes to it
	dir     int
	noBytes bool // Go's bytes may differ from Python's
	call    bool // py is a 4-tuple for dumpsCall / loadsCall
}

func interopCases() []interopCase {
	tb := []any{"Traceback (most recent call last):\n", "ValueError: ('bad value', 12)\n"}
	return []interopCase{
		{py: "None", goVal: nil},
		{py: "True", goVal: true},
		{py: "False", goVal: false},
		{py: "0", goVal: int64(0)},
		{py: "-1", goVal: int64(-1)},
		{py: "2**31", goVal: int64(1 << 31)},
		{py: "2**63-1", goVal: int64(math.MaxInt64)},
		{py: "-2**63", goVal: int64(math.MinInt64)},
		{py: "2**63", goVal: testkit.BigInt("9223372036854775808")},
		{py: "-2**63-1", goVal: testkit.BigInt("-9223372036854775809")},
		{py: "2**64", goVal: testkit.BigInt("18446744073709551616")},
		{py: "10**30", goVal: testkit.BigInt("1" + strings.Repeat("0", 30))},
		{py: "-10**30", goVal: testkit.BigInt("-1" + strings.Repeat("0", 30))},
		{py: "int('9'*4300)", goVal: testkit.BigInt(strings.Repeat("9", 4300))},
		{py: "0.0", goVal: 0.0},
		{py: "-0.0", goVal: math.Copysign(0, -1)},
		{py: "1.5", goVal: 1.5},
		{py: "3.0", goVal: 3.0},
		{py: "0.1", goVal: 0.1},
		{py: "1e22", goVal: 1e22},
		{py: "1e16", goVal: 1e16},
		{py: "1e-7", goVal: 1e-7},
		{py: "123456789.0", goVal: 123456789.0},
		{py: "1.2345678901234568e+17", goVal: 1.2345678901234568e+17},
		{py: "5e-324", goVal: 5e-324},
		{py: "1.7976931348623157e308", goVal: math.MaxFloat64},
		{py: "-2.5e-300", goVal: -2.5e-300},
		{py: "float('nan')", goVal: math.NaN()},
		{py: "float('inf')", goVal: math.Inf(1)},
		{py: "float('-inf')", goVal: math.Inf(-1)},
		{py: "''", goVal: ""},
		{py: "'abc'", goVal: "abc"},
		{py: `'\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x7f"\\/'`, goVal: "\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x7f\"\\/"},
		{py: `'h\u00e9llo w\u00f6rld \u20ac'`, goVal: "héllo wörld €"},
		{py: `'\U0001F600\U0010FFFF\U00010000'`, goVal: "\U0001F600\U0010FFFF\U00010000"},
		{py: `'\u2028\u2029\ufeff\uffff\u200b\xa0'`, goVal: "\u2028\u2029\ufeff\uffff\u200b\u00a0"},
		{py: "'x' * 100000", goVal: strings.Repeat("x", 100000)},
		{py: "[]", goVal: []any{}},
		{py: "{}", goVal: py.NewDict(0)},
		{py: "[1, 'a', None, [2.5, []], {}]", goVal: []any{int64(1), "a", nil, []any{2.5, []any{}}, py.NewDict(0)}},
		{py: "()", goVal: []any{}, dir: decodeOnly},
		{py: "(1, 'a', (2,))", goVal: []any{int64(1), "a", []any{int64(2)}}, dir: decodeOnly},
		{py: "(1, 'a', (2,))", goVal: py.Tuple{int64(1), "a", py.Tuple{int64(2)}}, dir: encodeOnly},
		{py: "{1, 2, 3}", goVal: []any{int64(1), int64(2), int64(3)}, dir: decodeOnly},
		{py: "{1, 2, 3}", goVal: py.SetOf(int64(1), int64(2), int64(3)), dir: encodeOnly},
		{py: "{'b': 1, 'a': [1, 2], 'c': {'d': None}}", goVal: py.DictOf("b", int64(1), "a", []any{int64(1), int64(2)}, "c", py.DictOf("d", nil))},
		{py: "{1: 'a', 2: 'b'}", goVal: py.DictOf("1", "a", "2", "b"), dir: decodeOnly},
		{py: "{1: 'a', 2: 'b'}", goVal: py.DictOf(int64(1), "a", int64(2), "b"), dir: encodeOnly},
		{py: "{True: 1, None: 2, 1.5: 3, float('nan'): 4, -0.0: 5, 10**20: 6}",
			goVal: py.DictOf(true, int64(1), nil, int64(2), 1.5, int64(3), math.NaN(), int64(4), math.Copysign(0, -1), int64(5), testkit.BigInt("100000000000000000000"), int64(6)), dir: encodeOnly},
		{py: "{'true': 1, 'null': 2, '1.5': 3, 'NaN': 4, '-0.0': 5, '100000000000000000000': 6}",
			goVal: py.DictOf("true", int64(1), "null", int64(2), "1.5", int64(3), "NaN", int64(4), "-0.0", int64(5), "100000000000000000000", int64(6))},
		{py: "{'\u00e9\\n': '\U0001F600'}", goVal: py.DictOf("é\n", "\U0001F600")},
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
		{py: "exc(StopIteration)", goVal: &py.Exception{Class: "builtins.StopIteration"}, dir: encodeOnly},
		{py: "uri('PYRO:Pyro.NameServer@127.0.0.1:19090')",
			goVal: py.DictOf("__class__", "Pyro4.core.URI", "state", []any{"PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19090)})},
		{py: "uri('PYRO:Pyro.NameServer@127.0.0.1:19090')",
			goVal: &classDicter{py.Tuple{"PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19090)}}, dir: encodeOnly},
		{py: "uri('PYRO:x@./u:/tmp/s.sock')",
			goVal: py.DictOf("__class__", "Pyro4.core.URI", "state", []any{"PYRO", "x", "/tmp/s.sock", nil, nil})},
		{py: "[uuid.UUID('12345678-1234-5678-1234-567812345678'), datetime.datetime(2024, 1, 2, 3, 4, 5, 6000), datetime.date(2024, 1, 2), decimal.Decimal('3.14')]",
			goVal: []any{"12345678-1234-5678-1234-567812345678", "2024-01-02T03:04:05.006000", "2024-01-02", "3.14"}, dir: decodeOnly},
		{py: "('test.echoserver', 'echo', ('x' * 48,), {})", call: true,
			goVal: py.DictOf("object", "test.echoserver", "method", "echo", "params", []any{strings.Repeat("x", 48)}, "kwargs", py.NewDict(0)), dir: decodeOnly},
		{py: "('test.echoserver', 'echo', ('x' * 48,), {})", call: true,
			goVal: py.DictOf("object", "test.echoserver", "method", "echo", "params", py.Tuple{strings.Repeat("x", 48)}, "kwargs", py.NewDict(0)), dir: encodeOnly},
		{py: "('thing', '__getattr__', ('x',), None)", call: true,
			goVal: py.DictOf("object", "thing", "method", "__getattr__", "params", []any{"x"}, "kwargs", nil)},
	}
}

// TestInteropDecode: Python (Pyro4's JsonSerializer) writes, Go reads.
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
	for i, c := range cases {
		if e, ok := ans[i]["err"]; ok {
			t.Errorf("%s: python: %v", c.py, e)
			continue
		}
		payload, err := base64.StdEncoding.DecodeString(ans[i]["b64"].(string))
		if err != nil {
			t.Fatal(err)
		}
		got, err := dec.Decode(payload)
		if err != nil {
			t.Errorf("%s: decoding %.80q: %v", c.py, payload, err)
			continue
		}
		if !py.Same(got, c.goVal) {
			t.Errorf("%s: got %.200s, want %.200s", c.py, py.Repr(got), py.Repr(c.goVal))
		}
		// Go's encoding of the decoded value is byte-identical to Python's
		// (json keeps no information Python could order differently).
		again, err := (&Encoder{}).Append(nil, got)
		if err != nil || !bytes.Equal(again, payload) {
			t.Errorf("%s: re-encoded %.80q, %v; python wrote %.80q", c.py, again, err, payload)
		}
	}
}

// TestInteropEncode: Go writes, Python (Pyro4's JsonSerializer) reads and
// compares with its own serialization of the same value.
func TestInteropEncode(t *testing.T) {
	var cases []interopCase
	var reqs []map[string]any
	var enc Encoder
	for _, c := range interopCases() {
		if c.dir == decodeOnly {
			continue
		}
		payload, err := enc.Append(nil, c.goVal)
		if err != nil {
			t.Errorf("%s: encode: %v", c.py, err)
			continue
		}
		cases = append(cases, c)
		reqs = append(reqs, map[string]any{"expr": c.py, "call": c.call, "bytes": !c.noBytes,
			"b64": base64.StdEncoding.EncodeToString(payload)})
	}
	ans := runPython(t, "load", reqs)
	for i, c := range cases {
		if e, ok := ans[i]["err"]; ok {
			t.Errorf("%s: python: %v", c.py, e)
		} else if ans[i]["ok"] != true {
			t.Errorf("%s: %.300v", c.py, ans[i]["why"])
		}
	}
}

// TestInteropErrors: values Python's JsonSerializer refuses are refused by
// the Go encoder as well.
func TestInteropErrors(t *testing.T) {
	cases := []struct {
		py    string
		goVal any
	}{
		{"b'x'", []byte("x")},
		{"frozenset([1])", &py.Set{Frozen: true}},
		{"1j", complex(0, 1)},
		{"{(1, 2): 'a'}", py.DictOf(py.Tuple{int64(1), int64(2)}, "a")},
	}
	var reqs []map[string]any
	for _, c := range cases {
		reqs = append(reqs, map[string]any{"expr": c.py})
	}
	ans := runPython(t, "dump", reqs)
	var enc Encoder
	for i, c := range cases {
		pyErr, _ := ans[i]["err"].(string)
		_, goErr := enc.Append(nil, c.goVal)
		if pyErr == "" || goErr == nil {
			t.Errorf("%s: python error %q, Go error %v; want both to fail", c.py, pyErr, goErr)
			continue
		}
		// Python's message (after "Type: ") appears in Go's error.
		msg := pyErr[strings.Index(pyErr, ": ")+2:]
		if !strings.Contains(goErr.Error(), msg) {
			t.Errorf("%s: Go error %q lacks Python's message %q", c.py, goErr, msg)
		}
	}
}
