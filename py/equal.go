package py

import (
	"bytes"
	"math"
	"math/big"
)

// Same reports whether a and b are the same model value: same Python types
// (list and tuple differ, set and frozenset differ, int and float differ),
// floats compared bit for bit (NaN equals NaN, -0.0 differs from 0.0),
// dicts and sets compared by membership regardless of order. It is the
// identity used by round-trip tests; Python's == is looser.
func Same(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case *big.Int:
			return y.IsInt64() && y.Int64() == x
		}
		return false
	case *big.Int:
		switch y := b.(type) {
		case int64:
			return x.IsInt64() && x.Int64() == y
		case *big.Int:
			return x.Cmp(y) == 0
		}
		return false
	case float64:
		y, ok := b.(float64)
		return ok && sameFloat(x, y)
	case complex128:
		y, ok := b.(complex128)
		return ok && sameFloat(real(x), real(y)) && sameFloat(imag(x), imag(y))
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case Tuple:
		y, ok := b.(Tuple)
		return ok && sameSeq(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && sameSeq(x, y)
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i := 0; i < x.Len(); i++ {
			v, found := y.Get(x.Key(i))
			if !found || !Same(x.Value(i), v) {
				return false
			}
		}
		return true
	case *Set:
		y, ok := b.(*Set)
		if !ok || x.Len() != y.Len() || x.Frozen != y.Frozen {
			return false
		}
		for _, it := range x.Items() {
			if !y.Contains(it) {
				return false
			}
		}
		return true
	case *Exception:
		y, ok := b.(*Exception)
		return ok && x.Class == y.Class && sameSeq(x.Args, y.Args) && Same(orEmpty(x.Attributes), orEmpty(y.Attributes))
	}
	if c, ok := a.(ClassDicter); ok {
		if d, ok := b.(ClassDicter); ok {
			return Same(c.PyroClassDict(), d.PyroClassDict())
		}
	}
	return false
}

func orEmpty(d *Dict) *Dict {
	if d == nil {
		return NewDict(0)
	}
	return d
}

func sameFloat(x, y float64) bool {
	if math.IsNaN(x) {
		return math.IsNaN(y)
	}
	return math.Float64bits(x) == math.Float64bits(y)
}

func sameSeq(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !Same(x[i], y[i]) {
			return false
		}
	}
	return true
}
