package py

import (
	"cmp"
	"encoding"
	"fmt"
	"maps"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// encoderFunc converts a Go value of one type into the model. depth counts
// the containers and pointers walked so far.
type encoderFunc func(rv reflect.Value, depth int) (any, error)

var (
	encoderCache    sync.Map // reflect.Type -> encoderFunc
	keyEncoderCache sync.Map // reflect.Type -> encoderFunc (for map keys)
)

// encoderFor returns the cached encoder of t, building it on first use. A
// recursive type finds a placeholder that waits for the real encoder.
func encoderFor(t reflect.Type) encoderFunc {
	return cachedEncoder(&encoderCache, t, newEncoder)
}

// keyEncoderFor is encoderFor for map keys: arrays become tuples.
func keyEncoderFor(t reflect.Type) encoderFunc {
	return cachedEncoder(&keyEncoderCache, t, newKeyEncoder)
}

func cachedEncoder(cache *sync.Map, t reflect.Type, build func(reflect.Type) encoderFunc) encoderFunc {
	if f, ok := cache.Load(t); ok {
		return f.(encoderFunc)
	}
	var (
		wg sync.WaitGroup
		f  encoderFunc
	)
	wg.Add(1)
	placeholder := encoderFunc(func(rv reflect.Value, depth int) (any, error) {
		wg.Wait()
		return f(rv, depth)
	})
	if old, loaded := cache.LoadOrStore(t, placeholder); loaded {
		return old.(encoderFunc)
	}
	f = build(t)
	wg.Done()
	cache.Store(t, f)
	return f
}

// fromGoError carries the path to a value FromGo failed on.
type fromGoError struct {
	rpath []string // innermost first, reversed when the error is finished
	err   error
}

func (e *fromGoError) Error() string { return e.err.Error() }

// atPath adds a path element in front of err's path.
func atPath(err error, elem string) error {
	if fe, ok := err.(*fromGoError); ok {
		fe.rpath = append(fe.rpath, elem)
		return fe
	}
	return &fromGoError{rpath: []string{elem}, err: err}
}

// finishFromGoError turns the internal error into what FromGo returns: an
// *UnsupportedError with the path in its Reason, or the wrapped error.
func finishFromGoError(err error) error {
	fe, ok := err.(*fromGoError)
	if !ok {
		return err
	}
	path := slices.Clone(fe.rpath)
	slices.Reverse(path)
	where := joinPath(path)
	if ue, ok := fe.err.(*UnsupportedError); ok {
		out := *ue
		if out.Reason == "" {
			out.Reason = "at " + where
		} else {
			out.Reason += " (at " + where + ")"
		}
		return &out
	}
	return fmt.Errorf("py: %s: %w", where, fe.err)
}

func tooDeep(t string) error {
	return &UnsupportedError{Format: "py", Type: t,
		Reason: "nested deeper than " + strconv.Itoa(DefaultMaxDepth) + " levels (a cycle?)"}
}

func unsupportedGo(t reflect.Type) error {
	return &UnsupportedError{Format: "py", Type: "Go " + t.String()}
}

func itemElem(kind string, i int) string { return kind + " item " + strconv.Itoa(i) }

// keyElem is the path element of a dict entry: "dict key 'a'".
func keyElem(k any) string {
	r := Repr(k)
	if len(r) > 60 {
		r = r[:57] + "..."
	}
	return "dict key " + r
}

// fromAny converts v and reports whether the result differs from v (so
// that containers know whether to rebuild). Model values take a fast path
// without reflection.
func fromAny(v any, depth int) (any, bool, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, complex128, string, []byte:
		return v, false, nil
	case *big.Int:
		if x == nil {
			return nil, true, nil
		}
		if x.IsInt64() {
			return x.Int64(), true, nil
		}
		return v, false, nil
	case []any:
		out, err := fromElems(x, "list", depth)
		if err != nil || out == nil {
			return v, false, err
		}
		return out, true, nil
	case Tuple:
		out, err := fromElems(x, "tuple", depth)
		if err != nil || out == nil {
			return v, false, err
		}
		return Tuple(out), true, nil
	case *Dict:
		if x == nil {
			return NewDict(0), true, nil
		}
		out, err := fromDictValues(x, depth)
		if err != nil || out == nil {
			return v, false, err
		}
		return out, true, nil
	case *Set:
		if x == nil {
			return NewSet(0, false), true, nil
		}
		return v, false, nil
	case *Exception:
		if x == nil {
			return nil, true, nil
		}
		return v, false, nil
	case ClassDicter:
		if _, custom := v.(Marshaler); !custom {
			rv := reflect.ValueOf(v)
			if rv.Kind() == reflect.Pointer && rv.IsNil() {
				return nil, true, nil
			}
			return v, false, nil
		}
	}
	rv := reflect.ValueOf(v)
	out, err := encoderFor(rv.Type())(rv, depth)
	return out, true, err
}

