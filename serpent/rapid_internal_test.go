package serpent

import (
	"math"
	"math/big"
	"testing"
	"unicode"

	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// A small generator of model values that serpent can represent exactly:
// no NaN (written as a class dict), no empty sets (written as ()), no
// frozensets (read back as sets), bytes only with Encoder.BytesRepr (the
// base64 dict is not read back as bytes), and dict keys / set members of
// the kinds serpent accepts.

type gen struct {
	bytes    bool // allow []byte values and keys
	maxDepth int
}

var interestingRunes = rapid.OneOf(
	rapid.RuneFrom([]rune{'\'', '"', '\\', '\n', '\r', '\t', 0, 0x7f, 0xa0, 0xad, 0x200b, 0x2028, 0xfeff, 0xffff, 0x10ffff, 0x1f600, 0xe0001, 0x0cf3, 0x31350}),
	rapid.RuneFrom(nil, unicode.Cc, unicode.Cf, unicode.Zs, unicode.Zl, unicode.Co, unicode.Mn),
	rapid.RuneFrom(nil, unicode.Latin, unicode.Greek, unicode.Han),
	rapid.Rune(),
)

func (g gen) str(t *rapid.T) string {
	return rapid.StringOfN(interestingRunes, 0, 12, -1).Draw(t, "str")
}

func (g gen) float(t *rapid.T) float64 {
	switch rapid.IntRange(0, 3).Draw(t, "fkind") {
	case 0:
		return rapid.SampledFrom([]float64{0, negZ, inf, negInf, 5e-324, math.MaxFloat64, 1e16, 1e-5, 0.1, 1e22}).Draw(t, "fspecial")
	case 1:
		return float64(rapid.Int64Range(-1e6, 1e6).Draw(t, "fint"))
	default:
		f := math.Float64frombits(rapid.Uint64().Draw(t, "fbits"))
		if math.IsNaN(f) {
			return 1.5
		}
		return f
	}
}

func (g gen) int(t *rapid.T) any {
	if rapid.IntRange(0, 4).Draw(t, "ibig") == 0 {
		digits := rapid.StringOfN(rapid.RuneFrom([]rune("0123456789")), 1, 60, -1).Draw(t, "digits")
		b, _ := new(big.Int).SetString(digits, 10)
		if rapid.Bool().Draw(t, "ineg") {
			b.Neg(b)
		}
		return py.NormalizeInt(b)
	}
	return rapid.Int64().Draw(t, "int")
}

// key returns a value usable as dict key or set member.
func (g gen) key(t *rapid.T, depth int, top bool) any {
	n := 6
	if depth < g.maxDepth {
		n = 7
	}
	switch rapid.IntRange(0, n).Draw(t, "kkind") {
	case 0:
		return rapid.Bool().Draw(t, "kbool")
	case 1:
		return g.int(t)
	case 2:
		return g.float(t)
	case 3:
		return complex(g.float(t), g.float(t))
	case 4:
		if g.bytes {
			return []byte(g.str(t))
		}
		return g.str(t)
	case 5:
		if !top {
			return nil
		}
		return g.str(t)
	case 7:
		k := rapid.IntRange(0, 3).Draw(t, "ktuplen")
		tu := make(py.Tuple, k)
		for i := range tu {
			tu[i] = g.key(t, depth+1, false)
		}
		return tu
	}
	return g.str(t)
}

func (g gen) value(t *rapid.T, depth int) any {
	n := 7
	if depth < g.maxDepth {
		n = 11
	}
	switch rapid.IntRange(0, n).Draw(t, "kind") {
	case 0:
		return nil
	case 1:
		return rapid.Bool().Draw(t, "bool")
	case 2:
		return g.int(t)
	case 3:
		return g.float(t)
	case 4:
		return complex(g.float(t), g.float(t))
	case 5:
		if g.bytes {
			return []byte(g.str(t))
		}
		return g.str(t)
	case 8:
		k := rapid.IntRange(0, 4).Draw(t, "tuplen")
		tu := make(py.Tuple, k)
		for i := range tu {
			tu[i] = g.value(t, depth+1)
		}
		return tu
	case 9:
		k := rapid.IntRange(0, 4).Draw(t, "listlen")
		l := make([]any, k)
		for i := range l {
			l[i] = g.value(t, depth+1)
		}
		return l
	case 10:
		k := rapid.IntRange(0, 4).Draw(t, "dictlen")
		d := py.NewDict(k)
		for range k {
			if err := d.Set(g.key(t, depth+1, true), g.value(t, depth+1)); err != nil {
				t.Fatal(err)
			}
		}
		return d
	case 11:
		k := rapid.IntRange(1, 4).Draw(t, "setlen")
		s := py.NewSet(k, false)
		for range k {
			if err := s.Add(g.key(t, depth+1, true)); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	return g.str(t)
}

// top draws a tuple of a few values, so that most examples are nested.
func (g gen) top(t *rapid.T) any {
	if rapid.IntRange(0, 4).Draw(t, "scalar") == 0 {
		return g.value(t, 0)
	}
	tu := make(py.Tuple, rapid.IntRange(0, 5).Draw(t, "toplen"))
	for i := range tu {
		tu[i] = g.value(t, 1)
	}
	return tu
}

func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := gen{maxDepth: 4}.top(t)
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%s): %v", py.Repr(v), err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(%q): %v", b, err)
		}
		if !py.Same(got, v) {
			t.Fatalf("round trip of %s via %q gave %s", py.Repr(v), b, py.Repr(got))
		}
	})
}

func TestRoundTripBytesReprProperty(t *testing.T) {
	enc := Encoder{BytesRepr: true, NoHeader: true}
	rapid.Check(t, func(t *rapid.T) {
		v := gen{maxDepth: 3, bytes: true}.top(t)
		b, err := enc.Append(nil, v)
		if err != nil {
			t.Fatalf("Append(%s): %v", py.Repr(v), err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(%q): %v", b, err)
		}
		if !py.Same(got, v) {
			t.Fatalf("round trip of %s via %q gave %s", py.Repr(v), b, py.Repr(got))
		}
	})
}

// TestStringProperty round-trips arbitrary strings (valid UTF-8).
func TestStringProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringOf(interestingRunes).Draw(t, "s")
		b, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil || got != s {
			t.Fatalf("%q via %q gave %q, %v", s, b, got, err)
		}
	})
}
