package py

import (
	"encoding"
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// decoderFunc stores the model value src into dst (settable). Errors are
// *ConvertError. depth counts the containers walked so far.
type decoderFunc func(dst reflect.Value, src any, depth int) error

// decodeMode selects a set of conversion rules; each has its own decoders.
type decodeMode uint8

const (
	modeDefault    decodeMode = iota
	modeStrictKeys            // ConvertOptions.DisallowUnknownKeys
	numModes
)

var decoderCache [numModes]sync.Map // per mode: reflect.Type -> decoderFunc

// decoderFor returns the cached decoder of t, building it on first use. A
// recursive type finds a placeholder that waits for the real decoder.
func decoderFor(t reflect.Type, mode decodeMode) decoderFunc {
	decoderCache := &decoderCache[mode]
	if f, ok := decoderCache.Load(t); ok {
		return f.(decoderFunc)
	}
	var (
		wg sync.WaitGroup
		f  decoderFunc
	)
	wg.Add(1)
	placeholder := decoderFunc(func(dst reflect.Value, src any, depth int) error {
		wg.Wait()
		return f(dst, src, depth)
	})
	if old, loaded := decoderCache.LoadOrStore(t, placeholder); loaded {
		return old.(decoderFunc)
	}
	f = newDecoder(t, mode)
	wg.Done()
	decoderCache.Store(t, f)
	return f
}

// typeErr is the generic "cannot convert str to int" error.
func typeErr(src any, t reflect.Type) error {
	return &ConvertError{Msg: "cannot convert " + TypeName(src) + " to " + t.String()}
}

func convErrf(format string, args ...any) error {
	return &ConvertError{Msg: fmt.Sprintf(format, args...)}
}

// atConv prepends a path element to a *ConvertError.
func atConv(err error, elem string) error {
	if ce, ok := err.(*ConvertError); ok {
		return ce.Prepend(elem)
	}
	return &ConvertError{Path: []string{elem}, Msg: err.Error(), Err: err}
}

func deepErr() error {
	return convErrf("value nested deeper than %d levels", DefaultMaxDepth)
}

// overflowErr is "int 300 overflows int8".
func overflowErr(src any, t reflect.Type) error {
	return convErrf("%s %s overflows %s", TypeName(src), Repr(src), t)
}

// userErr wraps an error returned by FromPyro or UnmarshalText.
func userErr(err error, msg string) error {
	if ce, ok := err.(*ConvertError); ok {
		return ce
	}
	return &ConvertError{Msg: msg + err.Error(), Err: err}
}

var (
	boolType       = reflect.TypeFor[bool]()
	int64Type      = reflect.TypeFor[int64]()
	float64Type    = reflect.TypeFor[float64]()
	complex128Type = reflect.TypeFor[complex128]()
	stringType     = reflect.TypeFor[string]()
)

func newDecoder(t reflect.Type, mode decodeMode) decoderFunc {
	d := newBaseDecoder(t, mode)
	if t.Kind() == reflect.Interface {
		return d
	}
	switch t {
	case boolType, int64Type, float64Type, complex128Type, stringType:
		return d // the kind decoders take these model types directly
	}
	// A value that already has the target type is assigned as it is.
	return func(dst reflect.Value, src any, depth int) error {
		if src != nil && reflect.TypeOf(src) == t {
			dst.Set(reflect.ValueOf(src))
			return nil
		}
		return d(dst, src, depth)
	}
}

func newBaseDecoder(t reflect.Type, mode decodeMode) decoderFunc {
	if t.Kind() == reflect.Interface {
		if t.NumMethod() == 0 {
			return decodeAny
		}
		return func(dst reflect.Value, src any, _ int) error {
			if src == nil {
				dst.SetZero()
				return nil
			}
			if !reflect.TypeOf(src).AssignableTo(t) {
				return typeErr(src, t)
			}
			dst.Set(reflect.ValueOf(src))
			return nil
		}
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerType) {
		return decodeUnmarshaler
	}
	if d := specialDecoder(t); d != nil {
		return d
	}
	d := kindDecoder(t, mode)
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return func(dst reflect.Value, src any, depth int) error {
			s, ok := src.(string)
			if !ok {
				return d(dst, src, depth)
			}
			if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
				return userErr(err, "cannot convert str to "+t.String()+": ")
			}
			return nil
		}
	}
	return d
}

