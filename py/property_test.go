package py_test

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// leafTypes are the non-container Go types random types are built from.
var leafTypes = []reflect.Type{
	reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int16](),
	reflect.TypeFor[int32](), reflect.TypeFor[int64](), reflect.TypeFor[uint](), reflect.TypeFor[uint8](),
	reflect.TypeFor[uint16](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64](), reflect.TypeFor[uintptr](),
	reflect.TypeFor[float32](), reflect.TypeFor[float64](), reflect.TypeFor[complex64](), reflect.TypeFor[complex128](),
	reflect.TypeFor[string](), reflect.TypeFor[[]byte](), reflect.TypeFor[[4]byte](), reflect.TypeFor[myBytes](),
	reflect.TypeFor[time.Time](), reflect.TypeFor[time.Duration](), reflect.TypeFor[*big.Int](),
	reflect.TypeFor[myInt](), reflect.TypeFor[myStr](), reflect.TypeFor[any](), reflect.TypeFor[py.Tuple](),
	reflect.TypeFor[Point](), reflect.TypeFor[Embeds](), reflect.TypeFor[Shadow](), reflect.TypeFor[struct{}](),
}

// keyTypes are the Go map key types used; they survive FromGo's key rules.
var keyTypes = []reflect.Type{
	reflect.TypeFor[string](), reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[uint16](),
	reflect.TypeFor[uint64](), reflect.TypeFor[float64](), reflect.TypeFor[bool](), reflect.TypeFor[[2]int](),
	reflect.TypeFor[myStr](), reflect.TypeFor[[3]byte](),
}

// genType draws a random Go type: leaves, slices, arrays, maps, pointers
// (never to pointers or interfaces: nil inside non-nil cannot survive a
// round trip through None) and structs with tagged and untagged fields.
func genType(t *rapid.T, depth int) reflect.Type {
	kind := 0
	if depth > 0 {
		kind = rapid.IntRange(0, 5).Draw(t, "typekind")
	}
	switch kind {
	case 1:
		return reflect.SliceOf(genType(t, depth-1))
	case 2:
		return reflect.ArrayOf(rapid.IntRange(0, 3).Draw(t, "arraylen"), genType(t, depth-1))
	case 3:
		return reflect.MapOf(rapid.SampledFrom(keyTypes).Draw(t, "keytype"), genType(t, depth-1))
	case 4:
		elem := genType(t, depth-1)
		if elem.Kind() == reflect.Pointer || elem.Kind() == reflect.Interface {
			return elem
		}
		return reflect.PointerTo(elem)
	case 5:
		n := rapid.IntRange(0, 5).Draw(t, "nfields")
		fields := make([]reflect.StructField, n)
		for i := range fields {
			ft := genType(t, depth-1)
			tag := ""
			switch rapid.IntRange(0, 3).Draw(t, "tagkind") {
			case 1:
				tag = fmt.Sprintf(`pyro:"key_%d"`, i)
			case 2:
				if isScalarKind(ft) && !isFloatKind(ft) { // omitempty drops -0.0 too, as in encoding/json
					tag = `pyro:",omitempty"`
				}
			case 3:
				tag = `pyro:"-"`
			}
			fields[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: ft, Tag: reflect.StructTag(tag)}
		}
		return reflect.StructOf(fields)
	}
	return rapid.SampledFrom(leafTypes).Draw(t, "leaftype")
}

func isFloatKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	}
	return false
}

func isScalarKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	}
	return false
}

