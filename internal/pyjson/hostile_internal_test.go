package pyjson

import (
	"errors"
	"github.com/pyrogo/pyro/internal/testbound"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/py"
)

// isDecodeError reports whether err is one of the documented decoder
// errors.
func isDecodeError(err error) bool {
	return errors.Is(err, py.ErrSyntax) || errors.Is(err, py.ErrLimit) || errors.Is(err, py.ErrUnsupported)
}

func TestTruncation(t *testing.T) {
	payloads := []string{dumpConnect, dumpConnectOK, dumpInvoke, dumpResult,
		`{"__class__": "builtins.ValueError", "__exception__": true, "args": ["bad \u00e9 \ud83d\ude00", -12, 1.5e-7, NaN, -Infinity], "attributes": {"_pyroTraceback": ["a\n"]}}`,
		`[true, false, null, 123456789012345678901234567890, "h\u00e9 \"x\"` + "\u00e9\U0001F600" + `"]`,
	}
	var dec Decoder
	for _, p := range payloads {
		if _, err := dec.Decode([]byte(p)); err != nil {
			t.Fatalf("full payload %q: %v", p, err)
		}
		for i := 0; i < len(p); i++ {
			v, err := dec.Decode([]byte(p[:i]))
			// A few prefixes are complete values (e.g. "[true, ... 1" never,
			// but a lone number prefix would be); all of ours are
			// containers, so every proper prefix must fail.
			if err == nil {
				t.Errorf("prefix %q decoded to %s", p[:i], py.Repr(v))
			} else if !errors.Is(err, py.ErrSyntax) {
				t.Errorf("prefix %q: %v is not ErrSyntax", p[:i], err)
			}
		}
	}
}

func TestHostile(t *testing.T) {
	deep := 1_000_000
	tests := []struct {
		name string
		in   string
		lim  py.Limits
		want error // nil: must succeed
	}{
		{"10^6 nested arrays", strings.Repeat("[", deep) + strings.Repeat("]", deep), py.Limits{}, py.ErrLimit},
		{"10^6 nested arrays unclosed", strings.Repeat("[", deep), py.Limits{}, py.ErrLimit},
		{"10^6 nested objects", strings.Repeat(`{"a":`, deep) + "1" + strings.Repeat("}", deep), py.Limits{}, py.ErrLimit},
		{"10^6 nested mixed", strings.Repeat(`[{"":`, deep/2), py.Limits{}, py.ErrLimit},
		{"10^6-digit int", strings.Repeat("7", deep), py.Limits{}, py.ErrLimit},
		{"10^6-digit negative int", "-" + strings.Repeat("7", deep), py.Limits{}, py.ErrLimit},
		{"10^6-digit float", strings.Repeat("7", deep) + ".5", py.Limits{}, nil},
		{"10^6-digit fraction", "0." + strings.Repeat("7", deep), py.Limits{}, nil},
		{"huge exponent", "1e" + strings.Repeat("9", 1000), py.Limits{}, nil},
		{"huge negative exponent", "1e-" + strings.Repeat("9", 1000), py.Limits{}, nil},
		{"many items over limit", "[" + strings.Repeat("1,", 2000) + "1]", py.Limits{MaxItems: 1000}, py.ErrLimit},
		{"many keys over limit", "{" + strings.Repeat(`"a":1,`, 2000) + `"a":1}`, py.Limits{MaxItems: 1000}, py.ErrLimit},
		{"10^6 duplicate keys", "{" + strings.Repeat(`"a":1,`, deep) + `"a":1}`, py.Limits{}, nil},
		{"10^5 distinct keys", "{" + distinctKeys(100_000) + "}", py.Limits{}, nil},
		{"long string over limit", `"` + strings.Repeat("x", 1<<20) + `"`, py.Limits{MaxStringLen: 1 << 19}, py.ErrLimit},
		{"escaped string over limit", `"` + strings.Repeat(`\u00e9`, 1<<18) + `"`, py.Limits{MaxStringLen: 1 << 18}, py.ErrLimit},
		{"unterminated long string", `"` + strings.Repeat("x", 1<<20), py.Limits{}, py.ErrSyntax},
		{"unterminated escaped string", `"` + strings.Repeat(`\n`, 1<<19), py.Limits{}, py.ErrSyntax},
		{"escape at the end", `"\`, py.Limits{}, py.ErrSyntax},
		{"lone high surrogate", `["\ud83d"]`, py.Limits{}, py.ErrSyntax},
		{"lone low surrogate", `["\ude00"]`, py.Limits{}, py.ErrSyntax},
		{"reversed pair", `"\ude00\ud83d"`, py.Limits{}, py.ErrSyntax},
		{"high surrogate at the end", `"\ud83d\u`, py.Limits{}, py.ErrSyntax},
		{"invalid UTF-8 0xff", "\"\xff\"", py.Limits{}, py.ErrSyntax},
		{"overlong NUL", "\"\xc0\x80\"", py.Limits{}, py.ErrSyntax},
		{"overlong slash", "\"\xe0\x80\xaf\"", py.Limits{}, py.ErrSyntax},
		{"UTF-8 surrogate", "\"\xed\xa0\x80\"", py.Limits{}, py.ErrSyntax},
		{"beyond U+10FFFF", "\"\xf4\x90\x80\x80\"", py.Limits{}, py.ErrSyntax},
		{"truncated sequence", "\"\xe2\x82\"", py.Limits{}, py.ErrSyntax},
		{"invalid UTF-8 in key", "{\"\xfe\": 1}", py.Limits{}, py.ErrSyntax},
		{"NUL outside string", "[1,\x00 2]", py.Limits{}, py.ErrSyntax},
		{"trailing garbage", dumpResult + "x", py.Limits{}, py.ErrSyntax},
		{"two documents", dumpInvoke + dumpInvoke, py.Limits{}, py.ErrSyntax},
		{"10 MB of whitespace", strings.Repeat(" ", 10<<20), py.Limits{}, py.ErrSyntax},
		{"10^6 commas", "[" + strings.Repeat(",", deep) + "]", py.Limits{}, py.ErrSyntax},
		{"BOM", "\xef\xbb\xbf" + dumpInvoke, py.Limits{}, py.ErrSyntax},
		{"single quotes", `{'a': 1}`, py.Limits{}, py.ErrSyntax},
		{"hex number", "0x10", py.Limits{}, py.ErrSyntax},
		{"comment", "[1 /* c */]", py.Limits{}, py.ErrSyntax},
	}
	var dec Decoder
	for _, tt := range tests {
		dec.Limits = tt.lim
		start := time.Now()
		v, err := dec.Decode([]byte(tt.in))
		if d := time.Since(start); d > testbound.Scale(2*time.Second) {
			t.Errorf("%s: took %v", tt.name, d)
		}
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != nil && err == nil:
			t.Errorf("%s: no error, got %.100s", tt.name, py.Repr(v))
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}
}

func distinctKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(strconv.Itoa(i))
		b.WriteString(`":1`)
	}
	return b.String()
}

func TestHugeFloatValues(t *testing.T) {
	var dec Decoder
	for in, want := range map[string]float64{
		strings.Repeat("7", 1000) + ".5":      math.Inf(1),
		"-" + strings.Repeat("7", 400) + ".0": math.Inf(-1),
		"1e" + strings.Repeat("9", 50):        math.Inf(1),
		"-1e-" + strings.Repeat("9", 50):      math.Copysign(0, -1),
	} {
		v, err := dec.Decode([]byte(in))
		if err != nil || !py.Same(v, want) {
			t.Errorf("%.30s...: got %v, %v; want %v", in, v, err, want)
		}
	}
}