func decodeAny(dst reflect.Value, src any, _ int) error {
	if src == nil {
		dst.SetZero()
		return nil
	}
	dst.Set(reflect.ValueOf(src))
	return nil
}

func decodeUnmarshaler(dst reflect.Value, src any, _ int) error {
	if err := dst.Addr().Interface().(Unmarshaler).FromPyro(src); err != nil {
		return userErr(err, "")
	}
	return nil
}

// classDict returns the dict form of a ClassDicter that is not a *Dict.
func classDict(src any) (*Dict, bool) {
	if _, isDict := src.(*Dict); isDict {
		return nil, false
	}
	cd, ok := src.(ClassDicter)
	if !ok {
		return nil, false
	}
	if rv := reflect.ValueOf(src); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, false
	}
	return cd.PyroClassDict(), true
}

// specialDecoder returns the decoder of types with rules of their own, or
// nil.
func specialDecoder(t reflect.Type) decoderFunc {
	switch t {
	case timeType:
		return decodeTime
	case durationType:
		return decodeDuration
	case bigIntType:
		return func(dst reflect.Value, src any, _ int) error {
			return setBigInt(dst.Addr().Interface().(*big.Int), src, t)
		}
	case reflect.PointerTo(bigIntType):
		return func(dst reflect.Value, src any, _ int) error {
			if src == nil {
				dst.SetZero()
				return nil
			}
			b := new(big.Int)
			if err := setBigInt(b, src, t); err != nil {
				return err
			}
			dst.Set(reflect.ValueOf(b))
			return nil
		}
	case bigFloatType:
		return func(dst reflect.Value, src any, _ int) error {
			return setBigFloat(dst.Addr().Interface().(*big.Float), src, t)
		}
	case reflect.PointerTo(bigFloatType):
		return func(dst reflect.Value, src any, _ int) error {
			if src == nil {
				dst.SetZero()
				return nil
			}
			f := new(big.Float)
			if err := setBigFloat(f, src, t); err != nil {
				return err
			}
			dst.Set(reflect.ValueOf(f))
			return nil
		}
	case tupleType, anySliceType:
		return func(dst reflect.Value, src any, _ int) error {
			var xs []any
			switch x := src.(type) {
			case nil:
				dst.SetZero()
				return nil
			case []any:
				xs = x
			case Tuple:
				xs = x
			case *Set:
				xs = append([]any{}, x.Items()...)
			default:
				return typeErr(src, t)
			}
			dst.Set(reflect.ValueOf(xs).Convert(t))
			return nil
		}
	case reflect.PointerTo(dictType):
		return func(dst reflect.Value, src any, _ int) error {
			switch x := src.(type) {
			case nil:
				dst.SetZero()
				return nil
			case *Dict:
				dst.Set(reflect.ValueOf(x))
				return nil
			}
			if d, ok := classDict(src); ok {
				dst.Set(reflect.ValueOf(d))
				return nil
			}
			return typeErr(src, t)
		}
	case reflect.PointerTo(setType):
		return func(dst reflect.Value, src any, _ int) error {
			switch x := src.(type) {
			case nil:
				dst.SetZero()
				return nil
			case *Set:
				dst.Set(reflect.ValueOf(x))
				return nil
			}
			return typeErr(src, t)
		}
	case reflect.PointerTo(exceptionType):
		return func(dst reflect.Value, src any, _ int) error {
			switch x := src.(type) {
			case nil:
				dst.SetZero()
				return nil
			case *Exception:
				dst.Set(reflect.ValueOf(x))
				return nil
			case *Dict:
				if e, ok := ExceptionFromDict(x); ok {
					dst.Set(reflect.ValueOf(e))
					return nil
				}
			}
			return typeErr(src, t)
		}
	}
	return nil
}