// genValue fills a new value of type typ. Slices and maps are never nil
// (FromGo sends nil ones as empty), excluded struct fields stay zero.
func genValue(t *rapid.T, typ reflect.Type) reflect.Value {
	v := reflect.New(typ).Elem()
	switch typ {
	case reflect.TypeFor[time.Time]():
		sec := rapid.Int64Range(-62135596800, 253402300799).Draw(t, "unix")
		us := rapid.Int64Range(0, 999999).Draw(t, "us")
		tm := time.Unix(sec, us*1000).UTC()
		if rapid.Bool().Draw(t, "zoned") {
			tm = tm.In(time.FixedZone("", rapid.IntRange(-14*60, 14*60).Draw(t, "offmin")*60))
			if y := tm.Year(); y < 1 || y > 9999 {
				tm = tm.UTC()
			}
		}
		v.Set(reflect.ValueOf(tm))
		return v
	case reflect.TypeFor[time.Duration]():
		// exact through float seconds up to about 52 days
		v.SetInt(rapid.Int64Range(-1<<52, 1<<52).Draw(t, "ns"))
		return v
	case reflect.TypeFor[*big.Int]():
		if rapid.Bool().Draw(t, "nilbig") {
			return v
		}
		b := new(big.Int).SetBytes(rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, "bigbytes"))
		if rapid.Bool().Draw(t, "bigneg") {
			b.Neg(b)
		}
		v.Set(reflect.ValueOf(b))
		return v
	case reflect.TypeFor[py.Tuple]():
		v.Set(reflect.ValueOf(py.Tuple(rapid.SliceOfN(pygen.Scalar(pygen.Options{}), 0, 3).Draw(t, "tuple"))))
		return v
	case reflect.TypeFor[Shadow](): // Base.Name is shadowed: not carried
		v.Set(reflect.ValueOf(Shadow{Base: Base{ID: rapid.Int().Draw(t, "id")}, Name: rapid.String().Draw(t, "name")}))
		return v
	case reflect.TypeFor[Embeds]():
		e := Embeds{Base: Base{ID: rapid.Int().Draw(t, "id")}, Own: rapid.String().Draw(t, "own")}
		if rapid.Bool().Draw(t, "extra") {
			e.Extra = &Extra{Extra: rapid.Bool().Draw(t, "extrab")} // Extra.Name conflicts: not carried
		}
		v.Set(reflect.ValueOf(e))
		return v
	}
	switch typ.Kind() {
	case reflect.Bool:
		v.SetBool(rapid.Bool().Draw(t, "bool"))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := typ.Bits()
		v.SetInt(rapid.Int64Range(-1<<(bits-1), 1<<(bits-1)-1).Draw(t, "int"))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rapid.Uint64().Draw(t, "uint")
		if bits := typ.Bits(); bits < 64 {
			u &= 1<<bits - 1
		}
		v.SetUint(u)
	case reflect.Float32:
		v.SetFloat(float64(rapid.Float32().Draw(t, "f32")))
	case reflect.Float64:
		v.SetFloat(genFloat(t))
	case reflect.Complex64:
		v.SetComplex(complex(float64(rapid.Float32().Draw(t, "re")), float64(rapid.Float32().Draw(t, "im"))))
	case reflect.Complex128:
		v.SetComplex(complex(genFloat(t), genFloat(t)))
	case reflect.String:
		v.SetString(pygen.String(pygen.Options{}).Draw(t, "str"))
	case reflect.Interface:
		if x := pygen.Value(pygen.Options{MaxDepth: 2}).Draw(t, "any"); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.Slice:
		n := rapid.IntRange(0, 3).Draw(t, "len")
		s := reflect.MakeSlice(typ, n, n)
		for i := range n {
			s.Index(i).Set(genValue(t, typ.Elem()))
		}
		v.Set(s)
	case reflect.Array:
		for i := range typ.Len() {
			v.Index(i).Set(genValue(t, typ.Elem()))
		}
	case reflect.Map:
		m := reflect.MakeMap(typ)
		for range rapid.IntRange(0, 3).Draw(t, "len") {
			k := genValue(t, typ.Key())
			if k.Kind() == reflect.Float64 && math.IsNaN(k.Float()) {
				continue // a NaN key cannot be looked up again
			}
			m.SetMapIndex(k, genValue(t, typ.Elem()))
		}
		v.Set(m)
	case reflect.Pointer:
		if rapid.Bool().Draw(t, "nil") {
			return v
		}
		p := reflect.New(typ.Elem())
		p.Elem().Set(genValue(t, typ.Elem()))
		v.Set(p)
	case reflect.Struct:
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.IsExported() && f.Tag.Get("pyro") != "-" {
				v.Field(i).Set(genValue(t, f.Type))
			}
		}
	default:
		t.Fatalf("genValue: unexpected type %s", typ)
	}
	return v
}

func genFloat(t *rapid.T) float64 {
	switch rapid.IntRange(0, 4).Draw(t, "floatkind") {
	case 0:
		return math.NaN()
	case 1:
		return math.Copysign(0, -1)
	}
	return rapid.Float64().Draw(t, "f64")
}

// TestRoundTripRandomTypes: for random Go types and values,
// Convert(FromGo(x)) gives back x.
func TestRoundTripRandomTypes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		typ := genType(t, 3)
		x := genValue(t, typ)
		m, err := py.FromGo(x.Interface())
		if err != nil {
			t.Fatalf("FromGo(%s %#v): %v", typ, x.Interface(), err)
		}
		back := reflect.New(typ)
		if err := py.Convert(back.Interface(), m); err != nil {
			t.Fatalf("Convert(%s, %s): %v", typ, py.Repr(m), err)
		}
		if !equalGo(back.Elem().Interface(), x.Interface()) {
			t.Fatalf("round trip of %s\n %#v\nvia %s\ngave\n %#v", typ, x.Interface(), py.Repr(m), back.Elem().Interface())
		}
		// and FromGo is stable: the model of the copy is the same
		m2, err := py.FromGo(back.Elem().Interface())
		if err != nil || !py.Same(m, m2) {
			t.Fatalf("FromGo of the copy differs: %s vs %s (%v)", py.Repr(m), py.Repr(m2), err)
		}
	})
}

