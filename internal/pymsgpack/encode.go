package pymsgpack

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
	"github.com/vmihailenco/msgpack/v5"
)

// Encoder writes model values as Pyro's msgpack serializer does. The zero
// value is ready to use. An Encoder holds no state between calls and may be
// used concurrently.
type Encoder struct {
	// MaxDepth bounds container nesting while encoding, which also stops
	// self-referencing values. Zero means py.DefaultMaxDepth; negative
	// means no limit.
	MaxDepth int
	// TimeExt writes time.Time values as Pyro's datetime extension 0x32,
	// or its date extension 0x33 for a time in UTC at midnight exactly
	// (see the package documentation). When false, they go through
	// py.FromGo like any other non-model value.
	TimeExt bool
	// ClassDict writes Pyro class values (*py.Exception and every
	// py.ClassDicter); nil writes their PyroClassDict(), Pyro4's forms.
	ClassDict py.ClassDictFunc
}

// sliceWriter is the io.Writer (with WriteByte) the msgpack library writes
// into: it appends to a byte slice.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *sliceWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

type encoder struct {
	w         sliceWriter
	enc       *msgpack.Encoder
	maxDepth  int
	timeExt   bool
	classDict py.ClassDictFunc
	bound     py.OutputBound
}

// room makes sure n more bytes may be appended (see py.OutputBound).
func (e *encoder) room(n int) error {
	var err error
	e.w.b, err = e.bound.Room(e.w.b, n, "msgpack")
	return err
}

var encoderPool = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = msgpack.NewEncoder(&e.w)
	return e
}}

// Append appends the msgpack encoding of v to b and returns the extended
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
	var cfg Encoder
	if e != nil {
		cfg = *e
	}
	enc := encoderPool.Get().(*encoder)
	enc.w.b = b
	enc.maxDepth = py.Limits{MaxDepth: cfg.MaxDepth}.Resolved().MaxDepth
	enc.timeExt = cfg.TimeExt
	enc.classDict = cfg.ClassDict
	enc.bound = py.NewOutputBound(lim, len(b))
	err := enc.value(v, 0, false)
	out := enc.w.b
	enc.w.b = nil
	enc.bound = py.OutputBound{}
	enc.classDict = nil
	encoderPool.Put(enc)
	if err != nil {
		return b, err
	}
	return out, nil
}

// notSerializable is Pyro's SerializeError for a value msgpack cannot carry.
func notSerializable(pyClass, typeName string) error {
	return &py.UnsupportedError{
		Format: "msgpack",
		Type:   typeName,
		Reason: "don't know how to serialize class <class '" + pyClass +
			"'> using serializer MsgpackSerializer. Give it vars() or an appropriate __getstate__",
	}
}

func tooLong(typeName string, n int) error {
	return &py.UnsupportedError{Format: "msgpack", Type: typeName,
		Reason: "length " + strconv.Itoa(n) + " exceeds msgpack's 2^32-1"}
}

func (e *encoder) enter(depth int) error {
	if depth > e.maxDepth {
		return &py.UnsupportedError{Format: "msgpack", Type: "container",
			Reason: "nesting deeper than " + strconv.Itoa(e.maxDepth) + " (circular reference?)"}
	}
	return nil
}

