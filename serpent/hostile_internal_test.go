package serpent

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"

	"github.com/pyrogo/pyro/py"
)

const mega = 1_000_000

// decodeBounded decodes in with d and reports the result, the time taken
// and the bytes allocated.
func decodeBounded(d *Decoder, in []byte) (v any, took time.Duration, alloc uint64, err error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	v, err = d.Decode(in)
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	return v, took, after.TotalAlloc - before.TotalAlloc, err
}

// checkBounds fails when decoding took too long or allocated more than a
// small factor of the input size.
func checkBounds(t *testing.T, name string, in []byte, took time.Duration, alloc uint64) {
	t.Helper()
	if took > testbound.Scale(10*time.Second) { // generous: the machine may be busy; hangs take far longer
		t.Errorf("%s: took %v", name, took)
	}
	if testing.Verbose() && alloc > uint64(len(in)) {
		t.Logf("%s: %v, %d bytes allocated for %d input bytes (x%.1f)", name, took, alloc, len(in), float64(alloc)/float64(len(in)+1))
	}
	if limit := uint64(64*len(in) + 4<<20); alloc > limit {
		t.Errorf("%s: allocated %d bytes for %d bytes of input", name, alloc, len(in))
	}
}

func TestHostileInput(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name  string
		in    string
		lim   py.Limits
		limit bool // expect ErrLimit rather than ErrSyntax
	}{
		{"empty input", "", py.Limits{}, false},
		{"only the header", Header, py.Limits{}, false},
		{"only comments and blank lines", r("# c\n\n", 1000), py.Limits{}, false},
		{"a million backslash continuations", r("\\\n", mega), py.Limits{}, false},
		{"a comment of a million bytes", r("#", mega), py.Limits{}, false},
		{"truncated list", Header + "[1,2", py.Limits{}, false},
		{"truncated dict", Header + "{'a':", py.Limits{}, false},
		{"truncated tuple", "(", py.Limits{}, false},
		{"truncated call", Header + "('Pyro.NameServer','lookup',('Pyro.NameServer',),{}", py.Limits{}, false},
		{"10^6-deep list", r("[", mega), py.Limits{}, true},
		{"10^6-deep balanced list", r("[", mega) + r("]", mega), py.Limits{}, true},
		{"10^6-deep list without depth limit", r("[", mega) + r("]", mega), py.Limits{MaxDepth: -1}, true},
		{"10^6-deep parentheses", r("(", mega) + "1" + r(")", mega), py.Limits{}, true},
		{"10^6-deep dicts", r("{1:", mega), py.Limits{}, true},
		{"10^6-deep sets in tuples", r("({", mega), py.Limits{}, true},
		{"10^6-digit int", r("9", mega), py.Limits{}, true},
		{"10^6-digit negative int in a list", "[-" + r("7", mega) + "]", py.Limits{}, true},
		{"10^6-digit hex int", "0x" + r("f", mega), py.Limits{}, true},
		{"10^6-digit binary int", "0b" + r("1", mega), py.Limits{}, true},
		{"big int beyond MaxIntDigits", "1" + r("0", 5000), py.Limits{}, true},
		{"unterminated string", "'" + r("a", mega), py.Limits{}, false},
		{"unterminated triple-quoted string", "'''" + r("a'", mega), py.Limits{}, false},
		{"unterminated string ending in backslash", "'abc\\", py.Limits{}, false},
		{"string with a raw newline", "'a\nb'", py.Limits{}, false},
		{"invalid UTF-8 in a string", "'\xff\xfe'", py.Limits{}, false},
		{"overlong UTF-8", "'\xc0\x80'", py.Limits{}, false},
		{"UTF-8 encoded surrogate", "'\xed\xa0\x80'", py.Limits{}, false},
		{"truncated UTF-8 at the end", "'ab\xe2\x82", py.Limits{}, false},
		{"NUL byte", "'a\x00b'", py.Limits{}, false},
		{"NUL byte in the header", "# serpent\x00\n1", py.Limits{}, false},
		{"lone surrogate escape", `'\ud800'`, py.Limits{}, false},
		{"surrogate pair escapes", `'\ud83d\ude00'`, py.Limits{}, false},
		{"huge \\U value", `'\UFFFFFFFF'`, py.Limits{}, false},
		{"\\U just above the maximum", `'\U00110000'`, py.Limits{}, false},
		{"truncated \\x at the end", `'\x`, py.Limits{}, false},
		{"\\N escape", `'\N{LATIN SMALL LETTER A}'`, py.Limits{}, false},
		{"unbalanced ]", "[1]]", py.Limits{}, false},
		{"mismatched brackets", "(]", py.Limits{}, false},
		{"mismatched braces", "{1:2)", py.Limits{}, false},
		{"closing bracket only", ")", py.Limits{}, false},
		{"garbage after the value", Header + "{'a':1} garbage", py.Limits{}, false},
		{"second value", "1 2", py.Limits{}, false},
		{"deeply nested unary minus", r("-", mega) + "1", py.Limits{}, false},
		{"alternating unary signs", r("-+", mega) + "1", py.Limits{}, false},
		{"unary minus on parentheses", "-" + r("(", 100) + "-1" + r(")", 100), py.Limits{}, false},
		{"binary operator chain", "1" + r("+1j", 1000), py.Limits{}, false},
		{"names", "__import__('os')", py.Limits{}, false},
		{"call", "set([1,2])", py.Limits{}, false},
		{"attribute", "(1).real", py.Limits{}, false},
		{"lambda", "lambda: 0", py.Limits{}, false},
		{"f-string", "f'{1}'", py.Limits{}, false},
		{"Ellipsis", "...", py.Limits{}, false},
		{"unhashable key", "{[]:1}", py.Limits{}, false},
		{"deeply nested tuple key", "{" + r("(", 500) + "1" + r(",)", 500) + ":1}", py.Limits{}, true},
		{"many deeply nested tuple set members", "{" + r(r("(", 40)+"1"+r(",)", 40)+",", 10000) + "}", py.Limits{}, true},
		{"dict as set member", "{{}}", py.Limits{}, false},
		{"many items", "[" + r("1,", mega) + "]", py.Limits{MaxItems: 1000}, true},
		{"many dict items", "{" + r("1:1,", mega) + "}", py.Limits{MaxItems: 1000}, true},
		{"long string", "'" + r("a", mega) + "'", py.Limits{MaxStringLen: 1000}, true},
		{"long escaped string", "'" + r(`\x41`, mega) + "'", py.Limits{MaxStringLen: 1000}, true},
		{"long concatenation", r("'aaaa' ", mega/4), py.Limits{MaxStringLen: 1000}, true},
		{"long bytes", "b'" + r("a", mega) + "'", py.Limits{MaxStringLen: 1000}, true},
		{"bytes with raw non-ASCII", "b'\u00e9'", py.Limits{}, false},
		{"mixed bytes and str", "b'a' 'b'", py.Limits{}, false},
		{"1e", "1e", py.Limits{}, false},
		{"leading zeros", "0" + r("1", 100), py.Limits{}, false},
		{"many underscores", "1" + r("_", mega) + "1", py.Limits{}, false},
		{"BOM", "\ufeff1", py.Limits{}, false},
	}
	for _, tc := range tests {
		in := []byte(tc.in)
		d := &Decoder{Limits: tc.lim}
		v, took, alloc, err := decodeBounded(d, in)
		if err == nil {
			t.Errorf("%s: decoded %.100s, want an error", tc.name, py.Repr(v))
			continue
		}
		want := py.ErrSyntax
		if tc.limit {
			want = py.ErrLimit
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %T %v, want %v", tc.name, err, err, want)
		}
		checkBounds(t, tc.name, in, took, alloc)
	}
}

