package pymsgpack

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"

	"github.com/pyrogo/pyro/py"
)

func isDecodeError(err error) bool {
	return errors.Is(err, py.ErrSyntax) || errors.Is(err, py.ErrLimit) || errors.Is(err, py.ErrUnsupported)
}

// richPayload holds every type and extension code.
func richPayload(t testing.TB) []byte {
	v := []any{[]any{nil, true, false, int64(-1), int64(200), int64(-200), int64(70000), int64(1 << 40)}, testkit.BigInt("-99999999999999999999999"),
		1.5, "h\u00e9\U0001F600", []byte{1, 2}, complex(1, -1), py.DictOf("a", py.DictOf(int64(1), []any{}), []byte("k"), 2.5),
		&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"x"}}}
	b, err := (&Encoder{}).Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] > 0x9c {
		t.Fatal("richPayload: too many elements for a fixarray")
	}
	b[0]++ // one more element: a datetime, a date and a timestamp
	b = append(b, cat(h("d7 32"), le64(0x41d966a5d1400000))...)
	b[0]++
	b = append(b, cat(h("d7 33"), le64(738887))...)
	b[0]++
	return append(b, h("d6 ff 00 00 00 01")...)
}

func TestTruncation(t *testing.T) {
	exc, err := (&Encoder{}).Append(nil, &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"bad", int64(12)},
		Attributes: py.DictOf("_pyroTraceback", []any{"a\n"})})
	if err != nil {
		t.Fatal(err)
	}
	var dec Decoder
	for _, p := range [][]byte{dumpInvoke, dumpResult, exc, richPayload(t)} {
		if _, err := dec.Decode(p); err != nil {
			t.Fatalf("full payload % x: %v", trunc(p), err)
		}
		for i := 0; i < len(p); i++ {
			v, err := dec.Decode(p[:i])
			if err == nil {
				t.Errorf("prefix % x decoded to %s", p[:i], py.Repr(v))
			} else if !errors.Is(err, py.ErrSyntax) {
				t.Errorf("prefix % x: %v is not ErrSyntax", p[:i], err)
			}
		}
	}
}

