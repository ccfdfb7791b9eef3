package pyjson

import (
	"math"
	"math/big"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

// Encoder writes model values as Pyro's json serializer does. The zero
// value is ready to use. An Encoder holds no state between calls and may be
// used concurrently.
type Encoder struct {
	// MaxDepth bounds container nesting while encoding, which also stops
	// self-referencing values (Python reports "Circular reference
	// detected"). Zero means py.DefaultMaxDepth; negative means no limit.
	MaxDepth int

	// ClassDict writes Pyro class values (*py.Exception and every
	// py.ClassDicter); nil writes their PyroClassDict(), Pyro4's forms.
	ClassDict py.ClassDictFunc
}

// Append appends the json encoding of v to b and returns the extended
// slice. On error the returned slice is b unchanged (its spare capacity may
// have been written to).
func (e *Encoder) Append(b []byte, v any) ([]byte, error) {
	return e.AppendLimit(b, v, nil)
}

// AppendLimit is Append with the output bounded by lim (nil: no bound):
// once the appended bytes would pass lim.Max, and lim.Grow grants no more
// room, encoding stops with a *py.SizeError (py.ErrTooLarge) or Grow's
// error, and b is returned unchanged in length.
func (e *Encoder) AppendLimit(b []byte, v any, lim *py.SizeLimit) ([]byte, error) {
	maxDepth := py.DefaultMaxDepth
	var classDict py.ClassDictFunc
	if e != nil {
		maxDepth, classDict = e.MaxDepth, e.ClassDict
	}
	maxDepth = py.Limits{MaxDepth: maxDepth}.Resolved().MaxDepth
	enc := encoder{maxDepth: maxDepth, classDict: classDict, bound: py.NewOutputBound(lim, len(b))}
	out, err := enc.value(b, v, 0, false)
	if err != nil {
		return b, err
	}
	return out, nil
}

type encoder struct {
	maxDepth  int
	classDict py.ClassDictFunc
	bound     py.OutputBound
}

// room makes sure n more bytes may be appended (see py.OutputBound).
func (e *encoder) room(b []byte, n int) ([]byte, error) {
	return e.bound.Room(b, n, "json")
}

// str appends a string within the output bound: the room for its
// unescaped form is made first, and the escaped result checked after.
func (e *encoder) str(b []byte, s string) ([]byte, error) {
	b, err := e.room(b, len(s)+2)
	if err != nil {
		return b, err
	}
	if b, err = appendString(b, s); err != nil {
		return b, err
	}
	return e.room(b, 0)
}

// notSerializable is Pyro's SerializeError for a value json cannot carry.
func notSerializable(pyClass, typeName string) error {
	return &py.UnsupportedError{
		Format: "json",
		Type:   typeName,
		Reason: "don't know how to serialize class <class '" + pyClass +
			"'> using serializer JsonSerializer. Give it vars() or an appropriate __getstate__",
	}
}

func (e *encoder) enter(depth int) error {
	if depth > e.maxDepth {
		return &py.UnsupportedError{Format: "json", Type: "container",
			Reason: "nesting deeper than " + strconv.Itoa(e.maxDepth) + " (circular reference?)"}
	}
	return nil
}

// value appends v. depth counts the containers around v; converted is set
// when v is the result of py.FromGo, so a value FromGo leaves outside the
// model is reported instead of converted again.
func (e *encoder) value(b []byte, v any, depth int, converted bool) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if v {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case *big.Int:
		if v == nil {
			return append(b, "null"...), nil
		}
		b, err := e.room(b, v.BitLen()/3+2)
		if err != nil {
			return b, err
		}
		return v.Append(b, 10), nil
	case float64:
		return appendFloat(b, v), nil
	case string:
		return e.str(b, v)
	case py.Tuple:
		return e.seq(b, v, depth)
	case []any:
		return e.seq(b, v, depth)
	case *py.Dict:
		return e.dict(b, v, depth)
	case *py.Set:
		if v == nil {
			return append(b, "[]"...), nil
		}
		if v.Frozen {
			return b, notSerializable("frozenset", "frozenset")
		}
		return e.seq(b, v.Items(), depth)
	case complex128:
		return b, notSerializable("complex", "complex")
	case []byte:
		return b, notSerializable("bytes", "bytes")
	case py.ClassDicter:
		if isNilPointer(v) {
			return append(b, "null"...), nil
		}
		return e.dict(b, e.classDict.Dict(v), depth)
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	}
	if converted {
		return b, notSerializable(py.TypeName(v), py.TypeName(v))
	}
	c, err := py.FromGo(v)
	if err != nil {
		return b, err
	}
	return e.value(b, c, depth, true)
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func (e *encoder) seq(b []byte, items []any, depth int) ([]byte, error) {
	if err := e.enter(depth + 1); err != nil {
		return b, err
	}
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',', ' ')
		}
		var err error
		if b, err = e.value(b, it, depth+1, false); err != nil {
			return b, err
		}
		if b, err = e.room(b, 0); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func (e *encoder) dict(b []byte, d *py.Dict, depth int) ([]byte, error) {
	if err := e.enter(depth + 1); err != nil {
		return b, err
	}
	b = append(b, '{')
	for i := 0; i < d.Len(); i++ {
		if i > 0 {
			b = append(b, ',', ' ')
		}
		var err error
		if k, ok := d.Key(i).(string); ok {
			b, err = e.str(b, k)
		} else {
			b, err = appendKey(b, d.Key(i))
		}
		if err != nil {
			return b, err
		}
		b = append(b, ':', ' ')
		if b, err = e.value(b, d.Value(i), depth+1, false); err != nil {
			return b, err
		}
		if b, err = e.room(b, 0); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendKey writes a dict key as Python's json module converts it.
func appendKey(b []byte, k any) ([]byte, error) {
	switch k := k.(type) {
	case string:
		return appendString(b, k)
	case bool:
		if k {
			return append(b, `"true"`...), nil
		}
		return append(b, `"false"`...), nil
	case nil:
		return append(b, `"null"`...), nil
	case int64:
		b = append(b, '"')
		b = strconv.AppendInt(b, k, 10)
		return append(b, '"'), nil
	case *big.Int:
		if k != nil {
			b = append(b, '"')
			b = k.Append(b, 10)
			return append(b, '"'), nil
		}
	case float64:
		b = append(b, '"')
		b = appendFloat(b, k)
		return append(b, '"'), nil
	}
	name := py.TypeName(k)
	return b, &py.UnsupportedError{Format: "json", Type: name,
		Reason: "keys must be str, int, float, bool or None, not " + name}
}

// appendFloat writes a float as Python's json module does.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	return py.AppendFloat(b, f)
}

const hexDigits = "0123456789abcdef"

// appendString writes s quoted and escaped like Python's json.dumps with
// ensure_ascii=False.
func appendString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return b, &py.UnsupportedError{Format: "json", Type: "str", Reason: "invalid UTF-8"}
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}