func kindDecoder(t reflect.Type, mode decodeMode) decoderFunc {
	switch t.Kind() {
	case reflect.Bool:
		return func(dst reflect.Value, src any, _ int) error {
			b, ok := src.(bool)
			if !ok {
				return typeErr(src, t)
			}
			dst.SetBool(b)
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(dst reflect.Value, src any, _ int) error {
			i, err := toInt64(src, t)
			if err != nil {
				return err
			}
			if dst.OverflowInt(i) {
				return overflowErr(src, t)
			}
			dst.SetInt(i)
			return nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(dst reflect.Value, src any, _ int) error {
			u, err := toUint64(src, t)
			if err != nil {
				return err
			}
			if dst.OverflowUint(u) {
				return overflowErr(src, t)
			}
			dst.SetUint(u)
			return nil
		}
	case reflect.Float32, reflect.Float64:
		return func(dst reflect.Value, src any, _ int) error {
			f, err := toFloat(src, t)
			if err != nil {
				return err
			}
			dst.SetFloat(f)
			return nil
		}
	case reflect.Complex64, reflect.Complex128:
		return decodeComplex(t)
	case reflect.String:
		return func(dst reflect.Value, src any, _ int) error {
			s, ok := src.(string)
			if !ok {
				return typeErr(src, t)
			}
			dst.SetString(s)
			return nil
		}
	case reflect.Slice:
		return sliceDecoder(t, mode)
	case reflect.Array:
		return arrayDecoder(t, mode)
	case reflect.Map:
		return mapDecoder(t, mode)
	case reflect.Struct:
		return structDecoder(t, mode)
	case reflect.Pointer:
		elem := decoderFor(t.Elem(), mode)
		return func(dst reflect.Value, src any, depth int) error {
			if src == nil {
				dst.SetZero()
				return nil
			}
			if depth >= DefaultMaxDepth {
				return deepErr()
			}
			if dst.IsNil() {
				dst.Set(reflect.New(t.Elem()))
			}
			return elem(dst.Elem(), src, depth+1)
		}
	}
	return func(_ reflect.Value, src any, _ int) error { return typeErr(src, t) }
}

// toInt64 accepts int, bool and integral floats.
func toInt64(src any, t reflect.Type) (int64, error) {
	switch x := src.(type) {
	case int64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *big.Int:
		if x == nil {
			break
		}
		if !x.IsInt64() {
			return 0, overflowErr(src, t)
		}
		return x.Int64(), nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, convErrf("float %s is not an integer", FormatFloat(x))
		}
		if x < -0x1p63 || x >= 0x1p63 {
			return 0, overflowErr(src, t)
		}
		return int64(x), nil
	}
	return 0, typeErr(src, t)
}

// toUint64 accepts non-negative ints, bool and integral floats.
func toUint64(src any, t reflect.Type) (uint64, error) {
	switch x := src.(type) {
	case int64:
		if x < 0 {
			return 0, overflowErr(src, t)
		}
		return uint64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *big.Int:
		if x == nil {
			break
		}
		if !x.IsUint64() {
			return 0, overflowErr(src, t)
		}
		return x.Uint64(), nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, convErrf("float %s is not an integer", FormatFloat(x))
		}
		if x < 0 || x >= 0x1p64 {
			return 0, overflowErr(src, t)
		}
		return uint64(x), nil
	}
	return 0, typeErr(src, t)
}