func TestHostile(t *testing.T) {
	const deep = 1_000_000
	type tc struct {
		name string
		b    []byte
		lim  py.Limits
		want error // nil: must succeed
	}
	tests := []tc{
		{"array32 2^32-1 with 10 bytes", cat(h("dd ff ff ff ff"), zeros(10)), py.Limits{}, py.ErrSyntax},
		{"map32 2^32-1 with 10 bytes", cat(h("df ff ff ff ff"), zeros(10)), py.Limits{}, py.ErrSyntax},
		{"str32 2^32-1", cat(h("db ff ff ff ff"), zeros(10)), py.Limits{}, py.ErrSyntax},
		{"bin32 2^32-1", cat(h("c6 ff ff ff ff"), zeros(10)), py.Limits{}, py.ErrSyntax},
		{"ext32 2^32-1", cat(h("c9 ff ff ff ff 31"), zeros(10)), py.Limits{}, py.ErrSyntax},
		{"array16 65535 with 3 bytes", h("dc ff ff c0 c0 c0"), py.Limits{}, py.ErrSyntax},
		{"nested huge arrays", bytes.Repeat(h("dd 00 01 00 00"), 1000), py.Limits{}, py.ErrSyntax},
		{"10^6 nested arrays", cat(bytes.Repeat(h("91"), deep), h("c0")), py.Limits{}, py.ErrLimit},
		{"10^6 nested maps", cat(bytes.Repeat(h("81 01"), deep), h("c0")), py.Limits{}, py.ErrLimit},
		{"10^6 nested array16", cat(bytes.Repeat(h("dc 00 01"), deep), h("c0")), py.Limits{}, py.ErrLimit},
		{"10^6 nils", cat(h("dd 00 0f 42 40"), bytes.Repeat(h("c0"), deep)), py.Limits{}, nil},
		{"10^6 nils over the item limit", cat(h("dd 00 0f 42 40"), bytes.Repeat(h("c0"), deep)), py.Limits{MaxItems: 1000}, py.ErrLimit},
		{"10^5 empty lists", cat(h("dd 00 01 86 a0"), bytes.Repeat(h("90"), 100_000)), py.Limits{}, nil},
		{"10^5 distinct int keys", intKeyMap(100_000), py.Limits{}, nil},
		{"10^6 equal keys", cat(h("df 00 0f 42 40"), bytes.Repeat(h("01 c0"), deep)), py.Limits{}, nil},
		{"10^6-digit big int", cat(h("c9 00 0f 42 40 31"), bytes.Repeat([]byte("7"), deep)), py.Limits{}, py.ErrLimit},
		{"4300-digit big int", cat(h("c8 10 cc 31"), bytes.Repeat([]byte("7"), 4300)), py.Limits{}, nil},
		{"long str over limit", cat(h("db 00 10 00 00"), bytes.Repeat([]byte("a"), 1<<20)), py.Limits{MaxStringLen: 1 << 19}, py.ErrLimit},
		{"long bin over limit", cat(h("c6 00 10 00 00"), zeros(1<<20)), py.Limits{MaxStringLen: 1 << 19}, py.ErrLimit},
		{"invalid UTF-8 key", h("81 a1 ff 01"), py.Limits{}, py.ErrSyntax},
		{"UTF-8 surrogate", h("a3 ed b0 80"), py.Limits{}, py.ErrSyntax},
		{"5-byte UTF-8", h("a5 f8 88 80 80 80"), py.Limits{}, py.ErrSyntax},
		{"list key", h("81 90 01"), py.Limits{}, py.ErrSyntax},
		{"0xc1", h("91 c1"), py.Limits{}, py.ErrSyntax},
		{"trailing garbage", cat(dumpInvoke, h("00")), py.Limits{}, py.ErrSyntax},
		{"two payloads", cat(dumpResult, dumpResult), py.Limits{}, py.ErrSyntax},
		{"complex of 15 bytes", cat(h("c7 0f 30"), zeros(15)), py.Limits{}, py.ErrSyntax},
		{"complex of 17 bytes", cat(h("c7 11 30"), zeros(17)), py.Limits{}, py.ErrSyntax},
		{"datetime of 7 bytes", cat(h("c7 07 32"), zeros(7)), py.Limits{}, py.ErrSyntax},
		{"date of 9 bytes", cat(h("c7 09 33"), zeros(9)), py.Limits{}, py.ErrSyntax},
		{"datetime -1e20", cat(h("d7 32"), le64(0xc415af1d78b58c40)), py.Limits{}, py.ErrSyntax},
		{"date ordinal max int64", h("d7 33 ff ff ff ff ff ff ff 7f"), py.Limits{}, py.ErrSyntax},
		{"timestamp of 0 bytes", h("c7 00 ff"), py.Limits{}, py.ErrSyntax},
		{"big int NUL digits", h("c7 03 31 00 00 00"), py.Limits{}, py.ErrSyntax},
	}
	// Every unknown extension code.
	for code := -128; code < 128; code++ {
		switch code {
		case extComplex, extBigInt, extDatetime, extDate, extTimestamp:
			continue
		}
		tests = append(tests, tc{fmt.Sprintf("ext code %d", code), []byte{0xd4, byte(int8(code)), 0}, py.Limits{}, py.ErrSyntax})
	}
	var dec Decoder
	for _, tt := range tests {
		dec.Limits = tt.lim
		start := time.Now()
		v, err := dec.Decode(tt.b)
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

func intKeyMap(n int) []byte {
	b := h("de")
	b = append(b, byte(n>>8), byte(n))
	if n > 0xffff {
		b = append(h("df"), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	for i := range n {
		b = append(b, 0xce, byte(i>>24), byte(i>>16), byte(i>>8), byte(i), 0xc0)
	}
	return b
}
