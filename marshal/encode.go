package marshal

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"reflect"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

// Encoder writes marshal version 4 data. The zero value is ready to use;
// an Encoder holds no state between calls and may be shared.
type Encoder struct {
	// MaxDepth bounds the nesting of containers written, which also stops
	// a cyclic Go value (a []any that contains itself) with an error
	// instead of a stack overflow. Zero means py.DefaultMaxDepth (1000,
	// so anything a default Decoder accepts can be written back);
	// negative means no limit (a cyclic value then overflows the stack).
	// CPython's own reader stops at 2000.
	MaxDepth int

	// ClassDict writes Pyro class values (*py.Exception and every
	// py.ClassDicter); nil writes their PyroClassDict(), Pyro4's forms.
	ClassDict py.ClassDictFunc
}

// Marshal encodes v with the zero Encoder.
func Marshal(v any) ([]byte, error) {
	var e Encoder
	return e.Append(make([]byte, 0, 64), v)
}

// Append appends the marshal encoding of v to b and returns the extended
// slice. v is a py model value, a Singleton, a py.ClassDicter (written as
// its PyroClassDict(); *py.Exception is one), or anything py.FromGo turns
// into one of these. On error the returned slice is b unchanged in length
// and the error is a *py.UnsupportedError (py.ErrUnsupported) or, for too
// deep a value, a *py.LimitError (py.ErrLimit).
func (e *Encoder) Append(b []byte, v any) ([]byte, error) {
	return e.AppendLimit(b, v, nil)
}

// AppendLimit is Append with the output bounded by lim (nil: no bound):
// once the appended bytes would pass lim.Max, and lim.Grow grants no more
// room, encoding stops with a *py.SizeError (py.ErrTooLarge) or Grow's
// error, and b is returned unchanged in length. Because the encoder writes
// shared values (decoded back-references) in full each time, this is what
// keeps a small decoded value from expanding into a huge output.
func (e *Encoder) AppendLimit(b []byte, v any, lim *py.SizeLimit) ([]byte, error) {
	maxDepth := e.MaxDepth
	switch {
	case maxDepth == 0:
		maxDepth = py.DefaultMaxDepth
	case maxDepth < 0:
		maxDepth = int(^uint(0) >> 1)
	}
	w := writer{maxDepth: maxDepth, classDict: e.ClassDict, bound: py.NewOutputBound(lim, len(b))}
	n := len(b)
	out, err := w.value(b, v, 0, false)
	if err != nil {
		return b[:n], err
	}
	return out, nil
}

type writer struct {
	maxDepth  int
	classDict py.ClassDictFunc
	bound     py.OutputBound
}

// room makes sure n more bytes may be appended (see py.OutputBound).
func (w *writer) room(b []byte, n int) ([]byte, error) {
	return w.bound.Room(b, n, formatName)
}

func unsupported(typ, reason string) error {
	return &py.UnsupportedError{Format: formatName, Type: typ, Reason: reason}
}

func appendInt32(b []byte, v int32) []byte {
	return binary.LittleEndian.AppendUint32(b, uint32(v))
}

// appendSize writes an int32 size, failing for sizes marshal cannot hold.
func appendSize(b []byte, n int, typ string) ([]byte, error) {
	if n > math.MaxInt32 {
		return b, unsupported(typ, "too large for marshal (more than 2**31-1 elements or bytes)")
	}
	return appendInt32(b, int32(n)), nil
}