// RT is a fixed struct with every kind of field, for a DeepEqual round trip.
type RT struct {
	B     bool
	I     int
	I8    int8 `pyro:"i8"`
	U64   uint64
	F32   float32
	C     complex128
	S     string `pyro:"s,omitempty"`
	By    []byte
	Arr   [2]int16
	BArr  [2]byte
	L     []string
	M     map[string]int
	MI    map[int]bool
	MK    map[[2]int]string
	P     *Point
	PP    []*Point
	T     time.Time
	D     time.Duration
	Any   any
	Tup   py.Tuple
	Emb   Shadow
	Skip  int `pyro:"-"`
	inner int
}

func TestRoundTripDeepEqual(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := RT{
			B:   rapid.Bool().Draw(t, "B"),
			I:   rapid.Int().Draw(t, "I"),
			I8:  rapid.Int8().Draw(t, "I8"),
			U64: rapid.Uint64().Draw(t, "U64"),
			F32: rapid.Float32().Draw(t, "F32"),
			C:   complex(rapid.Float64().Draw(t, "re"), rapid.Float64().Draw(t, "im")),
			S:   rapid.String().Draw(t, "S"),
			By:  rapid.SliceOf(rapid.Byte()).Draw(t, "By"),
			L:   rapid.SliceOf(rapid.String()).Draw(t, "L"),
			M:   rapid.MapOf(rapid.String(), rapid.Int()).Draw(t, "M"),
			MI:  rapid.MapOf(rapid.Int(), rapid.Bool()).Draw(t, "MI"),
			MK:  map[[2]int]string{{rapid.Int().Draw(t, "k0"), rapid.Int().Draw(t, "k1")}: "v"},
			T:   time.Unix(rapid.Int64Range(0, 1e10).Draw(t, "T"), rapid.Int64Range(0, 999999).Draw(t, "us")*1000).UTC(),
			D:   time.Duration(rapid.Int64Range(-1e15, 1e15).Draw(t, "D")),
			Any: rapid.OneOf(rapid.Just[any](nil), rapid.Map(rapid.Int64(), func(i int64) any { return i }),
				rapid.Map(rapid.String(), func(s string) any { return s })).Draw(t, "Any"),
			Tup: py.Tuple{rapid.Int64().Draw(t, "tup0"), "x"},
			Emb: Shadow{Base: Base{ID: rapid.Int().Draw(t, "ID")}, Name: rapid.String().Draw(t, "Name")},
		}
		x.Arr = [2]int16{rapid.Int16().Draw(t, "a0"), rapid.Int16().Draw(t, "a1")}
		x.BArr = [2]byte{rapid.Byte().Draw(t, "b0"), rapid.Byte().Draw(t, "b1")}
		if rapid.Bool().Draw(t, "hasP") {
			x.P = &Point{rapid.Int().Draw(t, "X"), rapid.Int().Draw(t, "Y")}
		}
		x.PP = []*Point{nil, {1, 2}}
		x.inner = rapid.IntRange(1, 9).Draw(t, "inner") // never carried
		if math.IsNaN(real(x.C)) || math.IsNaN(imag(x.C)) || x.F32 != x.F32 {
			return // DeepEqual never equates NaN
		}
		m, err := py.FromGo(x)
		if err != nil {
			t.Fatal(err)
		}
		var back RT
		if err := py.Convert(&back, m); err != nil {
			t.Fatalf("Convert: %v\n%s", err, py.Repr(m))
		}
		if back.inner != 0 {
			t.Fatalf("the unexported field came back: %d", back.inner)
		}
		x.inner = 0
		if !reflect.DeepEqual(back, x) {
			t.Fatalf("round trip\n %#v\ngave\n %#v\nvia %s", x, back, py.Repr(m))
		}
	})
}

