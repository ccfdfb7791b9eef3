package marshal

import (
	"bytes"
	"math"
	"math/big"
	"testing"

	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// valueGen generates model values (and the two singletons) nested up to
// depth containers deep.
func valueGen(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any { return drawValue(t, depth, false) })
}

var specialFloats = []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1),
	math.MaxFloat64, math.SmallestNonzeroFloat64, 1.5, 0.1, 1e22}

// drawFloat draws a float; a hashable one is never NaN, because a NaN key
// is not equal to itself and py.Same could not find it again.
func drawFloat(t *rapid.T, label string, hashable bool) float64 {
	f := rapid.Float64().Draw(t, label)
	if rapid.Bool().Draw(t, label+"-special") {
		f = rapid.SampledFrom(specialFloats).Draw(t, label)
	}
	if hashable && math.IsNaN(f) {
		return 1
	}
	return f
}

// drawValue draws one value; hashable restricts it to what may be a dict
// key or set member.
func drawValue(t *rapid.T, depth int, hashable bool) any {
	kinds := 12
	if depth > 0 {
		kinds += 5
	}
	switch k := rapid.IntRange(0, kinds-1).Draw(t, "kind"); k {
	case 0:
		return nil
	case 1:
		return rapid.Bool().Draw(t, "bool")
	case 2:
		return int64(rapid.Int32().Draw(t, "int32"))
	case 3:
		return rapid.Int64().Draw(t, "int64")
	case 4:
		mag := rapid.SliceOfN(rapid.Byte(), 1, 60).Draw(t, "bigmag")
		b := new(big.Int).SetBytes(mag)
		if rapid.Bool().Draw(t, "bigneg") {
			b.Neg(b)
		}
		return py.NormalizeInt(b)
	case 5:
		return drawFloat(t, "float", hashable)
	case 6:
		return complex(drawFloat(t, "re", hashable), drawFloat(t, "im", hashable))
	case 7:
		return rapid.String().Draw(t, "str")
	case 8:
		return rapid.StringOfN(rapid.RuneFrom([]rune("abé\U0001F600\x00")), 250, 300, -1).Draw(t, "longstr")
	case 9:
		return rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")
	case 10:
		if hashable {
			return rapid.Int64().Draw(t, "int64")
		}
		return rapid.SampledFrom([]Singleton{StopIteration, Ellipsis}).Draw(t, "singleton")
	case 11:
		return rapid.StringMatching(`[a-z_]{0,12}`).Draw(t, "ascii")
	case 12: // tuple
		n := rapid.IntRange(0, 5).Draw(t, "n")
		if rapid.IntRange(0, 20).Draw(t, "bigtuple") == 0 {
			n = 256 + n
		}
		tup := make(py.Tuple, n)
		for i := range tup {
			tup[i] = drawValue(t, depth-1, hashable)
		}
		return tup
	case 13: // frozenset
		s := py.NewSet(0, true)
		for n := rapid.IntRange(0, 5).Draw(t, "n"); n > 0; n-- {
			_ = s.Add(drawValue(t, depth-1, true))
		}
		return s
	case 14, 15, 16:
		if hashable {
			return rapid.String().Draw(t, "str")
		}
		n := rapid.IntRange(0, 5).Draw(t, "n")
		switch k {
		case 14:
			l := make([]any, n)
			for i := range l {
				l[i] = drawValue(t, depth-1, false)
			}
			return l
		case 15:
			d := py.NewDict(n)
			for ; n > 0; n-- {
				_ = d.Set(drawValue(t, depth-1, true), drawValue(t, depth-1, false))
			}
			return d
		default:
			s := py.NewSet(n, false)
			for ; n > 0; n-- {
				_ = s.Add(drawValue(t, depth-1, true))
			}
			return s
		}
	}
	panic("unreachable")
}

func TestRoundTripProperty(t *testing.T) {
	gen := valueGen(4)
	rapid.Check(t, func(t *rapid.T) {
		v := gen.Draw(t, "v")
		prefix := []byte("prefix")
		b, err := (&Encoder{}).Append(prefix, v)
		if err != nil {
			t.Fatalf("encode %s: %v", py.Repr(v), err)
		}
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatalf("Append lost the prefix")
		}
		got, err := Unmarshal(b[len(prefix):])
		if err != nil {
			t.Fatalf("decode %s (%x): %v", py.Repr(v), b, err)
		}
		if !py.Same(got, v) {
			t.Fatalf("round trip of %s gave %s", py.Repr(v), py.Repr(got))
		}
	})
}

// An exception travels as its dict form and is recognised again.
func TestRoundTripException(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := py.NewException("builtins."+rapid.StringMatching(`[A-Z][a-z]{0,8}Error`).Draw(t, "cls"),
			rapid.String().Draw(t, "msg"), rapid.SliceOf(rapid.String()).Draw(t, "tb"))
		e.Args = append(e.Args, drawValue(t, 2, false))
		b, err := Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if !py.Same(got, e.PyroClassDict()) {
			t.Fatalf("got %s want %s", py.Repr(got), py.Repr(e.PyroClassDict()))
		}
		back, ok := py.ExceptionFromDict(got.(*py.Dict))
		if !ok || !py.Same(back, e) {
			t.Fatalf("ExceptionFromDict gave %#v, want %#v", back, e)
		}
	})
}
