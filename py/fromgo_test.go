package py_test

import (
	"errors"
	"math"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pyrogo/pyro/py"
)

type (
	myInt   int16
	myStr   string
	myBytes []byte
	myByte  uint8
)

type Point struct {
	X, Y int
}

type Tagged struct {
	Name    string            `pyro:"name"`
	Skip    int               `pyro:"-"`
	Dash    int               `pyro:"-,"`
	Empty   string            `pyro:",omitempty"`
	Zero    Point             `pyro:"zero,omitzero"`
	ZeroT   time.Time         `pyro:",omitzero"`
	List    []int             `pyro:"list,omitempty"`
	Map     map[string]string `pyro:",omitempty"`
	Ptr     *int              `pyro:",omitempty"`
	private int
}

type Base struct {
	ID   int
	Name string
}

type Extra struct {
	Name  string // conflicts with Base.Name at the same depth: both dropped
	Extra bool
}

type Tagged2 struct {
	Name string `pyro:"Name"` // tagged: wins over Base.Name at the same depth
}

type Embeds struct {
	Base
	*Extra
	Own string
}

type Embeds2 struct {
	Base
	Tagged2
}

type Shadow struct {
	Base
	Name string // shallower: wins
}

type unexportedBase struct {
	Hidden int
	Shown  string
}

type EmbedsUnexported struct {
	unexportedBase
	Other int
}

type EmbedsTime struct {
	time.Time
	N int
}

type EmbedsNamed struct {
	Base `pyro:"base"`
}

// Temp has its own Python form.
type Temp float64

func (t Temp) PyroValue() (any, error) { return map[string]any{"celsius": float64(t)}, nil }

// PtrMarshaler marshals through a pointer receiver.
type PtrMarshaler struct{ V int }

func (p *PtrMarshaler) PyroValue() (any, error) { return []any{"ptr", p.V}, nil }

type failingMarshaler struct{}

func (failingMarshaler) PyroValue() (any, error) { return nil, errors.New("boom") }

type selfMarshaler struct{}

func (s selfMarshaler) PyroValue() (any, error) { return s, nil }

// uri is a stand-in for a ClassDicter of another package.
type uri struct{ loc string }

func (u *uri) PyroClassDict() *py.Dict {
	return py.DictOf("__class__", "Pyro4.core.URI", "state", py.Tuple{"PYRO", u.loc})
}

type cyclic struct {
	Next *cyclic
}

func repr(t *testing.T, v any) string {
	t.Helper()
	out, err := py.FromGo(v)
	if err != nil {
		t.Fatalf("FromGo(%#v): %v", v, err)
	}
	return py.Repr(out)
}