// TestFromGoIdempotentOnModel: model values come back Same, and FromGo of
// the result changes nothing.
func TestFromGoIdempotentOnModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := pygen.Value(pygen.Options{Exceptions: true}).Draw(t, "v")
		out, err := py.FromGo(v)
		if err != nil {
			t.Fatalf("FromGo(%s): %v", py.Repr(v), err)
		}
		if !py.Same(out, v) {
			t.Fatalf("FromGo(%s) = %s", py.Repr(v), py.Repr(out))
		}
		out2, err := py.FromGo(out)
		if err != nil || !py.Same(out2, out) {
			t.Fatalf("FromGo not idempotent: %s -> %s (%v)", py.Repr(out), py.Repr(out2), err)
		}
		// through any and back
		var a any
		if err := py.Convert(&a, out); err != nil || !py.Same(a, v) {
			t.Fatalf("Convert(any): %v", err)
		}
	})
}

// convTargets are the types random model values are thrown at.
var convTargets = []reflect.Type{
	reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[uint64](),
	reflect.TypeFor[float32](), reflect.TypeFor[float64](), reflect.TypeFor[complex64](), reflect.TypeFor[string](),
	reflect.TypeFor[[]byte](), reflect.TypeFor[[3]byte](), reflect.TypeFor[[2]int](), reflect.TypeFor[[]int](),
	reflect.TypeFor[[]string](), reflect.TypeFor[[][]any](), reflect.TypeFor[map[string]int](),
	reflect.TypeFor[map[int]string](), reflect.TypeFor[map[[2]int]string](), reflect.TypeFor[map[any]any](),
	reflect.TypeFor[map[any]bool](), reflect.TypeFor[map[string]struct{}](), reflect.TypeFor[map[float32]any](),
	reflect.TypeFor[map[string][]*Point](), reflect.TypeFor[Point](), reflect.TypeFor[*Point](),
	reflect.TypeFor[Outer](), reflect.TypeFor[Snakey](), reflect.TypeFor[Embeds](), reflect.TypeFor[RT](),
	reflect.TypeFor[time.Time](), reflect.TypeFor[time.Duration](), reflect.TypeFor[*big.Int](),
	reflect.TypeFor[big.Float](), reflect.TypeFor[py.Tuple](), reflect.TypeFor[[]any](), reflect.TypeFor[*py.Dict](),
	reflect.TypeFor[*py.Set](), reflect.TypeFor[*py.Exception](), reflect.TypeFor[error](), reflect.TypeFor[celsius](),
	reflect.TypeFor[textVal](), reflect.TypeFor[net.IP](), reflect.TypeFor[any](), reflect.TypeFor[deep](),
	reflect.TypeFor[map[bool]int](), reflect.TypeFor[[]map[string]float64](), reflect.TypeFor[uintptr](),
}

// TestConvertRandomModelNoPanic: any model value into any target either
// converts or fails with a *ConvertError; never a panic.
func TestConvertRandomModelNoPanic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := pygen.Value(pygen.Options{Exceptions: true, MaxDepth: 3}).Draw(t, "v")
		if rapid.Bool().Draw(t, "wrap") { // give struct targets a dict with matching keys
			v = py.DictOf("X", v, "name", v, "Values", v, "Next", v, "items", v, "celsius", v, "data", v, "encoding", "base64")
		}
		for _, typ := range convTargets {
			dst := reflect.New(typ)
			err := py.Convert(dst.Interface(), v)
			var ce *py.ConvertError
			if err != nil && !errors.As(err, &ce) {
				t.Fatalf("Convert(%s, %s): error %T %v", typ, py.Repr(v), err, err)
			}
			if err == nil && typ != reflect.TypeFor[net.IP]() { // a net.IP of any length converts, but only 4 or 16 bytes marshal
				if _, err := py.FromGo(dst.Elem().Interface()); err != nil {
					t.Fatalf("FromGo of converted %s (%s): %v", typ, py.Repr(v), err)
				}
			}
		}
	})
}

// TestRecursiveTypesConcurrently builds encoders and decoders of recursive
// types from several goroutines at once.
func TestRecursiveTypesConcurrently(t *testing.T) {
	type node struct {
		Name     string
		Children []*node
		Parent   *node `pyro:"-"`
		Index    map[string]*node
	}
	tree := &node{Name: "root", Children: []*node{{Name: "a"}, {Name: "b", Children: []*node{{Name: "c"}}}}}
	tree.Index = map[string]*node{"a": tree.Children[0]}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			m, err := py.FromGo(tree)
			if err != nil {
				errs <- err
				return
			}
			var back *node
			if err := py.Convert(&back, m); err != nil {
				errs <- err
				return
			}
			if back.Children[1].Children[0].Name != "c" || back.Index["a"].Name != "a" {
				errs <- fmt.Errorf("bad copy %s", py.Repr(m))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