// fromElems converts the elements of a list or tuple; it returns nil when
// none needed converting.
func fromElems(xs []any, kind string, depth int) ([]any, error) {
	if depth >= DefaultMaxDepth {
		return nil, tooDeep(kind)
	}
	var out []any
	for i, e := range xs {
		c, changed, err := fromAny(e, depth+1)
		if err != nil {
			return nil, atPath(err, itemElem(kind, i))
		}
		if changed && out == nil {
			out = make([]any, len(xs))
			copy(out, xs[:i])
		}
		if out != nil {
			out[i] = c
		}
	}
	return out, nil
}

// fromDictValues converts the values of a dict (keys are hashable, hence
// already model values); it returns nil when none needed converting.
func fromDictValues(d *Dict, depth int) (*Dict, error) {
	if depth >= DefaultMaxDepth {
		return nil, tooDeep("dict")
	}
	var vals []any
	for i, v := range d.vals {
		c, changed, err := fromAny(v, depth+1)
		if err != nil {
			return nil, atPath(err, keyElem(d.keys[i]))
		}
		if changed && vals == nil {
			vals = make([]any, len(d.vals))
			copy(vals, d.vals[:i])
		}
		if vals != nil {
			vals[i] = c
		}
	}
	if vals == nil {
		return nil, nil
	}
	return &Dict{keys: slices.Clone(d.keys), vals: vals, hks: slices.Clone(d.hks), index: maps.Clone(d.index)}, nil
}

// addrEncoder calls enc on a pointer to the value, copying the value first
// when it is not addressable; it serves methods with pointer receivers.
func addrEncoder(t reflect.Type, enc encoderFunc) encoderFunc {
	return func(rv reflect.Value, depth int) (any, error) {
		if !rv.CanAddr() {
			c := reflect.New(t).Elem()
			c.Set(rv)
			rv = c
		}
		return enc(rv.Addr(), depth)
	}
}

// nilAsNone wraps enc so that a nil pointer or interface becomes None.
func nilAsNone(t reflect.Type, enc encoderFunc) encoderFunc {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		return func(rv reflect.Value, depth int) (any, error) {
			if rv.IsNil() {
				return nil, nil
			}
			return enc(rv, depth)
		}
	}
	return enc
}

func marshalerEncoder(rv reflect.Value, depth int) (any, error) {
	if depth >= DefaultMaxDepth {
		return nil, tooDeep("Go " + rv.Type().String())
	}
	v, err := rv.Interface().(Marshaler).PyroValue()
	if err != nil {
		return nil, fmt.Errorf("%s.PyroValue: %w", rv.Type(), err)
	}
	out, _, err := fromAny(v, depth+1)
	return out, err
}

func classDicterEncoder(rv reflect.Value, _ int) (any, error) { return rv.Interface(), nil }

func textMarshalerEncoder(rv reflect.Value, _ int) (any, error) {
	text, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return nil, fmt.Errorf("%s.MarshalText: %w", rv.Type(), err)
	}
	return string(text), nil
}

func timeEncoder(rv reflect.Value, _ int) (any, error) {
	b, err := appendISOTime(make([]byte, 0, 32), rv.Interface().(time.Time))
	if err != nil {
		return nil, &UnsupportedError{Format: "py", Type: "Go time.Time", Reason: err.Error()}
	}
	return string(b), nil
}

func durationEncoder(rv reflect.Value, _ int) (any, error) {
	return time.Duration(rv.Int()).Seconds(), nil
}