// toFloat accepts floats, and bools and ints that the target type
// represents exactly. float32 targets reject finite values beyond their
// range.
func toFloat(src any, t reflect.Type) (float64, error) {
	var f float64
	switch x := src.(type) {
	case float64:
		f = x
		if t.Kind() == reflect.Float32 && !math.IsInf(x, 0) && math.Abs(x) > math.MaxFloat32 {
			return 0, overflowErr(src, t)
		}
		return f, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case int64:
		f = float64(x)
		if f >= 0x1p63 || int64(f) != x {
			return 0, inexactErr(src, t)
		}
	case *big.Int:
		if x == nil {
			return 0, typeErr(src, t)
		}
		var acc big.Accuracy
		f, acc = new(big.Float).SetInt(x).Float64()
		if acc != big.Exact {
			return 0, inexactErr(src, t)
		}
	default:
		return 0, typeErr(src, t)
	}
	if t.Kind() == reflect.Float32 && float64(float32(f)) != f {
		return 0, inexactErr(src, t)
	}
	return f, nil
}

func inexactErr(src any, t reflect.Type) error {
	return convErrf("%s %s is not exactly representable as %s", TypeName(src), Repr(src), t)
}

func decodeComplex(t reflect.Type) decoderFunc {
	part := float64Type
	if t.Kind() == reflect.Complex64 {
		part = reflect.TypeFor[float32]()
	}
	return func(dst reflect.Value, src any, _ int) error {
		var c complex128
		if x, ok := src.(complex128); ok {
			if part.Kind() == reflect.Float32 && (overflows32(real(x)) || overflows32(imag(x))) {
				return overflowErr(src, t)
			}
			c = x
		} else {
			switch src.(type) {
			case float64, int64, bool, *big.Int:
			default:
				return typeErr(src, t)
			}
			f, err := toFloat(src, part)
			if err != nil {
				ce := err.(*ConvertError)
				ce.Msg = "cannot convert " + TypeName(src) + " " + Repr(src) + " to " + t.String() + " exactly"
				return ce
			}
			c = complex(f, 0)
		}
		dst.SetComplex(c)
		return nil
	}
}

func overflows32(f float64) bool { return !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 }

func setBigInt(b *big.Int, src any, t reflect.Type) error {
	switch x := src.(type) {
	case int64:
		b.SetInt64(x)
	case bool:
		b.SetInt64(0)
		if x {
			b.SetInt64(1)
		}
	case *big.Int:
		if x == nil {
			return typeErr(src, t)
		}
		b.Set(x)
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return convErrf("float %s is not an integer", FormatFloat(x))
		}
		big.NewFloat(x).Int(b)
	default:
		return typeErr(src, t)
	}
	return nil
}

func setBigFloat(f *big.Float, src any, t reflect.Type) error {
	switch x := src.(type) {
	case float64:
		if math.IsNaN(x) {
			return convErrf("float nan cannot be converted to %s", t)
		}
		f.SetFloat64(x)
	case int64:
		f.SetInt64(x)
	case bool:
		f.SetInt64(0)
		if x {
			f.SetInt64(1)
		}
	case *big.Int:
		if x == nil {
			return typeErr(src, t)
		}
		f.SetInt(x)
	default:
		return typeErr(src, t)
	}
	return nil
}

// The POSIX timestamps of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z,
// the range of Python's datetime.
const (
	minTimestamp = -62135596800
	maxTimestamp = 253402300799
)

func decodeTime(dst reflect.Value, src any, _ int) error {
	var tm time.Time
	switch x := src.(type) {
	case string:
		var err error
		if tm, err = parseISOTime(x); err != nil {
			s := x
			if len(s) > 40 {
				s = s[:37] + "..."
			}
			return &ConvertError{Msg: "cannot convert str " + QuoteString(s) + " to time.Time: " + err.Error(), Err: err}
		}
	case int64:
		if x < minTimestamp || x > maxTimestamp {
			return convErrf("int %d is not a valid timestamp", x)
		}
		tm = time.Unix(x, 0).UTC()
	case float64:
		if !(x >= minTimestamp && x < maxTimestamp+1) { // NaN fails too
			return convErrf("float %s is not a valid timestamp", FormatFloat(x))
		}
		sec := math.Floor(x)
		ns := math.Round((x - sec) * 1e9)
		tm = time.Unix(int64(sec), int64(ns)).UTC()
	default:
		return typeErr(src, timeType)
	}
	dst.Set(reflect.ValueOf(tm))
	return nil
}

