package pyjson

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

func TestDecodeTable(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"null", nil},
		{"true", true},
		{"false", false},
		{"0", int64(0)},
		{"-0", int64(0)},
		{"-5", int64(-5)},
		{"123456789012345678", int64(123456789012345678)},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"-9223372036854775808", int64(math.MinInt64)},
		{"9223372036854775808", testkit.BigInt("9223372036854775808")},
		{"-9223372036854775809", testkit.BigInt("-9223372036854775809")},
		{"123456789012345678901234567890", testkit.BigInt("123456789012345678901234567890")},
		{"0000000000000000001"[18:], int64(1)},
		{"1.5", 1.5},
		{"-0.0", math.Copysign(0, -1)},
		{"1E5", 100000.0},
		{"1e+2", 100.0},
		{"1e-7", 1e-7},
		{"1.0", 1.0},
		{"1e400", math.Inf(1)},
		{"-1e400", math.Inf(-1)},
		{"1e-400", 0.0},
		{"-1e-400", math.Copysign(0, -1)},
		{"123456789012345678901234567890.5", 1.2345678901234568e+29},
		{"NaN", math.NaN()},
		{"Infinity", math.Inf(1)},
		{"-Infinity", math.Inf(-1)},
		{`""`, ""},
		{`"abc"`, "abc"},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\u00e9\u00E9"`, "éé"},
		{`"\u0000"`, "\x00"},
		{`"\ud83d\ude00"`, "\U0001F600"},
		{`"\uD800\uDC00"`, "\U00010000"},
		{`"x\u2028y"`, "x\u2028y"},
		{"\"h\u00e9llo \U0001F600 \u2028\x7f\"", "héllo \U0001F600 \u2028\x7f"},
		{`"a\nb" `, "a\nb"},
		{" \t\r\n1 \t\r\n", int64(1)},
		{"[]", []any{}},
		{"[ ]", []any{}},
		{"[1, [2, []], {}]", []any{int64(1), []any{int64(2), []any{}}, py.NewDict(0)}},
		{`{"a":1,"b":[true,null]}`, py.DictOf("a", int64(1), "b", []any{true, nil})},
		{`{ "a" : 1 , "b" : 2 }`, py.DictOf("a", int64(1), "b", int64(2))},
		{`{"a": 1, "b": 2, "a": 3}`, py.DictOf("a", int64(3), "b", int64(2))},
		{`{"1": "a"}`, py.DictOf("1", "a")},
		{`[NaN, Infinity, -Infinity]`, []any{math.NaN(), math.Inf(1), math.Inf(-1)}},
	}
	for want, v := range dumpValues() {
		tests = append(tests, struct {
			in   string
			want any
		}{want, v})
	}
	var dec Decoder
	for _, tt := range tests {
		got, err := dec.Decode([]byte(tt.in))
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !py.Same(got, tt.want) {
			t.Errorf("%q: got %s, want %s", tt.in, py.Repr(got), py.Repr(tt.want))
		}
	}
}