func bigIntEncoder(rv reflect.Value, _ int) (any, error) {
	b := rv.Interface().(*big.Int)
	if b.IsInt64() {
		return b.Int64(), nil
	}
	return new(big.Int).Set(b), nil
}

func bigFloatEncoder(rv reflect.Value, _ int) (any, error) {
	f, _ := rv.Interface().(*big.Float).Float64()
	return f, nil
}

// implementsEither reports whether t, or *t for non-pointer t, implements
// it, and whether the pointer is needed.
func implementsEither(t, it reflect.Type) (ok, viaPtr bool) {
	if t.Implements(it) {
		return true, false
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(it) {
		return true, true
	}
	return false, false
}

// methodEncoder returns the encoder for types with their own conversion,
// or nil. A pointer to such a type is left to the pointer rule, so that
// *time.Time converts like time.Time rather than through the
// (*time.Time).MarshalText it also has.
func methodEncoder(t reflect.Type) encoderFunc {
	if t.Kind() == reflect.Interface {
		return nil // the dynamic value decides
	}
	if t.Kind() == reflect.Pointer && t.Name() == "" && methodEncoder(t.Elem()) != nil {
		return nil
	}
	for _, m := range []struct {
		it  reflect.Type
		enc encoderFunc
	}{
		{marshalerType, marshalerEncoder},
		{classDicterType, classDicterEncoder},
	} {
		if ok, viaPtr := implementsEither(t, m.it); ok {
			if viaPtr {
				return addrEncoder(t, m.enc)
			}
			return nilAsNone(t, m.enc)
		}
	}
	switch t {
	case timeType:
		return timeEncoder
	case durationType:
		return durationEncoder
	case bigIntType:
		return addrEncoder(t, bigIntEncoder)
	case bigFloatType:
		return addrEncoder(t, bigFloatEncoder)
	}
	if ok, viaPtr := implementsEither(t, textMarshalerType); ok {
		if viaPtr {
			return addrEncoder(t, textMarshalerEncoder)
		}
		return nilAsNone(t, textMarshalerEncoder)
	}
	return nil
}

// modelEncoder hands model types met through reflection (struct fields,
// map values) to fromAny.
func modelEncoder(rv reflect.Value, depth int) (any, error) {
	out, _, err := fromAny(rv.Interface(), depth)
	return out, err
}

func newEncoder(t reflect.Type) encoderFunc {
	switch t {
	case reflect.PointerTo(dictType), reflect.PointerTo(setType), tupleType, anySliceType:
		return modelEncoder
	case dictType, setType:
		return addrEncoder(t, modelEncoder)
	}
	if enc := methodEncoder(t); enc != nil {
		return enc
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(rv reflect.Value, _ int) (any, error) { return rv.Bool(), nil }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(rv reflect.Value, _ int) (any, error) { return rv.Int(), nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(rv reflect.Value, _ int) (any, error) {
			u := rv.Uint()
			if u <= math.MaxInt64 {
				return int64(u), nil
			}
			return new(big.Int).SetUint64(u), nil
		}
	case reflect.Float32, reflect.Float64:
		return func(rv reflect.Value, _ int) (any, error) { return rv.Float(), nil }
	case reflect.Complex64, reflect.Complex128:
		return func(rv reflect.Value, _ int) (any, error) { return rv.Complex(), nil }
	case reflect.String:
		return func(rv reflect.Value, _ int) (any, error) { return rv.String(), nil }
	case reflect.Slice:
		if isByteElem(t.Elem()) {
			return func(rv reflect.Value, _ int) (any, error) { return rv.Bytes(), nil }
		}
		return listEncoder(t, encoderFor(t.Elem()))
	case reflect.Array:
		if isByteElem(t.Elem()) {
			return byteArrayEncoder
		}
		return listEncoder(t, encoderFor(t.Elem()))
	case reflect.Map:
		return mapEncoder(t)
	case reflect.Struct:
		return structEncoder(t)
	case reflect.Pointer:
		elem := encoderFor(t.Elem())
		return func(rv reflect.Value, depth int) (any, error) {
			if rv.IsNil() {
				return nil, nil
			}
			if depth >= DefaultMaxDepth {
				return nil, tooDeep("Go " + t.String())
			}
			return elem(rv.Elem(), depth+1)
		}
	case reflect.Interface:
		return func(rv reflect.Value, depth int) (any, error) {
			if rv.IsNil() {
				return nil, nil
			}
			out, _, err := fromAny(rv.Interface(), depth)
			return out, err
		}
	}
	return func(reflect.Value, int) (any, error) { return nil, unsupportedGo(t) }
}

// isByteElem reports whether slices and arrays of t are bytes.
func isByteElem(t reflect.Type) bool {
	return t.Kind() == reflect.Uint8 && !ownConversion(t)
}

func byteArrayEncoder(rv reflect.Value, _ int) (any, error) {
	b := make([]byte, rv.Len())
	for i := range b {
		b[i] = byte(rv.Index(i).Uint())
	}
	return b, nil
}

// listEncoder converts slices and arrays to lists; a nil slice is [].
func listEncoder(t reflect.Type, elem encoderFunc) encoderFunc {
	return func(rv reflect.Value, depth int) (any, error) {
		n := rv.Len()
		if n > 0 && depth >= DefaultMaxDepth {
			return nil, tooDeep("Go " + t.String())
		}
		out := make([]any, n)
		for i := range out {
			v, err := elem(rv.Index(i), depth+1)
			if err != nil {
				return nil, atPath(err, itemElem("list", i))
			}
			out[i] = v
		}
		return out, nil
	}
}

func newKeyEncoder(t reflect.Type) encoderFunc {
	if methodEncoder(t) != nil {
		return encoderFor(t)
	}
	switch t.Kind() {
	case reflect.Array:
		if isByteElem(t.Elem()) {
			return byteArrayEncoder
		}
		elem := keyEncoderFor(t.Elem())
		return func(rv reflect.Value, depth int) (any, error) {
			if depth >= DefaultMaxDepth {
				return nil, tooDeep("Go " + t.String())
			}
			out := make(Tuple, rv.Len())
			for i := range out {
				v, err := elem(rv.Index(i), depth+1)
				if err != nil {
					return nil, atPath(err, itemElem("tuple", i))
				}
				out[i] = v
			}
			return out, nil
		}
	case reflect.Interface:
		return func(rv reflect.Value, depth int) (any, error) {
			if rv.IsNil() {
				return nil, nil
			}
			e := rv.Elem()
			return keyEncoderFor(e.Type())(e, depth)
		}
	case reflect.Pointer:
		elem := keyEncoderFor(t.Elem())
		return func(rv reflect.Value, depth int) (any, error) {
			if rv.IsNil() {
				return nil, nil
			}
			if depth >= DefaultMaxDepth {
				return nil, tooDeep("Go " + t.String())
			}
			return elem(rv.Elem(), depth+1)
		}
	}
	return encoderFor(t)
}

// isEmptyStruct reports whether t is struct{} (the value type of Go's
// set idiom map[K]struct{}).
func isEmptyStruct(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() == 0 && !ownConversion(t)
}

// mapEncoder converts maps to dicts sorted by key, and map[K]struct{} to
// sets.
func mapEncoder(t reflect.Type) encoderFunc {
	keyEnc := keyEncoderFor(t.Key())
	valEnc := encoderFor(t.Elem())
	stringKeys := t.Key().Kind() == reflect.String && methodEncoder(t.Key()) == nil
	isSet := isEmptyStruct(t.Elem())
	type entry struct {
		k any
		v reflect.Value
	}
	return func(rv reflect.Value, depth int) (any, error) {
		n := rv.Len()
		if n == 0 {
			if isSet {
				return NewSet(0, false), nil
			}
			return NewDict(0), nil
		}
		if depth >= DefaultMaxDepth {
			return nil, tooDeep("Go " + t.String())
		}
		entries := make([]entry, 0, n)
		for it := rv.MapRange(); it.Next(); {
			var k any
			if stringKeys {
				k = it.Key().String()
			} else {
				var err error
				if k, err = keyEnc(it.Key(), depth+1); err != nil {
					return nil, atPath(err, "dict key")
				}
			}
			entries = append(entries, entry{k, it.Value()})
		}
		if stringKeys {
			slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.k.(string), b.k.(string)) })
		} else {
			slices.SortStableFunc(entries, func(a, b entry) int { return compareKeys(a.k, b.k) })
		}
		if isSet {
			set := NewSet(n, false)
			for _, e := range entries {
				if err := set.Add(e.k); err != nil {
					return nil, &UnsupportedError{Format: "py", Type: "Go " + t.String(), Reason: "set member: " + err.Error()}
				}
			}
			return set, nil
		}
		d := NewDict(n)
		for _, e := range entries {
			v, err := valEnc(e.v, depth+1)
			if err != nil {
				return nil, atPath(err, keyElem(e.k))
			}
			if stringKeys {
				d.SetString(e.k.(string), v)
			} else if err := d.Set(e.k, v); err != nil {
				return nil, &UnsupportedError{Format: "py", Type: "Go " + t.String(), Reason: "dict key: " + err.Error()}
			}
		}
		return d, nil
	}
}