func decodeDuration(dst reflect.Value, src any, _ int) error {
	const maxSec = math.MaxInt64 / int64(time.Second)
	var d int64
	switch x := src.(type) {
	case int64, bool, *big.Int:
		sec, err := toInt64(src, int64Type)
		if err != nil || sec > maxSec || sec < -maxSec {
			return overflowErr(src, durationType)
		}
		d = sec * int64(time.Second)
	case float64:
		if math.IsNaN(x) {
			return convErrf("float nan cannot be converted to time.Duration")
		}
		sec := math.Trunc(x)
		if math.Abs(sec) > float64(maxSec) {
			return overflowErr(src, durationType)
		}
		hi := int64(sec) * int64(time.Second)
		lo := int64(math.Round((x - sec) * 1e9))
		if (lo > 0 && hi > math.MaxInt64-lo) || (lo < 0 && hi < math.MinInt64-lo) {
			return overflowErr(src, durationType)
		}
		d = hi + lo
	default:
		return typeErr(src, durationType)
	}
	dst.SetInt(d)
	return nil
}

// bytesFromDict decodes serpent's {'data': '<base64>', 'encoding':
// 'base64'} form. ok is false for dicts of other shapes.
func bytesFromDict(d *Dict) (b []byte, ok bool, err error) {
	enc, hasEnc := d.GetString("encoding")
	data, hasData := d.GetString("data")
	if !hasEnc && !hasData {
		return nil, false, nil
	}
	if !hasEnc || enc != "base64" {
		if !hasEnc {
			return nil, true, convErrf("missing 'encoding' in bytes dict")
		}
		return nil, true, convErrf("unsupported bytes encoding %s", Repr(enc))
	}
	if !hasData {
		return nil, true, convErrf("missing 'data' in bytes dict")
	}
	s, isStr := data.(string)
	if !isStr {
		return nil, true, convErrf("bytes dict 'data' is %s, not str", TypeName(data))
	}
	b, err = base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, true, &ConvertError{Msg: "invalid base64 in bytes dict: " + err.Error(), Err: err}
	}
	return b, true, nil
}

func sliceDecoder(t reflect.Type, mode decodeMode) decoderFunc {
	elem := decoderFor(t.Elem(), mode)
	isBytes := isByteElem(t.Elem())
	return func(dst reflect.Value, src any, depth int) error {
		var xs []any
		kind := "list"
		switch x := src.(type) {
		case nil:
			dst.SetZero()
			return nil
		case []byte:
			if !isBytes {
				return typeErr(src, t)
			}
			s := reflect.New(t).Elem()
			s.SetBytes(x)
			dst.Set(s)
			return nil
		case *Dict:
			if !isBytes {
				return typeErr(src, t)
			}
			b, ok, err := bytesFromDict(x)
			if !ok {
				return typeErr(src, t)
			}
			if err != nil {
				return err
			}
			s := reflect.New(t).Elem()
			s.SetBytes(b)
			dst.Set(s)
			return nil
		case []any:
			xs = x
		case Tuple:
			xs, kind = x, "tuple"
		case *Set:
			xs, kind = x.Items(), "set"
		default:
			return typeErr(src, t)
		}
		if len(xs) > 0 && depth >= DefaultMaxDepth {
			return deepErr()
		}
		s := reflect.MakeSlice(t, len(xs), len(xs))
		for i, e := range xs {
			if err := elem(s.Index(i), e, depth+1); err != nil {
				return atConv(err, itemElem(kind, i))
			}
		}
		dst.Set(s)
		return nil
	}
}

