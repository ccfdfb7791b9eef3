package py

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
)

// canonKey is the hash key of a value whose Go form is not comparable or
// would collide with a plain string key (tuples, bytes, big ints,
// frozensets). It is a canonical text that is equal for equal Python values.
type canonKey string

// noneKey is the hash key of None.
type noneKey struct{}

// hashKey returns a comparable Go value that is equal for Python-equal
// hashable values (1 == 1.0 == True), or a TypeError-like error for
// unhashable values (list, dict, set).
func hashKey(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int64:
		return v, nil
	case bool:
		if v {
			return int64(1), nil
		}
		return int64(0), nil
	case nil:
		return noneKey{}, nil
	case float64:
		return floatKey(v), nil
	case complex128:
		if imag(v) == 0 {
			return floatKey(real(v)), nil
		}
		return v, nil
	case *big.Int:
		if v.IsInt64() {
			return v.Int64(), nil
		}
		return bigKey(v), nil
	}
	b, err := appendCanon(nil, v)
	if err != nil {
		return nil, err
	}
	return canonKey(b), nil
}

// floatKey makes integral floats hash like the equal int.
func floatKey(f float64) any {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if f >= -(1<<63) && f < (1<<63) {
			return int64(f)
		}
		bi, _ := big.NewFloat(f).Int(nil)
		return bigKey(bi)
	}
	return f
}

// bigKey is the key of an integer outside int64: sign and magnitude in
// binary, which costs linear time (decimal text would be quadratic).
func bigKey(b *big.Int) canonKey {
	sign := "+"
	if b.Sign() < 0 {
		sign = "-"
	}
	return canonKey("I" + sign + string(b.Bytes()))
}

// appendCanon writes a canonical, type-tagged, length-delimited encoding of
// a hashable value.
func appendCanon(b []byte, v any) ([]byte, error) {
	k, err := scalarKey(v)
	if err != nil {
		return nil, err
	}
	if k != nil {
		return k, nil
	}
	switch v := v.(type) {
	case []byte:
		b = append(b, 'b')
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		return append(b, v...), nil
	case Tuple:
		b = append(b, '(')
		for _, e := range v {
			var err error
			if b, err = appendElem(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ')'), nil
	case *Set:
		if !v.Frozen {
			return nil, unhashable(v)
		}
		parts := make([]string, 0, v.Len())
		for _, e := range v.items {
			p, err := appendElem(nil, e)
			if err != nil {
				return nil, err
			}
			parts = append(parts, string(p))
		}
		slices.Sort(parts)
		b = append(b, 'F', '{')
		for _, p := range parts {
			b = append(b, p...)
		}
		return append(b, '}'), nil
	}
	return nil, unhashable(v)
}

// scalarKey returns the canonical text of a scalar, or nil for containers.
func scalarKey(v any) ([]byte, error) {
	k, err := func() (any, error) {
		switch v.(type) {
		case nil, bool, int64, float64, complex128, *big.Int, string:
			return hashKey(v)
		}
		return nil, nil
	}()
	if err != nil || k == nil {
		return nil, err
	}
	switch k := k.(type) {
	case string:
		return []byte("s" + strconv.Itoa(len(k)) + ":" + k), nil
	case int64:
		return []byte("i" + strconv.FormatInt(k, 10)), nil
	case canonKey:
		return []byte(k), nil
	case noneKey:
		return []byte("N"), nil
	case float64:
		return []byte("f" + strconv.FormatUint(math.Float64bits(k), 16)), nil
	case complex128:
		return []byte("c" + strconv.FormatUint(math.Float64bits(real(k)), 16) + "," + strconv.FormatUint(math.Float64bits(imag(k)), 16)), nil
	}
	return nil, fmt.Errorf("py: internal: no canonical key for %T", k)
}

func appendElem(b []byte, e any) ([]byte, error) {
	p, err := appendCanon(nil, e)
	if err != nil {
		return nil, err
	}
	b = strconv.AppendInt(b, int64(len(p)), 10)
	b = append(b, ':')
	return append(b, p...), nil
}

// UnhashableError is returned when a list, dict or set is used as a dict key
// or set member, which Python forbids.
type UnhashableError struct{ Type string }

func (e *UnhashableError) Error() string { return "unhashable type: '" + e.Type + "'" }

func unhashable(v any) error { return &UnhashableError{Type: TypeName(v)} }

// Hashable reports whether v may be a dict key or set member in Python.
func Hashable(v any) bool {
	_, err := hashKey(v)
	return err == nil
}
