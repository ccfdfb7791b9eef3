package pygen

import (
	"math"
	"math/big"
	"testing"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// walk calls f on v and every value nested in it; keys reports dict keys.
func walk(v any, f func(v any, isKey bool)) {
	f(v, false)
	switch v := v.(type) {
	case py.Tuple:
		for _, e := range v {
			walk(e, f)
		}
	case []any:
		for _, e := range v {
			walk(e, f)
		}
	case *py.Dict:
		for k, e := range v.All() {
			f(k, true)
			walk(k, func(x any, _ bool) { f(x, false) })
			walk(e, f)
		}
	case *py.Set:
		for _, e := range v.Items() {
			walk(e, f)
		}
	case *py.Exception:
		walk(v.Args, f)
	}
}

func depthOf(v any) int {
	d := 0
	switch v := v.(type) {
	case py.Tuple:
		for _, e := range v {
			d = max(d, depthOf(e))
		}
		return d + 1
	case []any:
		for _, e := range v {
			d = max(d, depthOf(e))
		}
		return d + 1
	case *py.Dict:
		for k, e := range v.All() {
			d = max(d, depthOf(k), depthOf(e))
		}
		return d + 1
	case *py.Set:
		for _, e := range v.Items() {
			d = max(d, depthOf(e))
		}
		return d + 1
	}
	return 0
}

func TestZeroOptionsWellFormed(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := Value(Options{}).Draw(t, "v")
		if d := depthOf(v); d > 3 {
			t.Fatalf("depth %d > 3: %s", d, py.Repr(v))
		}
		walk(v, func(x any, isKey bool) {
			switch x := x.(type) {
			case *big.Int:
				if x.IsInt64() {
					t.Fatalf("small big.Int %s", x)
				}
			case string:
				if !utf8.ValidString(x) {
					t.Fatalf("invalid utf-8 %q", x)
				}
				if isKey && x == "__class__" {
					t.Fatal("__class__ key")
				}
			case nil, bool, int64, float64, complex128, []byte, py.Tuple, []any, *py.Dict, *py.Set:
			default:
				t.Fatalf("non-model value %T", x)
			}
			if isKey && !py.Hashable(x) {
				t.Fatalf("unhashable key %s", py.Repr(x))
			}
		})
		if !py.Same(v, v) {
			t.Fatalf("value not Same as itself: %s", py.Repr(v))
		}
	})
}

func TestRestrictiveOptions(t *testing.T) {
	o := Options{NoBytes: true, NoSets: true, NoFrozenSets: true, NoComplex: true, NoBigInts: true,
		NoNaN: true, NoInf: true, NoNegZero: true, NoTuples: true, NoNone: true, StringKeys: true,
		NoNonBMP: true, NoUnprintable: true, MaxDepth: 2, MaxLen: 3}
	rapid.Check(t, func(t *rapid.T) {
		v := Value(o).Draw(t, "v")
		if d := depthOf(v); d > 2 {
			t.Fatalf("depth %d > 2", d)
		}
		walk(v, func(x any, isKey bool) {
			switch x := x.(type) {
			case nil, []byte, *py.Set, complex128, *big.Int, py.Tuple, *py.Exception:
				t.Fatalf("excluded type %T generated", x)
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) || (x == 0 && math.Signbit(x)) {
					t.Fatalf("excluded float %v", x)
				}
			case string:
				for _, r := range x {
					if r > 0xffff || !py.IsPrintable(r) {
						t.Fatalf("excluded rune %U", r)
					}
				}
			case []any:
				if len(x) > 3 {
					t.Fatalf("list longer than MaxLen: %d", len(x))
				}
			}
			if isKey {
				if _, ok := x.(string); !ok {
					t.Fatalf("non-str key %T", x)
				}
			}
		})
	})
}

func TestASCIIAndScalars(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := String(Options{ASCII: true}).Draw(t, "s")
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				t.Fatalf("non-printable-ASCII byte %#x in %q", s[i], s)
			}
		}
		if d := depthOf(Scalar(Options{}).Draw(t, "scalar")); d != 0 {
			t.Fatal("Scalar returned a container")
		}
		if d := depthOf(Value(Options{MaxDepth: -1}).Draw(t, "flat")); d != 0 {
			t.Fatal("MaxDepth -1 returned a container")
		}
		k := Key(Options{}).Draw(t, "key")
		if !py.Hashable(k) {
			t.Fatalf("unhashable key %s", py.Repr(k))
		}
	})
}

func TestExceptionsAndEmptySets(t *testing.T) {
	sawExc := false
	rapid.Check(t, func(t *rapid.T) {
		v := Value(Options{Exceptions: true, NoEmptySets: true}).Draw(t, "v")
		walk(v, func(x any, _ bool) {
			switch x := x.(type) {
			case *py.Exception:
				sawExc = true
			case *py.Set:
				if x.Len() == 0 {
					t.Fatal("empty set with NoEmptySets")
				}
			}
		})
	})
	if !sawExc {
		t.Error("Exceptions: true never produced an exception")
	}
}