func arrayDecoder(t reflect.Type, mode decodeMode) decoderFunc {
	elem := decoderFor(t.Elem(), mode)
	isBytes := isByteElem(t.Elem())
	n := t.Len()
	return func(dst reflect.Value, src any, depth int) error {
		var xs []any
		kind := "list"
		switch x := src.(type) {
		case []byte, *Dict:
			if !isBytes {
				return typeErr(src, t)
			}
			b, isB := x.([]byte)
			if !isB {
				var ok bool
				var err error
				if b, ok, err = bytesFromDict(x.(*Dict)); !ok {
					return typeErr(src, t)
				} else if err != nil {
					return err
				}
			}
			if len(b) != n {
				return convErrf("cannot convert bytes of length %d to %s", len(b), t)
			}
			for i, c := range b {
				dst.Index(i).SetUint(uint64(c))
			}
			return nil
		case []any:
			xs = x
		case Tuple:
			xs, kind = x, "tuple"
		default:
			return typeErr(src, t)
		}
		if len(xs) != n {
			return convErrf("cannot convert %s of length %d to %s", kind, len(xs), t)
		}
		if n > 0 && depth >= DefaultMaxDepth {
			return deepErr()
		}
		for i, e := range xs {
			if err := elem(dst.Index(i), e, depth+1); err != nil {
				return atConv(err, itemElem(kind, i))
			}
		}
		return nil
	}
}

// mapKeyDecoder converts dict keys; str keys also convert to numeric and
// bool key types by parsing, since json turns such keys into strings.
func mapKeyDecoder(kt reflect.Type, mode decodeMode) decoderFunc {
	base := decoderFor(kt, mode)
	if ownConversion(kt) {
		return base
	}
	switch kt.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(dst reflect.Value, src any, depth int) error {
			s, ok := src.(string)
			if !ok {
				return base(dst, src, depth)
			}
			b, ok := new(big.Int).SetString(s, 10)
			if !ok {
				return typeErr(src, kt)
			}
			return base(dst, NormalizeInt(b), depth)
		}
	case reflect.Float32, reflect.Float64:
		return func(dst reflect.Value, src any, depth int) error {
			s, ok := src.(string)
			if !ok {
				return base(dst, src, depth)
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return typeErr(src, kt)
			}
			return base(dst, f, depth)
		}
	case reflect.Bool:
		return func(dst reflect.Value, src any, depth int) error {
			switch src {
			case "true":
				src = true
			case "false":
				src = false
			}
			return base(dst, src, depth)
		}
	}
	return base
}

func mapDecoder(t reflect.Type, mode decodeMode) decoderFunc {
	keyDec := mapKeyDecoder(t.Key(), mode)
	valDec := decoderFor(t.Elem(), mode)
	et := t.Elem()
	fromSet := et.Kind() == reflect.Bool || isEmptyStruct(et)
	keyError := func(err error, k any) error {
		if ce, ok := err.(*ConvertError); ok {
			ce.Msg = "invalid key: " + ce.Msg
		}
		return atConv(err, keyElem(k))
	}
	return func(dst reflect.Value, src any, depth int) error {
		d, _ := src.(*Dict)
		switch x := src.(type) {
		case nil:
			dst.SetZero()
			return nil
		case *Dict:
		case *Set, []any, Tuple:
			if !fromSet {
				return typeErr(src, t)
			}
			var members []any
			switch x := x.(type) {
			case *Set:
				members = x.Items()
			case []any:
				members = x
			case Tuple:
				members = x
			}
			if len(members) > 0 && depth >= DefaultMaxDepth {
				return deepErr()
			}
			m := reflect.MakeMapWithSize(t, len(members))
			kv := reflect.New(t.Key()).Elem()
			vv := reflect.New(et).Elem()
			if et.Kind() == reflect.Bool {
				vv.SetBool(true)
			}
			for _, k := range members {
				if !Hashable(k) {
					return atConv(convErrf("unhashable type: '%s'", TypeName(k)), "set member "+Repr(k))
				}
				kv.SetZero()
				if err := keyDec(kv, k, depth+1); err != nil {
					return atConv(err, "set member "+Repr(k))
				}
				if !kv.Comparable() {
					return atConv(convErrf("a %s cannot be a Go map key", TypeName(k)), "set member "+Repr(k))
				}
				m.SetMapIndex(kv, vv)
			}
			dst.Set(m)
			return nil
		default:
			var isDict bool
			if d, isDict = classDict(src); !isDict {
				return typeErr(src, t)
			}
		}
		if d.Len() > 0 && depth >= DefaultMaxDepth {
			return deepErr()
		}
		m := reflect.MakeMapWithSize(t, d.Len())
		kv := reflect.New(t.Key()).Elem()
		vv := reflect.New(et).Elem()
		for i := 0; i < d.Len(); i++ {
			k := d.Key(i)
			kv.SetZero()
			if err := keyDec(kv, k, depth+1); err != nil {
				return keyError(err, k)
			}
			if !kv.Comparable() {
				return atConv(convErrf("invalid key: a %s cannot be a Go map key", TypeName(k)), keyElem(k))
			}
			vv.SetZero()
			if err := valDec(vv, d.Value(i), depth+1); err != nil {
				return atConv(err, keyElem(k))
			}
			m.SetMapIndex(kv, vv)
		}
		dst.Set(m)
		return nil
	}
}