// value appends v at nesting depth depth; converted tells that v already
// came out of py.FromGo, so an unknown type is final.
func (w *writer) value(b []byte, v any, depth int, converted bool) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, typeNone), nil
	case bool:
		if x {
			return append(b, typeTrue), nil
		}
		return append(b, typeFalse), nil
	case int64:
		return appendInt(b, x), nil
	case string:
		b, err := w.room(b, strHeadLen(len(x))+len(x))
		if err != nil {
			return b, err
		}
		return appendStr(b, x)
	case float64:
		b = append(b, typeBinaryFloat)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)), nil
	case complex128:
		b = append(b, typeBinaryComplex)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(real(x)))
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(imag(x))), nil
	case *big.Int:
		if x == nil {
			return b, unsupported("Go *big.Int", "nil pointer")
		}
		if x.IsInt64() {
			return appendInt(b, x.Int64()), nil
		}
		b, err := w.room(b, x.BitLen()/15*2+7)
		if err != nil {
			return b, err
		}
		return appendBigLong(b, x), nil
	case []byte:
		b, err := w.room(b, len(x)+5)
		if err != nil {
			return b, err
		}
		b = append(b, typeString)
		b, err = appendSize(b, len(x), "bytes")
		if err != nil {
			return b, err
		}
		return append(b, x...), nil
	case py.Tuple:
		if depth >= w.maxDepth {
			return b, &py.LimitError{Format: formatName, Limit: "depth", Max: w.maxDepth}
		}
		if len(x) < 256 {
			b = append(b, typeSmallTuple, byte(len(x)))
		} else {
			var err error
			b = append(b, typeTuple)
			if b, err = appendSize(b, len(x), "tuple"); err != nil {
				return b, err
			}
		}
		return w.elems(b, x, depth+1)
	case []any:
		if depth >= w.maxDepth {
			return b, &py.LimitError{Format: formatName, Limit: "depth", Max: w.maxDepth}
		}
		b = append(b, typeList)
		b, err := appendSize(b, len(x), "list")
		if err != nil {
			return b, err
		}
		return w.elems(b, x, depth+1)
	case *py.Dict:
		if depth >= w.maxDepth {
			return b, &py.LimitError{Format: formatName, Limit: "depth", Max: w.maxDepth}
		}
		b = append(b, typeDict)
		var err error
		for i := 0; i < x.Len(); i++ {
			if b, err = w.value(b, x.Key(i), depth+1, false); err != nil {
				return b, err
			}
			if b, err = w.value(b, x.Value(i), depth+1, false); err != nil {
				return b, err
			}
			if b, err = w.room(b, 0); err != nil {
				return b, err
			}
		}
		return append(b, typeNull), nil
	case *py.Set:
		if depth >= w.maxDepth {
			return b, &py.LimitError{Format: formatName, Limit: "depth", Max: w.maxDepth}
		}
		if x != nil && x.Frozen {
			b = append(b, typeFrozenSet)
		} else {
			b = append(b, typeSet)
		}
		b, err := appendSize(b, x.Len(), "set")
		if err != nil {
			return b, err
		}
		return w.elems(b, x.Items(), depth+1)
	case Singleton:
		switch x {
		case StopIteration, Ellipsis:
			return append(b, x.code), nil
		}
		return b, unsupported("marshal.Singleton", "zero value")
	case *py.Exception:
		if x == nil {
			return append(b, typeNone), nil
		}
		return w.value(b, w.classDict.Dict(x), depth, true)
	case py.ClassDicter:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return append(b, typeNone), nil
		}
		return w.value(b, w.classDict.Dict(x), depth, true)
	}
	if converted {
		return b, unsupported(py.TypeName(v), "")
	}
	c, err := py.FromGo(v)
	if err != nil {
		return b, err
	}
	return w.value(b, c, depth, true)
}

func (w *writer) elems(b []byte, items []any, depth int) ([]byte, error) {
	var err error
	for _, it := range items {
		if b, err = w.value(b, it, depth, false); err != nil {
			return b, err
		}
		if b, err = w.room(b, 0); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendInt writes 'i' for the int32 range and 'l' otherwise, like CPython.
func appendInt(b []byte, v int64) []byte {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		return appendInt32(append(b, typeInt), int32(v))
	}
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	n := (bits.Len64(u) + 14) / 15
	if v < 0 {
		b = appendInt32(append(b, typeLong), int32(-n))
	} else {
		b = appendInt32(append(b, typeLong), int32(n))
	}
	for ; u != 0; u >>= 15 {
		b = binary.LittleEndian.AppendUint16(b, uint16(u&0x7fff))
	}
	return b
}

// appendBigLong writes x (which does not fit int64) as 'l'.
func appendBigLong(b []byte, x *big.Int) []byte {
	words := x.Bits() // absolute value, little-endian
	n := (x.BitLen() + 14) / 15
	if x.Sign() < 0 {
		b = appendInt32(append(b, typeLong), int32(-n))
	} else {
		b = appendInt32(append(b, typeLong), int32(n))
	}
	const w = bits.UintSize
	for i := 0; i < n; i++ {
		p := i * 15
		d := uint(words[p/w]) >> (p % w)
		if p%w > w-15 && p/w+1 < len(words) {
			d |= uint(words[p/w+1]) << (w - p%w)
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(d&0x7fff))
	}
	return b
}

// strHeadLen is the size of the type and length bytes appendStr writes
// before a str of n bytes (at least: a short non-ASCII str takes 5).
func strHeadLen(n int) int {
	if n < 256 {
		return 2
	}
	return 5
}

// appendStr writes s as CPython 3.11 does for a non-interned str: 'z' for
// ASCII shorter than 256 bytes, 'a' for longer ASCII, 'u' otherwise.
func appendStr(b []byte, s string) ([]byte, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			if !utf8.ValidString(s[i:]) {
				return b, unsupported("str", "not valid UTF-8")
			}
			break
		}
	}
	var err error
	switch {
	case ascii && len(s) < 256:
		b = append(b, typeShortASCII, byte(len(s)))
	case ascii:
		b = append(b, typeASCII)
		b, err = appendSize(b, len(s), "str")
	default:
		b = append(b, typeUnicode)
		b, err = appendSize(b, len(s), "str")
	}
	if err != nil {
		return b, err
	}
	return append(b, s...), nil
}