// keyRank orders the kinds of hashable values for sorting map keys.
func keyRank(k any) int {
	switch k.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case int64, *big.Int, float64:
		return 2
	case complex128:
		return 3
	case string:
		return 4
	case []byte:
		return 5
	case Tuple:
		return 6
	case *Set:
		return 7
	}
	return 8
}

// compareKeys is a total order on converted map keys, used to make FromGo
// deterministic.
func compareKeys(a, b any) int {
	ra, rb := keyRank(a), keyRank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case complex128:
		y := b.(complex128)
		if c := cmp.Compare(real(x), real(y)); c != 0 {
			return c
		}
		return cmp.Compare(imag(x), imag(y))
	case string:
		return strings.Compare(x, b.(string))
	case []byte:
		return strings.Compare(string(x), string(b.([]byte)))
	case Tuple:
		y := b.(Tuple)
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := compareKeys(x[i], y[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(x), len(y))
	}
	if ra == 2 { // mixed int, big int and float
		fa, fb := numberAsBigFloat(a), numberAsBigFloat(b)
		switch {
		case fa == nil && fb == nil:
			return 0
		case fa == nil: // NaN first, as cmp.Compare does
			return -1
		case fb == nil:
			return 1
		}
		return fa.Cmp(fb)
	}
	return strings.Compare(Repr(a), Repr(b))
}