func structDecoder(t reflect.Type, mode decodeMode) decoderFunc {
	si := cachedStructInfo(t)
	strict := mode == modeStrictKeys
	decs := make([]decoderFunc, len(si.fields))
	for i, f := range si.fields {
		decs[i] = decoderFor(f.typ, mode)
	}
	return func(dst reflect.Value, src any, depth int) error {
		d, ok := src.(*Dict)
		if !ok {
			if d, ok = classDict(src); !ok {
				return typeErr(src, t)
			}
		}
		if d.Len() > 0 && depth >= DefaultMaxDepth {
			return deepErr()
		}
		for i := 0; i < d.Len(); i++ {
			k, ok := d.Key(i).(string)
			if !ok {
				if strict {
					return si.unknownKey(t, d.Key(i))
				}
				continue
			}
			fi, ok := si.lookup(k)
			if !ok {
				if strict {
					return si.unknownKey(t, k)
				}
				continue
			}
			f := &si.fields[fi]
			fv, err := fieldForSet(dst, f.index)
			if err == nil {
				err = decs[fi](fv, d.Value(i), depth+1)
			}
			if err != nil {
				return atConv(err, "field "+f.goName)
			}
		}
		return nil
	}
}

// fieldForSet follows an index path, allocating nil embedded pointers.
func fieldForSet(rv reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				if !rv.CanSet() {
					return reflect.Value{}, convErrf("cannot set embedded pointer to unexported struct type %s", rv.Type().Elem())
				}
				rv.Set(reflect.New(rv.Type().Elem()))
			}
			rv = rv.Elem()
		}
		rv = rv.Field(x)
	}
	return rv, nil
}

// unknownKey is the error for a dict key that names no field of struct t:
// "unknown key 'colour' for main.Item (fields: name, size)".
func (si *structInfo) unknownKey(t reflect.Type, key any) error {
	const maxListed = 12
	names := make([]string, 0, min(len(si.fields), maxListed+1))
	for i, f := range si.fields {
		if i == maxListed {
			names = append(names, "...")
			break
		}
		names = append(names, f.name)
	}
	fields := "no fields"
	if len(names) > 0 {
		fields = "fields: " + strings.Join(names, ", ")
	}
	k := key
	if s, ok := key.(string); ok && len(s) > 40 {
		k = s[:37] + "..."
	}
	what := "unknown key"
	if _, ok := key.(string); !ok {
		what = "non-str key"
	}
	return convErrf("%s %s for %s (%s)", what, Repr(k), t, fields)
}