// TestHostileValidInput: inputs that look hostile but are valid Python
// literals; they must decode quickly and within memory bounds.
func TestHostileValidInput(t *testing.T) {
	r := strings.Repeat
	const lots = 300_000 // bytes; kept moderate so the test stays fast on a busy machine
	tests := []struct {
		name  string
		in    string
		check func(any) bool
	}{
		{"1e999999999999 is +inf, as in Python", "1e999999999999", func(v any) bool { return v == math.Inf(1) }},
		{"-1e999999999999 is -inf", "-1e999999999999", func(v any) bool { return v == math.Inf(-1) }},
		{"1e-999999999999 is 0.0", "1e-999999999999", func(v any) bool { return v == 0.0 }},
		{"a float with many digits", r("1", lots) + ".5", func(v any) bool { return v.(float64) > 1e300 || math.IsInf(v.(float64), 1) }},
		{"a float with many fraction digits", "0." + r("3", lots), func(v any) bool { return v == 1.0/3 }},
		{"an exponent with many digits", "1e" + r("0", lots), func(v any) bool { return v == 1.0 }},
		{"4300-digit int", r("9", 4300), func(v any) bool { return py.TypeName(v) == "int" }},
		{"many duplicate keys", "{" + r("1:1,", lots/4) + "}", func(v any) bool { return v.(*py.Dict).Len() == 1 }},
		{"many equal set members", "{" + r("1,", lots/2) + "}", func(v any) bool { return v.(*py.Set).Len() == 1 }},
		{"many empty lists", "[" + r("[],", lots/3) + "]", func(v any) bool { return len(v.([]any)) == lots/3 }},
		{"many empty dicts", "[" + r("{},", lots/3) + "]", func(v any) bool { return len(v.([]any)) == lots/3 }},
		{"many empty strings", "[" + r("'',", lots/3) + "]", func(v any) bool { return len(v.([]any)) == lots/3 }},
		{"many small ints", "[" + r("1,", lots/2) + "]", func(v any) bool { return len(v.([]any)) == lots/2 }},
		{"string concatenation", r("'ab' ", lots/5), func(v any) bool { return len(v.(string)) == 2*lots/5 }},
		{"1000-deep list", r("[", 1000) + r("]", 1000), func(v any) bool { return true }},
		{"many 32-deep tuple keys", "{" + r(r("(", 32)+"1"+r(",)", 32)+":1,", 3000) + "}", func(v any) bool { return v.(*py.Dict).Len() == 1 }},
		{"a long string", "'" + r("x", lots) + "'", func(v any) bool { return len(v.(string)) == lots }},
		{"a long run of escapes", "'" + r(`\n`, lots/2) + "'", func(v any) bool { return len(v.(string)) == lots/2 }},
	}
	for _, tc := range tests {
		in := []byte(tc.in)
		v, took, alloc, err := decodeBounded(&Decoder{}, in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !tc.check(v) {
			t.Errorf("%s: unexpected value %.100s", tc.name, py.Repr(v))
		}
		checkBounds(t, tc.name, in, took, alloc)
	}
}