// numberAsBigFloat returns an exact big.Float for an int or float, or nil
// for NaN.
func numberAsBigFloat(v any) *big.Float {
	switch x := v.(type) {
	case int64:
		return new(big.Float).SetInt64(x)
	case *big.Int:
		return new(big.Float).SetInt(x)
	case float64:
		if math.IsNaN(x) {
			return nil
		}
		return big.NewFloat(x)
	}
	return nil
}

// structEncoder converts a struct to a dict of its fields.
func structEncoder(t reflect.Type) encoderFunc {
	si := cachedStructInfo(t)
	encs := make([]encoderFunc, len(si.fields))
	for i, f := range si.fields {
		encs[i] = encoderFor(f.typ)
	}
	return func(rv reflect.Value, depth int) (any, error) {
		if len(si.fields) > 0 && depth >= DefaultMaxDepth {
			return nil, tooDeep("Go " + t.String())
		}
		d := NewDict(len(si.fields))
		for i := range si.fields {
			f := &si.fields[i]
			fv, ok := fieldForGet(rv, f.index)
			if !ok || (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && isZeroValue(fv)) {
				continue
			}
			v, err := encs[i](fv, depth+1)
			if err != nil {
				return nil, atPath(err, "field "+f.goName)
			}
			d.setHashed(f.key, f.key, v)
		}
		return d, nil
	}
}

// fieldForGet follows an index path; it fails at a nil embedded pointer.
func fieldForGet(rv reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return reflect.Value{}, false
			}
			rv = rv.Elem()
		}
		rv = rv.Field(x)
	}
	return rv, true
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZeroValue is the omitzero test: an IsZero() bool method if the type
// has one, otherwise the zero value.
func isZeroValue(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	if v.CanAddr() {
		if z, ok := v.Addr().Interface().(interface{ IsZero() bool }); ok {
			return z.IsZero()
		}
	}
	return v.IsZero()
}