func TestFromGoScalars(t *testing.T) {
	one := 1
	var nilPtr *int
	var nilIface error
	cases := []struct {
		in   any
		want string
	}{
		{nil, "None"},
		{nilPtr, "None"},
		{&one, "1"},
		{&nilPtr, "None"},
		{true, "True"},
		{int(-3), "-3"},
		{int8(-128), "-128"},
		{int16(300), "300"},
		{int32(-7), "-7"},
		{int64(math.MinInt64), "-9223372036854775808"},
		{uint(7), "7"},
		{uint8(255), "255"},
		{uint16(65535), "65535"},
		{uint32(math.MaxUint32), "4294967295"},
		{uint64(math.MaxInt64), "9223372036854775807"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{uintptr(9), "9"},
		{myInt(5), "5"},
		{float32(1.5), "1.5"},
		{float32(0.1), "0.10000000149011612"},
		{1e16, "1e+16"},
		{math.Inf(-1), "-inf"},
		{complex64(complex(1, -2)), "(1-2j)"},
		{complex(0, 1), "1j"},
		{"héllo", "'héllo'"},
		{myStr("s"), "'s'"},
		{[]byte(nil), "b''"},
		{[]byte("ab"), "b'ab'"},
		{myBytes("cd"), "b'cd'"},
		{[]myByte{1, 2}, "b'\\x01\\x02'"},
		{[3]byte{1, 2, 3}, "b'\\x01\\x02\\x03'"},
		{[2]myByte{65, 66}, "b'AB'"},
		{big.NewInt(5), "5"},
		{new(big.Int).Lsh(big.NewInt(1), 70), "1180591620717411303424"},
		{*big.NewInt(-9), "-9"},
		{(*big.Int)(nil), "None"},
		{big.NewFloat(2.5), "2.5"},
		{*big.NewFloat(0.25), "0.25"},
		{time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "'2024-01-02T03:04:05.000006+00:00'"},
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("X", -5*3600)), "'2024-01-02T03:04:05-05:00'"},
		{90 * time.Second, "90.0"},
		{-1500 * time.Millisecond, "-1.5"},
		{net.IPv4(10, 0, 0, 1), "'10.0.0.1'"},
		{Temp(21.5), "{'celsius': 21.5}"},
		{&PtrMarshaler{V: 3}, "['ptr', 3]"},
		{PtrMarshaler{V: 4}, "['ptr', 4]"},
		{[]PtrMarshaler{{V: 5}}, "[['ptr', 5]]"},
		{(*PtrMarshaler)(nil), "None"},
		{&uri{loc: "x@h:1"}, "{'__class__': 'Pyro4.core.URI', 'state': ('PYRO', 'x@h:1')}"},
		{(*uri)(nil), "None"},
		{&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"x"}}, "ValueError('x')"},
		{(*py.Exception)(nil), "None"},
		{(*py.Dict)(nil), "{}"},
		{(*py.Set)(nil), "set()"},
		{[]error{nilIface}, "[None]"},
	}
	for _, c := range cases {
		if got := repr(t, c.in); got != c.want {
			t.Errorf("FromGo(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestFromGoTypes(t *testing.T) {
	out, _ := py.FromGo(uint64(math.MaxUint64))
	if _, ok := out.(*big.Int); !ok {
		t.Errorf("uint64 max: %T", out)
	}
	out, _ = py.FromGo(big.NewInt(5))
	if out != int64(5) {
		t.Errorf("small big.Int not normalised: %#v", out)
	}
	out, _ = py.FromGo(float32(2))
	if out != 2.0 {
		t.Errorf("float32: %#v", out)
	}
	out, _ = py.FromGo(complex64(1))
	if out != complex(1, 0) {
		t.Errorf("complex64: %#v", out)
	}
	u := &uri{loc: "a"}
	out, _ = py.FromGo(u)
	if out != u {
		t.Errorf("ClassDicter not returned unchanged: %#v", out)
	}
	out, _ = py.FromGo([]any{u})
	if l := out.([]any); l[0] != u {
		t.Errorf("ClassDicter in list changed: %#v", l[0])
	}
}

func TestFromGoContainers(t *testing.T) {
	seven := 7
	cases := []struct {
		in   any
		want string
	}{
		{[]int(nil), "[]"},
		{[]int{1, 2}, "[1, 2]"},
		{[2]string{"a", "b"}, "['a', 'b']"},
		{[0]int{}, "[]"},
		{[][]byte{[]byte("x")}, "[b'x']"},
		{[]any{int8(1), []int{2}}, "[1, [2]]"},
		{py.Tuple{int8(1), "a", []uint{3}}, "(1, 'a', [3])"},
		{map[string]int(nil), "{}"},
		{map[string]int{"b": 2, "a": 1, "c": 3}, "{'a': 1, 'b': 2, 'c': 3}"},
		{map[myStr]bool{"y": true, "x": false}, "{'x': False, 'y': True}"},
		{map[int]string{10: "x", -1: "y", 2: "z"}, "{-1: 'y', 2: 'z', 10: 'x'}"},
		{map[uint64]int{math.MaxUint64: 1, 0: 2}, "{0: 2, 18446744073709551615: 1}"},
		{map[float64]int{2.5: 1, -1: 2, math.Inf(1): 3}, "{-1.0: 2, 2.5: 1, inf: 3}"},
		{map[bool]int{true: 1, false: 0}, "{False: 0, True: 1}"},
		{map[[2]int]string{{1, 2}: "a", {0, 9}: "b"}, "{(0, 9): 'b', (1, 2): 'a'}"},
		{map[[2]byte]int{{65, 66}: 1}, "{b'AB': 1}"},
		{map[any]int{"s": 1, int64(2): 2, nil: 3, 1.5: 4, true: 5, [1]string{"t"}: 6, complex(1, 1): 7}, "{None: 3, True: 5, 1.5: 4, 2: 2, (1+1j): 7, 's': 1, ('t',): 6}"},
		{map[*int]string{&seven: "p"}, "{7: 'p'}"},
		{map[string]any{"n": nil, "l": []any{}, "d": map[string]int{}}, "{'d': {}, 'l': [], 'n': None}"},
		{map[string]struct{}{"b": {}, "a": {}}, "{'a', 'b'}"},
		{map[int]struct{}(nil), "set()"},
		{map[[2]int]struct{}{{2, 1}: {}, {1, 2}: {}}, "{(1, 2), (2, 1)}"},
		{map[int]bool{2: true}, "{2: True}"},
		{map[textKey]int{{"k"}: 1}, "{'<k>': 1}"},
		{map[string]*py.Dict{"d": py.DictOf("k", int16(3))}, "{'d': {'k': 3}}"},
		{py.DictOf("k", []int8{1}, int64(2), "x"), "{'k': [1], 2: 'x'}"},
		{py.SetOf("a"), "{'a'}"},
	}
	for _, c := range cases {
		if got := repr(t, c.in); got != c.want {
			t.Errorf("FromGo(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestFromGoStructs(t *testing.T) {
	n := 0
	cases := []struct {
		in   any
		want string
	}{
		{Point{1, 2}, "{'X': 1, 'Y': 2}"},
		{&Point{3, 4}, "{'X': 3, 'Y': 4}"},
		{struct{}{}, "{}"},
		{Tagged{Name: "n", Skip: 1, Dash: 2, private: 3}, "{'name': 'n', '-': 2}"},
		{Tagged{Empty: "e", Zero: Point{1, 0}, ZeroT: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), List: []int{1}, Map: map[string]string{"a": "b"}, Ptr: &n},
			"{'name': '', '-': 0, 'Empty': 'e', 'zero': {'X': 1, 'Y': 0}, 'ZeroT': '2000-01-01T00:00:00+00:00', 'list': [1], 'Map': {'a': 'b'}, 'Ptr': 0}"},
		{Tagged{List: []int{}, Map: map[string]string{}}, "{'name': '', '-': 0}"},
		{Embeds{Base: Base{ID: 1, Name: "b"}, Extra: &Extra{Name: "e", Extra: true}, Own: "o"}, "{'ID': 1, 'Extra': True, 'Own': 'o'}"},
		{Embeds{Base: Base{ID: 1}}, "{'ID': 1, 'Own': ''}"},
		{Embeds2{Base: Base{ID: 1, Name: "b"}, Tagged2: Tagged2{Name: "t"}}, "{'ID': 1, 'Name': 't'}"},
		{Shadow{Base: Base{ID: 2, Name: "inner"}, Name: "outer"}, "{'ID': 2, 'Name': 'outer'}"},
		{EmbedsUnexported{unexportedBase{Hidden: 1, Shown: "s"}, 2}, "{'Hidden': 1, 'Shown': 's', 'Other': 2}"},
		// time.Time's MarshalText is promoted: EmbedsTime is a TextMarshaler
		{EmbedsTime{Time: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), N: 1}, "'2000-01-01T00:00:00Z'"},
		{EmbedsPtrMarshaler{PtrMarshaler: PtrMarshaler{V: 1}, N: 2}, "['ptr', 1]"},
		{EmbedsNamed{Base{ID: 1}}, "{'base': {'ID': 1, 'Name': ''}}"},
		{struct {
			A any
			B []any
		}{A: Point{1, 2}, B: []any{Point{3, 4}}}, "{'A': {'X': 1, 'Y': 2}, 'B': [{'X': 3, 'Y': 4}]}"},
		{[]Point{{1, 2}}, "[{'X': 1, 'Y': 2}]"},
		{map[string]Point{"p": {5, 6}}, "{'p': {'X': 5, 'Y': 6}}"},
	}
	for _, c := range cases {
		if got := repr(t, c.in); got != c.want {
			t.Errorf("FromGo(%#v) =\n %s\nwant\n %s", c.in, got, c.want)
		}
	}
}

func TestFromGoErrors(t *testing.T) {
	c := &cyclic{}
	c.Next = c
	loop := []any{nil}
	loop[0] = loop
	cases := []struct {
		in      any
		want    string
		typeErr bool // an *UnsupportedError
	}{
		{make(chan int), "py: cannot serialize Go chan int", true},
		{func() {}, "py: cannot serialize Go func()", true},
		{unsafe.Pointer(nil), "py: cannot serialize Go unsafe.Pointer", true},
		{map[string]any{"a": []any{1, make(chan int)}}, "py: cannot serialize Go chan int: at dict key 'a': list item 1", true},
		{struct{ F []func() }{F: []func(){nil}}, "py: cannot serialize Go func(): at field F: list item 0", true},
		{py.Tuple{1, struct{ C chan int }{}}, "py: cannot serialize Go chan int: at tuple item 1: field C", true},
		{py.DictOf("k", []any{make(chan int)}), "py: cannot serialize Go chan int: at dict key 'k': list item 0", true},
		{map[listKey]int{{}: 1}, "py: cannot serialize Go map[py_test.listKey]int: dict key: unhashable type: 'list'", true},
		{map[Point]int{{1, 2}: 1}, "py: cannot serialize Go map[py_test.Point]int: dict key: unhashable type: 'dict'", true},
		{map[Point]struct{}{{1, 2}: {}}, "py: cannot serialize Go map[py_test.Point]struct {}: set member: unhashable type: 'dict'", true},
		{c, "py: cannot serialize Go *py_test.cyclic: nested deeper than 1000 levels (a cycle?) (at field Next: field Next: field Next: field Next: field Next: field Next: field Next: field Next: ... 484 more ...: field Next: field Next: field Next: field Next: field Next: field Next: field Next: field Next)", true},
		{loop, "", true},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "py: cannot serialize Go time.Time: year 10000 is outside Python's datetime range 1..9999", true},
		{[]any{failingMarshaler{}}, "py: list item 0: py_test.failingMarshaler.PyroValue: boom", false},
		{selfMarshaler{}, "", true},
	}
	for _, c := range cases {
		_, err := py.FromGo(c.in)
		if err == nil {
			t.Errorf("FromGo(%T) succeeded", c.in)
			continue
		}
		if c.want != "" && err.Error() != c.want {
			t.Errorf("FromGo(%T) error\n %s\nwant\n %s", c.in, err, c.want)
		}
		if got := errors.Is(err, py.ErrUnsupported); got != c.typeErr {
			t.Errorf("FromGo(%T): errors.Is(ErrUnsupported) = %v (%v)", c.in, got, err)
		}
	}
	_, err := py.FromGo([]any{failingMarshaler{}})
	if !strings.Contains(err.Error(), "boom") || errors.Unwrap(errors.Unwrap(err)) == nil {
		t.Errorf("marshaler error not wrapped: %v", err)
	}
}

// TestFromGoModelUnchanged checks the fast path: model values come back
// as the same objects, and containers are rebuilt only when needed.
func TestFromGoModelUnchanged(t *testing.T) {
	l := []any{int64(1), "a", []any{1.5}, py.Tuple{nil}}
	out, _ := py.FromGo(l)
	if &out.([]any)[0] != &l[0] {
		t.Error("model list rebuilt")
	}
	d := py.DictOf("a", []any{int64(1)})
	out, _ = py.FromGo(d)
	if out.(*py.Dict) != d {
		t.Error("model dict rebuilt")
	}
	// one element needing conversion rebuilds the list, not the original
	l2 := []any{int64(1), int(2)}
	out, _ = py.FromGo(l2)
	if l2[1] != int(2) || out.([]any)[1] != int64(2) || out.([]any)[0] != int64(1) {
		t.Errorf("conversion wrong or in place: %#v %#v", l2, out)
	}
	d2 := py.DictOf("a", int64(1), "b", int8(2))
	for i := range 10 {
		d2.Set(int64(i), int64(i))
	}
	out, _ = py.FromGo(d2)
	nd := out.(*py.Dict)
	if v, _ := d2.Get("b"); v != int8(2) {
		t.Error("original dict modified")
	}
	if v, _ := nd.Get("b"); v != int64(2) || nd.Len() != d2.Len() || nd.Key(0) != "a" {
		t.Errorf("converted dict: %s", py.Repr(nd))
	}
	nd.Set("new", 1) // the copies do not share storage
	if _, ok := d2.Get("new"); ok || d2.Len() == nd.Len() {
		t.Error("converted dict shares storage with the original")
	}
	for _, k := range []any{int64(3), "a"} {
		if _, ok := nd.Get(k); !ok {
			t.Errorf("converted dict lost key %v", k)
		}
	}
	var lv, dv any = l, d // boxed once: boxing a slice allocates
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := py.FromGo(lv); err != nil {
			t.Fatal(err)
		}
		if _, err := py.FromGo(dv); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("FromGo of model values allocates %v times", allocs)
	}
}

// textKey is a comparable TextMarshaler.
type textKey struct{ s string }

func (k textKey) MarshalText() ([]byte, error) { return []byte("<" + k.s + ">"), nil }

// listKey marshals to an unhashable list.
type listKey struct{}

func (listKey) PyroValue() (any, error) { return []any{}, nil }

// EmbedsPtrMarshaler embeds a type whose PyroValue has a pointer receiver;
// *EmbedsPtrMarshaler gets the method, and FromGo uses pointer methods.
type EmbedsPtrMarshaler struct {
	PtrMarshaler
	N int
}

type encodingTextMarshaler = interface{ MarshalText() ([]byte, error) }

type zeroer struct{ n int }

func (z zeroer) IsZero() bool { return z.n < 0 }

type OmitZero struct {
	T  *time.Time `pyro:",omitzero"`
	Z  zeroer     `pyro:",omitzero"`
	PZ *zeroer    `pyro:",omitzero"`
	A  [2]int     `pyro:",omitempty"`
	A0 [0]int     `pyro:",omitempty"`
	I  any        `pyro:",omitempty"`
	S  struct{}   `pyro:",omitempty"` // structs are never empty
}

func TestFromGoMore(t *testing.T) {
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	u := uri{loc: "v"}
	cases := []struct {
		in   any
		want string
	}{
		// mixed numeric keys sort numerically, NaN first
		{map[any]int{int64(3): 1, 2.5: 2, two64.String(): 3, math.NaN(): 4, int8(-1): 5},
			"{nan: 4, -1: 5, 2.5: 2, 3: 1, '18446744073709551616': 3}"},
		{map[any]int{[2]int{1, 2}: 1, [1]int{1}: 2, [3]int{0, 0, 0}: 3, [2]int{1, 1}: 4},
			"{(0, 0, 0): 3, (1,): 2, (1, 1): 4, (1, 2): 1}"},
		{map[any]int{[2]byte{1, 2}: 1, [1]byte{0}: 2, complex(1, 2): 3, complex(1, 1): 4, complex(0, 5): 5, false: 6},
			"{False: 6, 5j: 5, (1+1j): 4, (1+2j): 3, b'\\x00': 2, b'\\x01\\x02': 1}"},
		{map[*int]int{nil: 1}, "{None: 1}"},
		{map[[1]*int]int{{nil}: 1}, "{(None,): 1}"},
		// ClassDicters met through reflection
		{struct{ U *uri }{&u}, "{'U': {'__class__': 'Pyro4.core.URI', 'state': ('PYRO', 'v')}}"},
		{struct{ U uri }{u}, "{'U': {'__class__': 'Pyro4.core.URI', 'state': ('PYRO', 'v')}}"},
		{struct{ E *py.Exception }{}, "{'E': None}"},
		{struct{ D py.Dict }{}, "{'D': {}}"},
		{struct{ B big.Int }{*two64}, "{'B': 18446744073709551616}"},
		{struct{ P *big.Int }{}, "{'P': None}"},
		{struct{ N *textKey }{}, "{'N': None}"},
		{struct{ N textKey }{textKey{"x"}}, "{'N': '<x>'}"},
		{struct{ M encodingTextMarshaler }{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, "{'M': '2000-01-01T00:00:00+00:00'}"},
		{struct{ M py.Marshaler }{Temp(1)}, "{'M': {'celsius': 1.0}}"},
		{struct{ M py.Marshaler }{}, "{'M': None}"},
		{struct{ C py.ClassDicter }{(*uri)(nil)}, "{'C': None}"},
		{OmitZero{}, "{'Z': {}, 'A': [0, 0], 'S': {}}"}, // zeroer{0}.IsZero() is false
		{OmitZero{Z: zeroer{-1}, PZ: &zeroer{-1}, I: 0}, "{'A': [0, 0], 'I': 0, 'S': {}}"},
		{OmitZero{Z: zeroer{1}, PZ: &zeroer{1}, T: &time.Time{}}, "{'Z': {}, 'PZ': {}, 'A': [0, 0], 'S': {}}"}, // (*time.Time).IsZero
		{OmitZero{Z: zeroer{1}, T: &time.Time{}}, "{'Z': {}, 'A': [0, 0], 'S': {}}"},
		{OmitZero{Z: zeroer{-1}, T: new(time.Unix(0, 0).UTC())}, "{'T': '1970-01-01T00:00:00+00:00', 'A': [0, 0], 'S': {}}"},
	}
	for _, c := range cases {
		if got := repr(t, c.in); got != c.want {
			t.Errorf("FromGo(%#v) =\n %s\nwant\n %s", c.in, got, c.want)
		}
	}
}

type failingText struct{}

func (failingText) MarshalText() ([]byte, error) { return nil, errors.New("no text") }

func TestFromGoTextMarshalerError(t *testing.T) {
	_, err := py.FromGo(map[string]any{"k": failingText{}})
	if err == nil || err.Error() != "py: dict key 'k': py_test.failingText.MarshalText: no text" {
		t.Errorf("err = %v", err)
	}
}