func TestDecodeDuplicateKeyOrder(t *testing.T) {
	got, err := (&Decoder{}).Decode([]byte(`{"a": 1, "b": 2, "a": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	d := got.(*py.Dict)
	if d.Len() != 2 || d.Key(0) != "a" || d.Value(0) != int64(3) || d.Key(1) != "b" {
		t.Fatalf("got %s, want {'a': 3, 'b': 2} in that order", py.Repr(d))
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in  string
		msg string
	}{
		{"", "expecting a value"},
		{"   ", "expecting a value"},
		{"\xef\xbb\xbf1", "byte order mark"},
		{"[1,]", "expecting a value"},
		{"[1 2]", "expecting ',' or ']'"},
		{"{\"a\" 1}", "expecting ':'"},
		{"{\"a\": 1,}", "property name"},
		{"{'a': 1}", "property name"},
		{"{1: 1}", "property name"},
		{"01", "extra data"},
		{"1.", "digit expected after '.'"},
		{".5", "expecting a value"},
		{"+1", "expecting a value"},
		{"1e", "exponent"},
		{"1e+", "exponent"},
		{"-", "expecting a value"},
		{"-NaN", "expecting a value"},
		{"nan", "expecting a value"},
		{"infinity", "expecting a value"},
		{"True", "expecting a value"},
		{"nul", "expecting a value"},
		{`"abc`, "unterminated string"},
		{`"abc\"`, "unterminated string"},
		{`"a\`, "unterminated string"},
		{"\"a\x00\"", "control character"},
		{"\"a\x1f\"", "control character"},
		{"\"a\tb\"", "control character"},
		{`"\x41"`, "invalid \\escape"},
		{`"\U0041"`, "invalid \\escape"},
		{`"\u00"`, "invalid \\u escape"},
		{`"\u00g0"`, "invalid \\u escape"},
		{`"\ud800"`, "lone surrogate \\ud800"},
		{`"\udc00"`, "lone surrogate \\udc00"},
		{`"\ud800\u0041"`, "lone surrogate"},
		{`"\udc00\ud800"`, "lone surrogate"},
		{"\"\xff\"", "invalid UTF-8"},
		{"\"\xc3\"", "invalid UTF-8"},
		{"\"\xed\xa0\x80\"", "invalid UTF-8"},
		{"\"\\n\xc0\x80\"", "invalid UTF-8"},
		{"\xc3\xa9", "unexpected byte 0xc3"},
		{"1 2", "extra data"},
		{"[] x", "extra data"},
		{"\u00a01", "expecting a value"},
		{"1\x0c", "extra data"},
		{"[", "expecting a value"},
		{"{", "property name"},
		{`{"a"`, "expecting ':'"},
		{`{"a":`, "expecting a value"},
		{`{"a":1`, "expecting ',' or '}'"},
	}
	var dec Decoder
	for _, tt := range tests {
		v, err := dec.Decode([]byte(tt.in))
		if err == nil {
			t.Errorf("%q: no error, got %s", tt.in, py.Repr(v))
			continue
		}
		if !errors.Is(err, py.ErrSyntax) {
			t.Errorf("%q: %v is not ErrSyntax", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: error %q does not contain %q", tt.in, err, tt.msg)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	tests := []struct {
		lim   py.Limits
		in    string
		limit string
	}{
		{py.Limits{MaxDepth: 2}, "[[[]]]", "depth"},
		{py.Limits{MaxDepth: 2}, `{"a": {"b": {}}}`, "depth"},
		{py.Limits{MaxItems: 3}, "[1, 2, [3]]", "items"},
		{py.Limits{MaxItems: 3}, `{"a": 1, "b": 2, "c": 3, "d": 4}`, "items"},
		{py.Limits{MaxStringLen: 3}, `"abcd"`, "string length"},
		{py.Limits{MaxStringLen: 3}, `"ab\u00e9"`, "string length"},
		{py.Limits{MaxStringLen: 3}, `{"abcd": 1}`, "string length"},
		{py.Limits{MaxIntDigits: 3}, "1234", "int digits"},
		{py.Limits{MaxIntDigits: 3}, "-1234", "int digits"},
		{py.Limits{}, strings.Repeat("1", 4301), "int digits"},
		{py.Limits{}, strings.Repeat("[", 1001) + strings.Repeat("]", 1001), "depth"},
	}
	for _, tt := range tests {
		_, err := (&Decoder{Limits: tt.lim}).Decode([]byte(tt.in))
		var le *py.LimitError
		if !errors.As(err, &le) || !errors.Is(err, py.ErrLimit) || le.Limit != tt.limit || le.Format != "json" {
			t.Errorf("%.40q with %+v: got %v, want %s limit error", tt.in, tt.lim, err, tt.limit)
		}
	}
	ok := []struct {
		lim py.Limits
		in  string
	}{
		{py.Limits{MaxDepth: 3}, "[[[]]]"},
		{py.Limits{MaxItems: 3}, "[1, 2, []]"},
		{py.Limits{MaxStringLen: 3}, `"a\u00e9"`},
		{py.Limits{MaxStringLen: 4}, `"ab\u00e9"`},
		{py.Limits{MaxIntDigits: 3}, "-123"},
		{py.Limits{MaxIntDigits: 3}, "12345.0"},
		{py.Limits{}, strings.Repeat("1", 4300)},
		{py.Limits{}, strings.Repeat("[", 1000) + strings.Repeat("]", 1000)},
		{py.Limits{MaxDepth: -1}, strings.Repeat("[", 5000) + strings.Repeat("]", 5000)},
	}
	for _, tt := range ok {
		if _, err := (&Decoder{Limits: tt.lim}).Decode([]byte(tt.in)); err != nil {
			t.Errorf("%.40q with %+v: %v", tt.in, tt.lim, err)
		}
	}
}

func TestDictHook(t *testing.T) {
	calls := 0
	dec := Decoder{DictHook: func(d *py.Dict) (any, error) {
		calls++
		if e, ok := py.ExceptionFromDict(d); ok {
			return e, nil
		}
		if v, ok := d.GetString("fail"); ok && v == true {
			return nil, errors.New("hook refused")
		}
		return d, nil
	}}
	in := `[{"__class__": "builtins.ValueError", "__exception__": true, "args": ["bad", 12], "attributes": {"_pyroTraceback": ["tb\n"]}}, {"x": {}}]`
	got, err := dec.Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"bad", int64(12)},
			Attributes: py.DictOf("_pyroTraceback", []any{"tb\n"})},
		py.DictOf("x", py.NewDict(0)),
	}
	if !py.Same(got, want) {
		t.Fatalf("got %s, want %s", py.Repr(got), py.Repr(want))
	}
	if calls != 4 {
		t.Errorf("hook called %d times, want 4 (attributes, exception, inner, outer)", calls)
	}
	_, err = dec.Decode([]byte(`[{"fail": true}]`))
	if err == nil || err.Error() != "hook refused" {
		t.Errorf("hook error not passed on: %v", err)
	}
}

func TestNilDecoder(t *testing.T) {
	var dec *Decoder
	v, err := dec.Decode([]byte("[1]"))
	if err != nil || !py.Same(v, []any{int64(1)}) {
		t.Fatalf("got %v, %v", v, err)
	}
}

// TestConcurrent: one Decoder and one Encoder shared by goroutines (run
// with -race).
func TestConcurrent(t *testing.T) {
	var dec Decoder
	var enc Encoder
	done := make(chan error, 4)
	for range 4 {
		go func() {
			for range 200 {
				v, err := dec.Decode([]byte(dumpConnectOK))
				if err != nil {
					done <- err
					return
				}
				b, err := enc.Append(nil, v)
				if err != nil || string(b) != dumpConnectOK {
					done <- fmt.Errorf("got %q, %v", b, err)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