// value writes v; depth counts the containers around it. converted is set
// when v comes from py.FromGo, so a value it leaves outside the model is
// reported instead of converted again.
func (e *encoder) value(v any, depth int, converted bool) error {
	switch v := v.(type) {
	case nil:
		return e.enc.EncodeNil()
	case bool:
		return e.enc.EncodeBool(v)
	case int64:
		return e.enc.EncodeInt(v)
	case *big.Int:
		return e.bigInt(v)
	case float64:
		return e.enc.EncodeFloat64(v)
	case string:
		return e.str(v)
	case []byte:
		if len(v) > math.MaxUint32 {
			return tooLong("bytes", len(v))
		}
		if err := e.room(headLen(len(v), false) + len(v)); err != nil {
			return err
		}
		if err := e.enc.EncodeBytesLen(len(v)); err != nil {
			return err
		}
		e.w.b = append(e.w.b, v...)
		return nil
	case py.Tuple:
		return e.seq(v, depth)
	case []any:
		return e.seq(v, depth)
	case *py.Dict:
		return e.dict(v, depth)
	case *py.Set:
		if v == nil {
			return e.seq(nil, depth)
		}
		if v.Frozen {
			return notSerializable("frozenset", "frozenset")
		}
		return e.seq(v.Items(), depth)
	case complex128:
		if err := e.enc.EncodeExtHeader(extComplex, 16); err != nil {
			return err
		}
		e.w.b = binary.LittleEndian.AppendUint64(e.w.b, math.Float64bits(real(v)))
		e.w.b = binary.LittleEndian.AppendUint64(e.w.b, math.Float64bits(imag(v)))
		return nil
	case py.ClassDicter:
		if isNilPointer(v) {
			return e.enc.EncodeNil()
		}
		return e.dict(e.classDict.Dict(v), depth)
	case time.Time:
		if e.timeExt {
			return e.datetime(v)
		}
	case int:
		return e.enc.EncodeInt(int64(v))
	case int8:
		return e.enc.EncodeInt(int64(v))
	case int16:
		return e.enc.EncodeInt(int64(v))
	case int32:
		return e.enc.EncodeInt(int64(v))
	case uint:
		return e.enc.EncodeUint(uint64(v))
	case uint8:
		return e.enc.EncodeUint(uint64(v))
	case uint16:
		return e.enc.EncodeUint(uint64(v))
	case uint32:
		return e.enc.EncodeUint(uint64(v))
	case uint64:
		return e.enc.EncodeUint(v)
	}
	if converted {
		return notSerializable(py.TypeName(v), py.TypeName(v))
	}
	c, err := py.FromGo(v)
	if err != nil {
		return err
	}
	return e.value(c, depth, true)
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func (e *encoder) str(s string) error {
	if !utf8.ValidString(s) {
		return &py.UnsupportedError{Format: "msgpack", Type: "str", Reason: "invalid UTF-8"}
	}
	if len(s) > math.MaxUint32 {
		return tooLong("str", len(s))
	}
	if err := e.room(headLen(len(s), true) + len(s)); err != nil {
		return err
	}
	return e.enc.EncodeString(s)
}

// headLen is the size of the msgpack header of a str (or bin) of n bytes.
func headLen(n int, str bool) int {
	switch {
	case str && n <= 31:
		return 1
	case n <= math.MaxUint8:
		return 2
	case n <= math.MaxUint16:
		return 3
	}
	return 5
}

// bigInt writes an int the way msgpack-python plus Pyro's hook do: uint64
// when it fits there, otherwise ext 0x31 with its decimal digits.
func (e *encoder) bigInt(v *big.Int) error {
	switch {
	case v == nil:
		return e.enc.EncodeNil()
	case v.IsInt64():
		return e.enc.EncodeInt(v.Int64())
	case v.IsUint64():
		return e.enc.EncodeUint(v.Uint64())
	}
	if err := e.room(v.BitLen()/3 + 8); err != nil {
		return err
	}
	digits := v.Append(nil, 10)
	if len(digits) > math.MaxUint32 {
		return tooLong("int", len(digits))
	}
	if err := e.enc.EncodeExtHeader(extBigInt, len(digits)); err != nil {
		return err
	}
	e.w.b = append(e.w.b, digits...)
	return nil
}

// ordinal1970 is date(1970, 1, 1).toordinal().
const ordinal1970 = 719163

// datetime writes t as Pyro writes a datetime or a date. A time in UTC at
// midnight exactly is a date (what the decoder makes of ext 0x33): ext 0x33
// with its proleptic ordinal. Any other time is ext 0x32: the float
// timestamp Python's datetime.timestamp() gives for the same instant
// (whole seconds plus microseconds / 1e6). Years outside 1..9999, which
// Python's datetime cannot hold, are refused.
func (e *encoder) datetime(t time.Time) error {
	if t.Location() == time.UTC && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		if y := t.Year(); y < 1 || y > 9999 {
			return &py.UnsupportedError{Format: "msgpack", Type: "date", Reason: fmt.Sprintf("year %d is outside Python's range 1..9999", y)}
		}
		days := t.Unix() / 86400 // exact: midnight UTC
		if err := e.enc.EncodeExtHeader(extDate, 8); err != nil {
			return err
		}
		e.w.b = binary.LittleEndian.AppendUint64(e.w.b, uint64(days+ordinal1970))
		return nil
	}
	if y := t.Year(); y < 1 || y > 9999 {
		return &py.UnsupportedError{Format: "msgpack", Type: "datetime", Reason: fmt.Sprintf("year %d is outside Python's range 1..9999", y)}
	}
	ts := float64(t.Unix()) + float64(t.Nanosecond()/1000)/1e6
	if err := e.enc.EncodeExtHeader(extDatetime, 8); err != nil {
		return err
	}
	e.w.b = binary.LittleEndian.AppendUint64(e.w.b, math.Float64bits(ts))
	return nil
}

func (e *encoder) seq(items []any, depth int) error {
	if err := e.enter(depth + 1); err != nil {
		return err
	}
	if len(items) > math.MaxUint32 {
		return tooLong("list", len(items))
	}
	if err := e.enc.EncodeArrayLen(len(items)); err != nil {
		return err
	}
	for _, it := range items {
		if err := e.value(it, depth+1, false); err != nil {
			return err
		}
		if err := e.room(0); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) dict(d *py.Dict, depth int) error {
	if err := e.enter(depth + 1); err != nil {
		return err
	}
	n := d.Len()
	if n > math.MaxUint32 {
		return tooLong("dict", n)
	}
	if err := e.enc.EncodeMapLen(n); err != nil {
		return err
	}
	for i := range n {
		if err := e.value(d.Key(i), depth+1, false); err != nil {
			return err
		}
		if err := e.value(d.Value(i), depth+1, false); err != nil {
			return err
		}
		if err := e.room(0); err != nil {
			return err
		}
	}
	return nil
}
