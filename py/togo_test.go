package py_test

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

// ptr returns a pointer to a new zero value of T, as a Convert target.
func ptr[T any]() any { return new(T) }

type convCase struct {
	dst  any    // pointer to the target
	src  any    // model value
	want any    // expected value of *dst (when err == "")
	err  string // expected error text
}

func runConvCases(t *testing.T, cases []convCase) {
	t.Helper()
	for i, c := range cases {
		err := py.Convert(c.dst, c.src)
		got := reflect.ValueOf(c.dst).Elem().Interface()
		name := fmt.Sprintf("#%d Convert(%T, %s)", i, c.dst, py.Repr(c.src))
		if c.err != "" {
			if err == nil {
				t.Errorf("%s = %#v, want error %q", name, got, c.err)
				continue
			}
			if err.Error() != c.err {
				t.Errorf("%s error\n %q\nwant\n %q", name, err, c.err)
			}
			var ce *py.ConvertError
			if !errors.As(err, &ce) {
				t.Errorf("%s error is %T, not *ConvertError", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !equalGo(got, c.want) {
			t.Errorf("%s = %#v, want %#v", name, got, c.want)
		}
	}
}

// equalGo is reflect.DeepEqual, except that big numbers compare by value,
// times by instant and offset, and floats bit for bit (NaN equals NaN).
func equalGo(a, b any) bool {
	return equalValues(reflect.ValueOf(a), reflect.ValueOf(b))
}

func equalValues(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case reflect.TypeFor[big.Int]():
		x, y := a.Interface().(big.Int), b.Interface().(big.Int)
		return x.Cmp(&y) == 0
	case reflect.TypeFor[big.Float]():
		x, y := a.Interface().(big.Float), b.Interface().(big.Float)
		return x.Cmp(&y) == 0
	case reflect.TypeFor[time.Time]():
		x, y := a.Interface().(time.Time), b.Interface().(time.Time)
		_, ox := x.Zone()
		_, oy := y.Zone()
		return x.Equal(y) && ox == oy
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
	case reflect.Complex64, reflect.Complex128:
		x, y := a.Complex(), b.Complex()
		return equalValues(reflect.ValueOf(real(x)), reflect.ValueOf(real(y))) &&
			equalValues(reflect.ValueOf(imag(x)), reflect.ValueOf(imag(y)))
	case reflect.Pointer:
		switch a.Interface().(type) {
		case *py.Dict, *py.Set, *py.Exception:
			return py.Same(a.Interface(), b.Interface())
		}
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Pointer() == b.Pointer() {
			return true
		}
		return equalValues(a.Elem(), b.Elem())
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equalValues(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !equalValues(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for it := a.MapRange(); it.Next(); {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !equalValues(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !a.Type().Field(i).IsExported() {
				continue // not comparable from here; the tests do not set them
			}
			if !equalValues(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

func TestConvertScalars(t *testing.T) {
	two64 := testkit.BigInt("18446744073709551616")
	runConvCases(t, []convCase{
		// bool
		{ptr[bool](), true, true, ""},
		{ptr[bool](), int64(1), nil, "cannot convert int to bool"},
		{ptr[bool](), nil, nil, "cannot convert NoneType to bool"},
		// ints
		{ptr[int](), int64(-5), -5, ""},
		{ptr[int](), true, 1, ""},
		{ptr[int](), false, 0, ""},
		{ptr[int](), 3.0, 3, ""},
		{ptr[int](), math.Copysign(0, -1), 0, ""},
		{ptr[int](), 1.5, nil, "float 1.5 is not an integer"},
		{ptr[int](), math.NaN(), nil, "float nan is not an integer"},
		{ptr[int](), math.Inf(1), nil, "float inf is not an integer"},
		{ptr[int](), 1e19, nil, "float 1e+19 overflows int"},
		{ptr[int](), "1", nil, "cannot convert str to int"},
		{ptr[int](), []byte("1"), nil, "cannot convert bytes to int"},
		{ptr[int](), nil, nil, "cannot convert NoneType to int"},
		{ptr[int](), complex(1, 0), nil, "cannot convert complex to int"},
		{ptr[int8](), int64(127), int8(127), ""},
		{ptr[int8](), int64(-128), int8(-128), ""},
		{ptr[int8](), int64(300), nil, "int 300 overflows int8"},
		{ptr[int8](), int64(-129), nil, "int -129 overflows int8"},
		{ptr[int8](), 300.0, nil, "float 300.0 overflows int8"},
		{ptr[int16](), int64(-32768), int16(-32768), ""},
		{ptr[int32](), int64(math.MaxInt32 + 1), nil, "int 2147483648 overflows int32"},
		{ptr[int64](), int64(math.MinInt64), int64(math.MinInt64), ""},
		{ptr[int64](), big.NewInt(7), int64(7), ""},
		{ptr[int64](), two64, nil, "int 18446744073709551616 overflows int64"},
		{ptr[int64](), -0x1p63, int64(math.MinInt64), ""},
		{ptr[int64](), 0x1p63, nil, "float 9.223372036854776e+18 overflows int64"},
		{ptr[myInt](), int64(300), myInt(300), ""},
		{ptr[myInt](), int64(1 << 20), nil, "int 1048576 overflows py_test.myInt"},
		{ptr[myInt](), myInt(4), myInt(4), ""}, // exact Go type passes through
		// uints
		{ptr[uint](), int64(5), uint(5), ""},
		{ptr[uint](), int64(-1), nil, "int -1 overflows uint"},
		{ptr[uint8](), int64(255), uint8(255), ""},
		{ptr[uint8](), int64(256), nil, "int 256 overflows uint8"},
		{ptr[uint8](), true, uint8(1), ""},
		{ptr[uint8](), 2.0, uint8(2), ""},
		{ptr[uint8](), -1.0, nil, "float -1.0 overflows uint8"},
		{ptr[uint8](), 0.5, nil, "float 0.5 is not an integer"},
		{ptr[uint64](), testkit.BigInt("18446744073709551615"), uint64(math.MaxUint64), ""},
		{ptr[uint64](), two64, nil, "int 18446744073709551616 overflows uint64"},
		{ptr[uint64](), testkit.BigInt("-18446744073709551615"), nil, "int -18446744073709551615 overflows uint64"},
		{ptr[uint64](), 0x1p64, nil, "float 1.8446744073709552e+19 overflows uint64"},
		{ptr[uint64](), 0x1p63, uint64(1 << 63), ""},
		{ptr[uintptr](), int64(9), uintptr(9), ""},
		{ptr[uint32](), "x", nil, "cannot convert str to uint32"},
		// floats
		{ptr[float64](), 1.5, 1.5, ""},
		{ptr[float64](), math.NaN(), math.NaN(), ""},
		{ptr[float64](), int64(3), 3.0, ""},
		{ptr[float64](), true, 1.0, ""},
		{ptr[float64](), int64(1 << 53), float64(1 << 53), ""},
		{ptr[float64](), int64(1<<53 + 1), nil, "int 9007199254740993 is not exactly representable as float64"},
		{ptr[float64](), int64(math.MaxInt64), nil, "int 9223372036854775807 is not exactly representable as float64"},
		{ptr[float64](), two64, 0x1p64, ""},
		{ptr[float64](), testkit.BigInt("18446744073709551617"), nil, "int 18446744073709551617 is not exactly representable as float64"},
		{ptr[float64](), "1.5", nil, "cannot convert str to float64"},
		{ptr[float64](), nil, nil, "cannot convert NoneType to float64"},
		{ptr[float32](), 0.1, float32(0.1), ""},
		{ptr[float32](), math.Inf(-1), float32(math.Inf(-1)), ""},
		{ptr[float32](), 1e300, nil, "float 1e+300 overflows float32"},
		{ptr[float32](), int64(1 << 24), float32(1 << 24), ""},
		{ptr[float32](), int64(1<<24 + 1), nil, "int 16777217 is not exactly representable as float32"},
		// complex
		{ptr[complex128](), complex(1, 2), complex(1, 2), ""},
		{ptr[complex128](), 1.5, complex(1.5, 0), ""},
		{ptr[complex128](), int64(2), complex(2, 0), ""},
		{ptr[complex128](), true, complex(1, 0), ""},
		{ptr[complex128](), int64(1<<53 + 1), nil, "cannot convert int 9007199254740993 to complex128 exactly"},
		{ptr[complex128](), "1j", nil, "cannot convert str to complex128"},
		{ptr[complex64](), complex(1, 2), complex64(complex(1, 2)), ""},
		{ptr[complex64](), complex(1, 1e300), nil, "complex (1+1e+300j) overflows complex64"},
		{ptr[complex64](), 1e300, nil, "cannot convert float 1e+300 to complex64 exactly"},
		// strings
		{ptr[string](), "héllo", "héllo", ""},
		{ptr[string](), []byte("x"), nil, "cannot convert bytes to string"},
		{ptr[string](), int64(1), nil, "cannot convert int to string"},
		{ptr[string](), nil, nil, "cannot convert NoneType to string"},
		{ptr[myStr](), "s", myStr("s"), ""},
		// big numbers
		{ptr[*big.Int](), two64, two64, ""},
		{ptr[*big.Int](), int64(-3), big.NewInt(-3), ""},
		{ptr[*big.Int](), true, big.NewInt(1), ""},
		{ptr[*big.Int](), false, big.NewInt(0), ""},
		{ptr[big.Float](), true, *big.NewFloat(1), ""},
		{ptr[*big.Int](), 1e20, testkit.BigInt("100000000000000000000"), ""},
		{ptr[*big.Int](), nil, (*big.Int)(nil), ""},
		{ptr[*big.Int](), 0.5, nil, "float 0.5 is not an integer"},
		{ptr[*big.Int](), "5", nil, "cannot convert str to *big.Int"},
		{ptr[big.Int](), int64(5), *big.NewInt(5), ""},
		{ptr[*big.Float](), 0.5, big.NewFloat(0.5), ""},
		{ptr[*big.Float](), two64, new(big.Float).SetInt(two64), ""},
		{ptr[*big.Float](), math.NaN(), nil, "float nan cannot be converted to *big.Float"},
		{ptr[big.Float](), int64(3), *big.NewFloat(3), ""},
		{ptr[big.Float](), "3", nil, "cannot convert str to big.Float"},
	})
}

type textVal struct{ s string }

func (v *textVal) UnmarshalText(b []byte) error {
	if string(b) == "bad" {
		return errors.New("bad text")
	}
	v.s = string(b)
	return nil
}

// celsius builds itself from {'celsius': x} or a bare number.
type celsius float64

func (c *celsius) FromPyro(v any) error {
	switch x := v.(type) {
	case *py.Dict:
		val, _ := x.GetString("celsius")
		return py.Convert((*float64)(c), val)
	case float64:
		*c = celsius(x)
		return nil
	case nil:
		*c = -273.15
		return nil
	}
	return errors.New("not a temperature: " + py.TypeName(v))
}

func TestConvertSpecialTypes(t *testing.T) {
	cet := time.FixedZone("", 3600)
	d := py.DictOf("a", int64(1))
	s := py.SetOf(int64(1))
	e := &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"x"}}
	u := &uri{loc: "x"}
	runConvCases(t, []convCase{
		// time.Time
		{ptr[time.Time](), "2024-01-02T03:04:05.000006+00:00", time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), ""},
		{ptr[time.Time](), "2024-01-02T03:04:05", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{ptr[time.Time](), "2024-01-02 03:04:05+01:00", time.Date(2024, 1, 2, 3, 4, 5, 0, cet), ""},
		{ptr[time.Time](), "2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), ""},
		{ptr[time.Time](), "01:02:03", time.Date(1, 1, 1, 1, 2, 3, 0, time.UTC), ""},
		{ptr[time.Time](), 1.5, time.Unix(1, 5e8).UTC(), ""},
		{ptr[time.Time](), -1.25, time.Unix(-2, 75e7).UTC(), ""},
		{ptr[time.Time](), int64(86400), time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), ""},
		{ptr[time.Time](), "2024-13-01", nil, "cannot convert str '2024-13-01' to time.Time: not an ISO 8601 date/time as Python writes it"},
		{ptr[time.Time](), math.Inf(1), nil, "float inf is not a valid timestamp"},
		{ptr[time.Time](), math.NaN(), nil, "float nan is not a valid timestamp"},
		{ptr[time.Time](), int64(-62135596801), nil, "int -62135596801 is not a valid timestamp"},
		{ptr[time.Time](), 253402300799.5, time.Date(9999, 12, 31, 23, 59, 59, 5e8, time.UTC), ""},
		{ptr[time.Time](), 253402300800.0, nil, "float 253402300800.0 is not a valid timestamp"},
		{ptr[time.Time](), nil, nil, "cannot convert NoneType to time.Time"},
		{ptr[*time.Time](), nil, (*time.Time)(nil), ""},
		// time.Duration
		{ptr[time.Duration](), 1.5, 1500 * time.Millisecond, ""},
		{ptr[time.Duration](), -0.000000001, -time.Nanosecond, ""},
		{ptr[time.Duration](), int64(90), 90 * time.Second, ""},
		{ptr[time.Duration](), 1e-10, time.Duration(0), ""},
		{ptr[time.Duration](), 12345.678, 12345678 * time.Millisecond, ""},
		{ptr[time.Duration](), 9223372036.0, 9223372036 * time.Second, ""},
		{ptr[time.Duration](), 9223372037.0, nil, "float 9223372037.0 overflows time.Duration"},
		{ptr[time.Duration](), 1e10, nil, "float 10000000000.0 overflows time.Duration"},
		{ptr[time.Duration](), int64(1e10), nil, "int 10000000000 overflows time.Duration"},
		{ptr[time.Duration](), math.NaN(), nil, "float nan cannot be converted to time.Duration"},
		{ptr[time.Duration](), "1s", nil, "cannot convert str to time.Duration"},
		// model containers
		{ptr[*py.Dict](), d, d, ""},
		{ptr[*py.Dict](), nil, (*py.Dict)(nil), ""},
		{ptr[*py.Dict](), e, e.PyroClassDict(), ""},
		{ptr[*py.Dict](), []any{}, nil, "cannot convert list to *py.Dict"},
		{ptr[*py.Set](), s, s, ""},
		{ptr[*py.Set](), []any{}, nil, "cannot convert list to *py.Set"},
		{ptr[*py.Exception](), e, e, ""},
		{ptr[*py.Exception](), e.PyroClassDict(), &py.Exception{Class: e.Class, Args: e.Args, Attributes: py.NewDict(0)}, ""},
		{ptr[*py.Exception](), d, nil, "cannot convert dict to *py.Exception"},
		{ptr[error](), e, error(e), ""},
		{ptr[error](), nil, error(nil), ""},
		{ptr[error](), "x", nil, "cannot convert str to error"},
		{ptr[py.ClassDicter](), u, py.ClassDicter(u), ""},
		{ptr[*uri](), u, u, ""},
		{ptr[py.Tuple](), py.Tuple{int64(1)}, py.Tuple{int64(1)}, ""},
		{ptr[py.Tuple](), []any{int64(1)}, py.Tuple{int64(1)}, ""},
		{ptr[py.Tuple](), py.SetOf("a"), py.Tuple{"a"}, ""},
		{ptr[py.Tuple](), nil, py.Tuple(nil), ""},
		{ptr[py.Tuple](), "ab", nil, "cannot convert str to py.Tuple"},
		{ptr[[]any](), py.Tuple{int64(1)}, []any{int64(1)}, ""},
		{ptr[[]any](), []any{"x", nil}, []any{"x", nil}, ""},
		{ptr[[]any](), d, nil, "cannot convert dict to []interface {}"},
		// any
		{ptr[any](), d, any(d), ""},
		{ptr[any](), nil, nil, ""},
		{ptr[any](), int64(3), any(int64(3)), ""},
		// TextUnmarshaler and Unmarshaler
		{ptr[textVal](), "abc", textVal{"abc"}, ""},
		{ptr[textVal](), "bad", nil, "cannot convert str to py_test.textVal: bad text"},
		{ptr[textVal](), int64(1), nil, "cannot convert int to py_test.textVal"},
		{ptr[net.IP](), "10.0.0.1", net.IPv4(10, 0, 0, 1), ""},
		{ptr[net.IP](), []byte{10, 0, 0, 1}, net.IP{10, 0, 0, 1}, ""},
		{ptr[celsius](), py.DictOf("celsius", 21.5), celsius(21.5), ""},
		{ptr[celsius](), py.DictOf("celsius", "x"), nil, "cannot convert str to float64"},
		{ptr[celsius](), nil, celsius(-273.15), ""},
		{ptr[*celsius](), nil, (*celsius)(nil), ""},
		{ptr[celsius](), "hot", nil, "not a temperature: str"},
		{ptr[[]celsius](), []any{1.5, "hot"}, nil, "list item 1: not a temperature: str"},
		{ptr[[]celsius](), []any{py.DictOf("celsius", "x")}, nil, "list item 0: cannot convert str to float64"},
		// unsupported targets
		{ptr[chan int](), nil, nil, "cannot convert NoneType to chan int"},
		{ptr[func()](), int64(1), nil, "cannot convert int to func()"},
	})
	// the Unmarshaler's error is kept
	var c celsius
	err := py.Convert(&c, "hot")
	var ce *py.ConvertError
	if !errors.As(err, &ce) || ce.Err == nil || ce.Err.Error() != "not a temperature: str" || errors.Unwrap(err) != ce.Err {
		t.Errorf("Unmarshaler error not wrapped: %#v", err)
	}
	var tv textVal
	if err := py.Convert(&tv, "bad"); errors.Unwrap(err) == nil {
		t.Error("UnmarshalText error not wrapped")
	}
}

func TestConvertBytes(t *testing.T) {
	b64 := py.DictOf("data", "AAH/", "encoding", "base64")
	runConvCases(t, []convCase{
		{ptr[[]byte](), []byte("ab"), []byte("ab"), ""},
		{ptr[[]byte](), []byte(nil), []byte(nil), ""},
		{ptr[[]byte](), nil, []byte(nil), ""},
		{ptr[[]byte](), b64, []byte{0, 1, 255}, ""},
		{ptr[[]byte](), []any{int64(0), int64(255)}, []byte{0, 255}, ""},
		{ptr[[]byte](), py.Tuple{int64(1)}, []byte{1}, ""},
		{ptr[[]byte](), []any{int64(1), int64(256)}, nil, "list item 1: int 256 overflows uint8"},
		{ptr[[]byte](), []any{"a"}, nil, "list item 0: cannot convert str to uint8"},
		{ptr[[]byte](), "ab", nil, "cannot convert str to []uint8"},
		{ptr[[]byte](), py.DictOf("data", "AAH/"), nil, "missing 'encoding' in bytes dict"},
		{ptr[[]byte](), py.DictOf("encoding", "base64"), nil, "missing 'data' in bytes dict"},
		{ptr[[]byte](), py.DictOf("data", "AAH/", "encoding", "hex"), nil, "unsupported bytes encoding 'hex'"},
		{ptr[[]byte](), py.DictOf("data", int64(1), "encoding", "base64"), nil, "bytes dict 'data' is int, not str"},
		{ptr[[]byte](), py.DictOf("data", "!!", "encoding", "base64"), nil, "invalid base64 in bytes dict: illegal base64 data at input byte 0"},
		{ptr[[]byte](), py.DictOf("x", int64(1)), nil, "cannot convert dict to []uint8"},
		{ptr[myBytes](), []byte("ab"), myBytes("ab"), ""},
		{ptr[myBytes](), b64, myBytes{0, 1, 255}, ""},
		{ptr[[]myByte](), []byte("ab"), []myByte{97, 98}, ""},
		{ptr[[3]byte](), []byte("abc"), [3]byte{97, 98, 99}, ""},
		{ptr[[3]byte](), b64, [3]byte{0, 1, 255}, ""},
		{ptr[[3]byte](), []any{int64(1), int64(2), int64(3)}, [3]byte{1, 2, 3}, ""},
		{ptr[[3]byte](), []byte("ab"), nil, "cannot convert bytes of length 2 to [3]uint8"},
		{ptr[[2]myByte](), []byte("ab"), [2]myByte{97, 98}, ""},
		{ptr[[]int](), []byte("ab"), nil, "cannot convert bytes to []int"},
	})
}

type Inner struct {
	Values []int
	Tags   map[string]float64
}

type Outer struct {
	Name  string `pyro:"name"`
	Inner Inner
	Items []Inner `pyro:"items"`
	Ptr   *Inner
}

type Snakey struct {
	ListContents []string
	HTTPServer   string
	UserID       int
	Exact        int
	Exact2       int `pyro:"exact"`
}

func TestConvertContainers(t *testing.T) {
	runConvCases(t, []convCase{
		// slices
		{ptr[[]int](), []any{int64(1), int64(2)}, []int{1, 2}, ""},
		{ptr[[]int](), py.Tuple{int64(1)}, []int{1}, ""},
		{ptr[[]int](), py.SetOf(int64(3)), []int{3}, ""},
		{ptr[[]int](), []any{}, []int{}, ""},
		{ptr[[]int](), nil, []int(nil), ""},
		{ptr[[]int](), py.DictOf(), nil, "cannot convert dict to []int"},
		{ptr[[]int](), "abc", nil, "cannot convert str to []int"},
		{ptr[[]int](), []any{int64(1), "x"}, nil, "list item 1: cannot convert str to int"},
		{ptr[[]int](), py.Tuple{"x"}, nil, "tuple item 0: cannot convert str to int"},
		{ptr[[]int](), py.SetOf("x"), nil, "set item 0: cannot convert str to int"},
		{ptr[[][]string](), []any{[]any{"a"}, py.Tuple{"b", int64(1)}}, nil, "list item 1: tuple item 1: cannot convert int to string"},
		{ptr[[]*int](), []any{nil, int64(2)}, []*int{nil, intPtr(2)}, ""},
		// arrays
		{ptr[[2]int](), []any{int64(1), int64(2)}, [2]int{1, 2}, ""},
		{ptr[[2]int](), py.Tuple{int64(1), int64(2)}, [2]int{1, 2}, ""},
		{ptr[[2]int](), []any{int64(1)}, nil, "cannot convert list of length 1 to [2]int"},
		{ptr[[2]int](), py.Tuple{int64(1), int64(2), int64(3)}, nil, "cannot convert tuple of length 3 to [2]int"},
		{ptr[[2]int](), py.SetOf(int64(1), int64(2)), nil, "cannot convert set to [2]int"},
		{ptr[[2]int](), nil, nil, "cannot convert NoneType to [2]int"},
		{ptr[[1]int](), []any{"x"}, nil, "list item 0: cannot convert str to int"},
		// maps
		{ptr[map[string]int](), py.DictOf("a", int64(1)), map[string]int{"a": 1}, ""},
		{ptr[map[string]int](), nil, map[string]int(nil), ""},
		{ptr[map[string]int](), py.DictOf(), map[string]int{}, ""},
		{ptr[map[string]int](), py.DictOf("a", "x"), nil, "dict key 'a': cannot convert str to int"},
		{ptr[map[string]int](), py.DictOf(int64(1), int64(1)), nil, "dict key 1: invalid key: cannot convert int to string"},
		{ptr[map[int]string](), py.DictOf(int64(1), "a", "2", "b", "-3", "c"), map[int]string{1: "a", 2: "b", -3: "c"}, ""},
		{ptr[map[int]string](), py.DictOf("1x", "a"), nil, "dict key '1x': invalid key: cannot convert str to int"},
		{ptr[map[int8]string](), py.DictOf("300", "a"), nil, "dict key '300': invalid key: int 300 overflows int8"},
		{ptr[map[uint64]bool](), py.DictOf("18446744073709551615", true), map[uint64]bool{math.MaxUint64: true}, ""},
		{ptr[map[float64]int](), py.DictOf("1.5", int64(1), 2.5, int64(2), "Infinity", int64(3)), map[float64]int{1.5: 1, 2.5: 2, math.Inf(1): 3}, ""},
		{ptr[map[bool]int](), py.DictOf("true", int64(1), false, int64(0)), map[bool]int{true: 1, false: 0}, ""},
		{ptr[map[[2]int]string](), py.DictOf(py.Tuple{int64(1), int64(2)}, "t"), map[[2]int]string{{1, 2}: "t"}, ""},
		{ptr[map[[2]int]string](), py.DictOf(py.Tuple{int64(1), "x"}, "t"), nil, "dict key (1, 'x'): tuple item 1: invalid key: cannot convert str to int"},
		{ptr[map[any]any](), py.DictOf(int64(1), "a", "k", nil), map[any]any{int64(1): "a", "k": nil}, ""},
		{ptr[map[any]any](), py.DictOf(int64(1), "a", py.Tuple{}, nil), nil, "dict key (): invalid key: a tuple cannot be a Go map key"},
		{ptr[map[any]bool](), py.SetOf([]byte("b")), nil, "set member b'b': a bytes cannot be a Go map key"},
		{ptr[map[string]struct{}](), py.SetOf("a", "b"), map[string]struct{}{"a": {}, "b": {}}, ""},
		{ptr[map[int]bool](), py.SetOf(int64(1)), map[int]bool{1: true}, ""},
		{ptr[map[int]bool](), py.SetOf("x"), nil, "set member 'x': cannot convert str to int"},
		{ptr[map[int]int](), py.SetOf(int64(1)), nil, "cannot convert set to map[int]int"},
		{ptr[map[int]struct{}](), []any{int64(1), int64(2), int64(1)}, map[int]struct{}{1: {}, 2: {}}, ""},
		{ptr[map[string]bool](), py.Tuple{"a"}, map[string]bool{"a": true}, ""},
		{ptr[map[any]bool](), []any{[]any{}}, nil, "set member []: unhashable type: 'list'"},
		{ptr[map[int]int](), []any{int64(1)}, nil, "cannot convert list to map[int]int"},
		{ptr[map[string]int](), []any{}, nil, "cannot convert list to map[string]int"},
		{ptr[map[string][]int](), py.DictOf("k", []any{int64(1), 2.5}), nil, "dict key 'k': list item 1: float 2.5 is not an integer"},
		{ptr[map[string]any](), (&uri{loc: "u"}), map[string]any{"__class__": "Pyro4.core.URI", "state": py.Tuple{"PYRO", "u"}}, ""},
		// structs
		{ptr[Point](), py.DictOf("X", int64(1), "Y", int64(2)), Point{1, 2}, ""},
		{ptr[Point](), py.DictOf("x", int64(1), "unknown", "z", int64(5), int64(6)), Point{X: 1}, ""},
		{ptr[Point](), py.DictOf(), Point{}, ""},
		{ptr[Point](), []any{}, nil, "cannot convert list to py_test.Point"},
		{ptr[Point](), nil, nil, "cannot convert NoneType to py_test.Point"},
		{ptr[*Point](), nil, (*Point)(nil), ""},
		{ptr[*Point](), py.DictOf("Y", int64(3)), &Point{Y: 3}, ""},
		{ptr[Point](), py.DictOf("X", "a"), nil, "field X: cannot convert str to int"},
		{ptr[Snakey](), py.DictOf("list_contents", []any{"a"}, "http_server", "h", "user_id", int64(7), "EXACT", int64(1), "exact", int64(2)),
			Snakey{ListContents: []string{"a"}, HTTPServer: "h", UserID: 7, Exact: 1, Exact2: 2}, ""}, // EXACT folds to the first field, Exact
		{ptr[Snakey](), py.DictOf("Exact", int64(1), "exact", int64(2)), Snakey{Exact: 1, Exact2: 2}, ""},
		{ptr[Tagged](), py.DictOf("name", "n", "Skip", int64(1), "-", int64(2), "Name", "N"), Tagged{Name: "N", Dash: 2}, ""},
		{ptr[Embeds](), py.DictOf("ID", int64(1), "Name", "x", "Extra", true, "Own", "o"), Embeds{Base: Base{ID: 1}, Extra: &Extra{Extra: true}, Own: "o"}, ""},
		{ptr[Embeds](), py.DictOf("ID", int64(1)), Embeds{Base: Base{ID: 1}}, ""},
		{ptr[Shadow](), py.DictOf("Name", "n", "ID", int64(3)), Shadow{Base: Base{ID: 3}, Name: "n"}, ""},
		{ptr[EmbedsUnexported](), py.DictOf("Hidden", int64(1), "shown", "s"), EmbedsUnexported{unexportedBase{Hidden: 1, Shown: "s"}, 0}, ""},
		{ptr[EmbedsNamed](), py.DictOf("base", py.DictOf("ID", int64(4))), EmbedsNamed{Base{ID: 4}}, ""},
		{ptr[Outer](), py.DictOf("name", "o", "items", []any{py.DictOf("values", []any{int64(1), "x"})}), nil,
			"field Items: list item 0: field Values: list item 1: cannot convert str to int"},
		{ptr[Outer](), py.DictOf("Inner", py.DictOf("Tags", py.DictOf("t", []any{}))), nil,
			"field Inner: field Tags: dict key 't': cannot convert list to float64"},
		{ptr[Outer](), py.DictOf("Ptr", py.DictOf("Values", []any{int64(1)})), Outer{Ptr: &Inner{Values: []int{1}}}, ""},
		{ptr[Outer](), (&uri{loc: "u"}), Outer{}, ""}, // class dict with no matching keys
	})
}

func intPtr(i int) *int { return &i }

type unexportedPtrEmbed struct {
	*unexportedBase
	X int
}

func TestConvertEmbeddedPointerToUnexported(t *testing.T) {
	var v unexportedPtrEmbed
	err := py.Convert(&v, py.DictOf("Shown", "s"))
	if err == nil || err.Error() != "field Shown: cannot set embedded pointer to unexported struct type py_test.unexportedBase" {
		t.Errorf("err = %v", err)
	}
	v.unexportedBase = &unexportedBase{}
	if err := py.Convert(&v, py.DictOf("Shown", "s", "X", int64(1))); err != nil || v.Shown != "s" || v.X != 1 {
		t.Errorf("allocated embedded pointer: %v %+v", err, v)
	}
}

func TestConvertReusesPointee(t *testing.T) {
	p := &Point{X: 1, Y: 2}
	keep := p
	if err := py.Convert(&p, py.DictOf("Y", int64(5))); err != nil {
		t.Fatal(err)
	}
	if p != keep || p.X != 1 || p.Y != 5 {
		t.Errorf("pointee not reused: %p %+v", p, p)
	}
}

func TestConvertBadTarget(t *testing.T) {
	for _, dst := range []any{nil, 5, (*int)(nil)} {
		err := py.Convert(dst, int64(1))
		var ce *py.ConvertError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "non-nil pointer") {
			t.Errorf("Convert(%#v): %v", dst, err)
		}
	}
	err := py.ConvertValue(reflect.ValueOf(5), int64(1))
	if err == nil || !strings.Contains(err.Error(), "settable") {
		t.Errorf("ConvertValue(unsettable): %v", err)
	}
	var x int
	if err := py.ConvertValue(reflect.ValueOf(&x).Elem(), int64(7)); err != nil || x != 7 {
		t.Errorf("ConvertValue: %v %d", err, x)
	}
}

func TestConvertErrorPath(t *testing.T) {
	var v struct{ A map[string][]int }
	err := py.Convert(&v, py.DictOf("A", py.DictOf("k", []any{int64(1), int64(2), int64(3), "x"})))
	var ce *py.ConvertError
	if !errors.As(err, &ce) {
		t.Fatalf("%T %v", err, err)
	}
	if want := []string{"field A", "dict key 'k'", "list item 3"}; !reflect.DeepEqual(ce.Path, want) || ce.Msg != "cannot convert str to int" {
		t.Errorf("Path %q Msg %q", ce.Path, ce.Msg)
	}
	ce.Prepend("arg 2")
	if got := ce.Error(); got != "arg 2: field A: dict key 'k': list item 3: cannot convert str to int" {
		t.Errorf("after Prepend: %s", got)
	}
	if got := (&py.ConvertError{Msg: "m"}).Prepend("keyword argument 'x'").Error(); got != "keyword argument 'x': m" {
		t.Errorf("Prepend on empty path: %s", got)
	}
	if got := (&py.ConvertError{Msg: "m"}).Error(); got != "m" {
		t.Errorf("no path: %s", got)
	}
	// very long dict keys are shortened in the path
	long := strings.Repeat("k", 100)
	var m map[string]int
	err = py.Convert(&m, py.DictOf(long, "x"))
	if !strings.HasPrefix(err.Error(), "dict key '"+strings.Repeat("k", 56)+"...: ") {
		t.Errorf("long key: %v", err)
	}
}

type deep struct {
	Next *deep
}

func TestConvertDepthLimit(t *testing.T) {
	var src any = py.DictOf()
	for range 2000 {
		src = py.DictOf("Next", src)
	}
	var d deep
	err := py.Convert(&d, src)
	if err == nil || !strings.Contains(err.Error(), "value nested deeper than 1000 levels") ||
		!strings.Contains(err.Error(), "more ...") {
		t.Errorf("deep: %v", err)
	}
	// a cyclic list converted into a recursive type stops too
	loop := []any{nil}
	loop[0] = loop
	type rec []rec
	var r rec
	if err := py.Convert(&r, loop); err == nil {
		t.Error("cyclic list converted")
	}
}
