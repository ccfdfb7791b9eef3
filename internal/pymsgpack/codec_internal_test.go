package pymsgpack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

// h decodes hex with optional spaces; "'text'" inserts text.
func h(s string) []byte {
	var out []byte
	for _, part := range strings.Fields(s) {
		if strings.HasPrefix(part, "'") && strings.HasSuffix(part, "'") && len(part) >= 2 {
			out = append(out, part[1:len(part)-1]...)
			continue
		}
		b, err := hex.DecodeString(part)
		if err != nil {
			panic("bad hex " + part)
		}
		out = append(out, b...)
	}
	return out
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func ints(n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = int64(0)
	}
	return l
}

// pyNaN is float('nan') as CPython makes it (0x7ff8000000000000); Go's
// math.NaN() has another payload bit (0x7ff8000000000001), and the codec
// keeps NaN bits as they are.
var pyNaN = math.Float64frombits(0x7ff8000000000000)

func zeros(n int) []byte { return make([]byte, n) }

// classDicter is a ClassDicter outside package py, like a URI type.
type classDicter struct{ state py.Tuple }

func (c *classDicter) PyroClassDict() *py.Dict {
	return py.DictOf("__class__", "Pyro4.core.URI", "state", c.state)
}

// Payloads of protocol §11.7 (msgpack name server lookup).
var (
	dumpInvoke = h("94 af 'Pyro.NameServer' a6 'lookup' 91 af 'Pyro.NameServer' 80")
	dumpResult = h("82 a9 '__class__' ae 'Pyro4.core.URI' a5 'state' 95 a4 'PYRO' af 'Pyro.NameServer' c0 a9 '127.0.0.1' cd 4b 5a")
)

func invokeValue() py.Tuple {
	return py.Tuple{"Pyro.NameServer", "lookup", []any{"Pyro.NameServer"}, py.NewDict(0)}
}

func resultValue() *py.Dict {
	return py.DictOf("__class__", "Pyro4.core.URI", "state", []any{"PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19290)})
}

type codecCase struct {
	name string
	v    any
	b    []byte
}

// canonical: encodings that Go writes and that decode back to the same
// value (tuples and sets excepted: they decode as lists).
func canonicalCases() []codecCase {
	a31, a32, a255, a256 := strings.Repeat("a", 31), strings.Repeat("a", 32), strings.Repeat("a", 255), strings.Repeat("a", 256)
	a65535, a65536 := strings.Repeat("a", 65535), strings.Repeat("a", 65536)
	return []codecCase{
		{"nil", nil, h("c0")},
		{"true", true, h("c3")},
		{"false", false, h("c2")},
		{"0", int64(0), h("00")},
		{"127", int64(127), h("7f")},
		{"128", int64(128), h("cc 80")},
		{"255", int64(255), h("cc ff")},
		{"256", int64(256), h("cd 01 00")},
		{"65535", int64(65535), h("cd ff ff")},
		{"65536", int64(65536), h("ce 00 01 00 00")},
		{"2^32-1", int64(math.MaxUint32), h("ce ff ff ff ff")},
		{"2^32", int64(1 << 32), h("cf 00 00 00 01 00 00 00 00")},
		{"2^63-1", int64(math.MaxInt64), h("cf 7f ff ff ff ff ff ff ff")},
		{"2^63", testkit.BigInt("9223372036854775808"), h("cf 80 00 00 00 00 00 00 00")},
		{"2^64-1", testkit.BigInt("18446744073709551615"), h("cf ff ff ff ff ff ff ff ff")},
		{"2^64", testkit.BigInt("18446744073709551616"), h("c7 14 31 '18446744073709551616'")},
		{"-1", int64(-1), h("ff")},
		{"-32", int64(-32), h("e0")},
		{"-33", int64(-33), h("d0 df")},
		{"-128", int64(-128), h("d0 80")},
		{"-129", int64(-129), h("d1 ff 7f")},
		{"-32768", int64(-32768), h("d1 80 00")},
		{"-32769", int64(-32769), h("d2 ff ff 7f ff")},
		{"-2^31", int64(math.MinInt32), h("d2 80 00 00 00")},
		{"-2^31-1", int64(math.MinInt32 - 1), h("d3 ff ff ff ff 7f ff ff ff")},
		{"-2^63", int64(math.MinInt64), h("d3 80 00 00 00 00 00 00 00")},
		{"-2^63-1", testkit.BigInt("-9223372036854775809"), h("c7 14 31 '-9223372036854775809'")},
		{"2^100", testkit.BigInt("1267650600228229401496703205376"), h("c7 1f 31 '1267650600228229401496703205376'")},
		{"1.5", 1.5, h("cb 3f f8 00 00 00 00 00 00")},
		{"-0.0", math.Copysign(0, -1), h("cb 80 00 00 00 00 00 00 00")},
		{"nan", pyNaN, h("cb 7f f8 00 00 00 00 00 00")},
		{"inf", math.Inf(1), h("cb 7f f0 00 00 00 00 00 00")},
		{"-inf", math.Inf(-1), h("cb ff f0 00 00 00 00 00 00")},
		{"empty str", "", h("a0")},
		{"str 31", a31, cat(h("bf"), []byte(a31))},
		{"str 32", a32, cat(h("d9 20"), []byte(a32))},
		{"str 255", a255, cat(h("d9 ff"), []byte(a255))},
		{"str 256", a256, cat(h("da 01 00"), []byte(a256))},
		{"str 65535", a65535, cat(h("da ff ff"), []byte(a65535))},
		{"str 65536", a65536, cat(h("db 00 01 00 00"), []byte(a65536))},
		{"str unicode", "h\u00e9\U0001F600\u2028", h("aa 68 c3 a9 f0 9f 98 80 e2 80 a8")},
		{"str controls", "\x00\x7f", h("a2 00 7f")},
		{"empty bytes", []byte{}, h("c4 00")},
		{"bytes", []byte{0, 0xff}, h("c4 02 00 ff")},
		{"bytes 256", zeros(256), cat(h("c5 01 00"), zeros(256))},
		{"bytes 65536", zeros(65536), cat(h("c6 00 01 00 00"), zeros(65536))},
		{"empty list", []any{}, h("90")},
		{"list", []any{int64(1), "a", nil}, h("93 01 a1 61 c0")},
		{"list 15", ints(15), cat(h("9f"), zeros(15))},
		{"list 16", ints(16), cat(h("dc 00 10"), zeros(16))},
		{"list 65535", ints(65535), cat(h("dc ff ff"), zeros(65535))},
		{"list 65536", ints(65536), cat(h("dd 00 01 00 00"), zeros(65536))},
		{"empty dict", py.NewDict(0), h("80")},
		{"dict", py.DictOf("a", int64(1), int64(2), "b"), h("82 a1 61 01 02 a1 62")},
		{"dict any keys", py.DictOf([]byte("k"), nil, nil, true, 1.5, false, complex(0, 1), int64(0), testkit.BigInt("99999999999999999999"), int64(1)),
			h("85 c4 01 6b c0 c0 c3 cb 3f f8 00 00 00 00 00 00 c2 d8 30 00 00 00 00 00 00 00 00 00 00 00 00 00 00 f0 3f 00 c7 14 31 '99999999999999999999' 01")},
		{"complex", complex(1, 2), h("d8 30 00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 00 40")},
		{"complex nan", complex(pyNaN, math.Copysign(0, -1)), h("d8 30 00 00 00 00 00 00 f8 7f 00 00 00 00 00 00 00 80")},
		{"nested", []any{py.DictOf("a", []any{[]any{}})}, h("91 81 a1 61 91 90")},
		{"§11.7 result", resultValue(), dumpResult},
	}
}

func dictN(n int) *py.Dict {
	d := py.NewDict(n)
	for i := range n {
		d.SetString(strings.Repeat("k", i+1), nil)
	}
	return d
}

func TestEncodeTable(t *testing.T) {
	tests := canonicalCases()
	tests = append(tests, []codecCase{
		{"go int", 300, h("cd 01 2c")},
		{"go int8", int8(-1), h("ff")},
		{"go uint64", uint64(math.MaxUint64), h("cf ff ff ff ff ff ff ff ff")},
		{"tuple", py.Tuple{int64(1), py.Tuple{}}, h("92 01 90")},
		{"set", py.SetOf(int64(3), int64(1)), h("92 03 01")},
		{"tuple key", py.DictOf(py.Tuple{int64(1)}, nil), h("81 91 01 c0")}, // Python cannot read it back either
		{"go NaN keeps its bits", math.NaN(), h("cb 7f f8 00 00 00 00 00 01")},
		{"nil set", (*py.Set)(nil), h("90")},
		{"nil dict", (*py.Dict)(nil), h("80")},
		{"nil list", []any(nil), h("90")},
		{"dict 15", dictN(15), nil},
		{"dict 16", dictN(16), nil},
		{"§11.7 invoke", invokeValue(), dumpInvoke},
		{"exception", &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"bad", int64(12)},
			Attributes: py.DictOf("_pyroTraceback", []any{"a\n", "b\n"})},
			h("84 a9 '__class__' b3 'builtins.ValueError' ad '__exception__' c3 a4 'args' 92 a3 'bad' 0c aa 'attributes' 81 ae '_pyroTraceback' 92 a2 61 0a a2 62 0a")},
		{"exception no attrs", &py.Exception{Class: "builtins.StopIteration"},
			h("84 a9 '__class__' b6 'builtins.StopIteration' ad '__exception__' c3 a4 'args' 90 aa 'attributes' 80")},
		{"classdicter", &classDicter{py.Tuple{"PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19290)}}, dumpResult},
		{"nil classdicter", (*classDicter)(nil), h("c0")},
		{"nil big int", (*big.Int)(nil), h("c0")},
		// Values outside the model go through py.FromGo.
		{"go []string", []string{"a", "b"}, h("92 a1 61 a1 62")},
		{"go map", map[string]int{"k": 1}, h("81 a1 6b 01")},
		{"go nested in model", []any{[]string{"x"}}, h("91 91 a1 78")},
	}...)
	var enc Encoder
	for _, tt := range tests {
		got, err := enc.Append(nil, tt.v)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		want := tt.b
		switch tt.name {
		case "dict 15":
			if got[0] != 0x8f {
				t.Errorf("dict 15: header % x, want 8f", got[:3])
			}
			continue
		case "dict 16":
			if !bytes.HasPrefix(got, h("de 00 10")) {
				t.Errorf("dict 16: header % x, want de 00 10", got[:3])
			}
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got % x\nwant % x", tt.name, trunc(got), trunc(want))
		}
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func TestEncodeTime(t *testing.T) {
	enc := Encoder{TimeExt: true}
	tm := time.Date(2024, 1, 2, 3, 4, 5, 6_789, time.UTC) // 6.789 µs: truncated to 6
	got, err := enc.Append(nil, tm)
	if err != nil {
		t.Fatal(err)
	}
	ts := float64(tm.Unix()) + 6/1e6
	want := cat(h("d7 32"), le64(math.Float64bits(ts)))
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
	back, err := (&Decoder{}).Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	if bt := back.(time.Time); !bt.Equal(tm.Truncate(time.Microsecond)) || bt.Location() != time.Local {
		t.Fatalf("decoded %v, want %v in local time", bt, tm)
	}
	// Without TimeExt, time.Time goes through py.FromGo, which makes an
	// ISO 8601 str of it.
	b, err := (&Encoder{}).Append(nil, tm)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := (&Decoder{}).Decode(b); err != nil || !strings.HasPrefix(fmt.Sprint(v), "2024-01-02T03:04:05") {
		t.Fatalf("time without TimeExt: % x, %v; want an ISO str", b, err)
	}
}

func le64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

func TestEncodeErrors(t *testing.T) {
	self := []any{nil}
	self[0] = self
	tests := []struct {
		name string
		v    any
		msg  string
	}{
		{"frozenset", &py.Set{Frozen: true}, "don't know how to serialize class <class 'frozenset'> using serializer MsgpackSerializer. Give it vars() or an appropriate __getstate__"},
		{"nested frozenset", py.DictOf("a", []any{&py.Set{Frozen: true}}), "frozenset"},
		{"frozenset key", py.DictOf(&py.Set{Frozen: true}, int64(1)), "frozenset"},
		{"invalid utf8", "\xff", "invalid UTF-8"},
		{"go chan", make(chan int), "serialize"},
		{"circular", self, "circular"},
	}
	var enc Encoder
	for _, tt := range tests {
		out, err := enc.Append([]byte("keep"), tt.v)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if string(out) != "keep" {
			t.Errorf("%s: returned %q, want the original slice", tt.name, out)
		}
		if !errors.Is(err, py.ErrUnsupported) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want ErrUnsupported containing %q", tt.name, err, tt.msg)
		}
	}
}

func TestDecodeTable(t *testing.T) {
	tests := canonicalCases()
	tests = append(tests, []codecCase{
		{"§11.7 invoke", []any{"Pyro.NameServer", "lookup", []any{"Pyro.NameServer"}, py.NewDict(0)}, dumpInvoke},
		// Non-canonical forms other writers may use.
		{"uint8 small", int64(5), h("cc 05")},
		{"uint16 small", int64(5), h("cd 00 05")},
		{"uint32 small", int64(5), h("ce 00 00 00 05")},
		{"uint64 small", int64(5), h("cf 00 00 00 00 00 00 00 05")},
		{"int8 positive", int64(5), h("d0 05")},
		{"int16", int64(-2), h("d1 ff fe")},
		{"int32 positive", int64(7), h("d2 00 00 00 07")},
		{"int64 positive", int64(7), h("d3 00 00 00 00 00 00 00 07")},
		{"float32", 1.5, h("ca 3f c0 00 00")},
		{"float32 nan", math.NaN(), h("ca 7f c0 00 00")},
		{"float32 -inf", math.Inf(-1), h("ca ff 80 00 00")},
		{"float32 0.1", float64(float32(0.1)), h("ca 3d cc cc cd")},
		{"str8 short", "ab", h("d9 02 61 62")},
		{"str16 empty", "", h("da 00 00")},
		{"str32 short", "a", h("db 00 00 00 01 61")},
		{"bin16 short", []byte("a"), h("c5 00 01 61")},
		{"bin32 empty", []byte{}, h("c6 00 00 00 00")},
		{"array16 small", []any{true}, h("dc 00 01 c3")},
		{"array32 empty", []any{}, h("dd 00 00 00 00")},
		{"map16 small", py.DictOf("a", nil), h("de 00 01 a1 61 c0")},
		{"map32 empty", py.NewDict(0), h("df 00 00 00 00")},
		{"duplicate keys", py.DictOf("a", int64(3), "b", int64(2)), h("83 a1 61 01 a1 62 02 a1 61 03")},
		{"equal keys 1 1.0 true", py.DictOf(int64(1), "c"), h("83 01 a1 61 cb 3f f0 00 00 00 00 00 00 a1 62 c3 a1 63")},
		{"small big int ext", int64(-12), h("c7 03 31 '-12'")},
		{"zero big int ext", int64(0), h("d4 31 '0'")},
		{"leading zeros big int ext", int64(7), h("c7 03 31 '007'")},
		{"uint64 ext", testkit.BigInt("18446744073709551615"), h("c7 14 31 '18446744073709551615'")},
	}...)
	var dec Decoder
	for _, tt := range tests {
		got, err := dec.Decode(tt.b)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		want := listify(tt.v)
		if !py.Same(got, want) {
			t.Errorf("%s: got %.100s, want %.100s", tt.name, py.Repr(got), py.Repr(want))
		}
	}
}

// listify turns tuples and sets into lists, as msgpack round trips do.
func listify(v any) any {
	switch v := v.(type) {
	case py.Tuple:
		return listify([]any(v))
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = listify(e)
		}
		return out
	case *py.Set:
		return listify(v.Items())
	case *py.Dict:
		d := py.NewDict(v.Len())
		for k, e := range v.All() {
			_ = d.Set(k, listify(e)) // keys stay: tuple keys remain hashable
		}
		return d
	}
	return v
}

func TestDecodeTimes(t *testing.T) {
	ts := func(f float64) []byte { return cat(h("d7 32"), le64(math.Float64bits(f))) }
	ord := func(n int64) []byte { return cat(h("d7 33"), le64(uint64(n))) }
	tests := []struct {
		name string
		b    []byte
		want time.Time
	}{
		{"datetime epoch", ts(0), time.Unix(0, 0)},
		{"datetime micro", ts(1704164645.000006), time.Unix(1704164645, 6000)},
		{"datetime negative", ts(-1.5), time.Unix(-2, 500_000_000)},
		{"datetime half-even down", ts(0.0000005), time.Unix(0, 0)},
		{"datetime half-even up", ts(0.0000015), time.Unix(0, 2000)},
		{"datetime round to next second", ts(0.9999996), time.Unix(1, 0)},
		{"date 1", ord(1), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"date 2024-01-02", ord(738887), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"date max", ord(maxOrdinal), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"timestamp32", h("d6 ff 00 00 00 01"), time.Unix(1, 0).UTC()},
		{"timestamp64", cat(h("d7 ff"), be64(uint64(500)<<34|3)), time.Unix(3, 500).UTC()},
		{"timestamp96", cat(h("c7 0c ff 00 00 00 07"), be64(uint64(1<<64-1<<40+5))), time.Unix(-1<<40+5, 7).UTC()},
		{"datetime half-even -5e-7", ts(-0.0000005), time.Unix(0, 0)},
		{"datetime half-even 2.5e-6", ts(0.0000025), time.Unix(0, 2000)},
	}
	var dec Decoder
	for _, tt := range tests {
		got, err := dec.Decode(tt.b)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		g, ok := got.(time.Time)
		wantLoc := tt.want.Location().String() // time.Unix: Local
		if !ok || !g.Equal(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		} else if g.Location().String() != wantLoc {
			t.Errorf("%s: location %v, want %v", tt.name, g.Location(), wantLoc)
		}
	}
}

func be64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range 8 {
		b[7-i] = byte(v >> (8 * i))
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		msg  string
	}{
		{"empty", nil, "truncated"},
		{"never used code", h("c1"), "invalid type code 0xc1"},
		{"unknown ext 5", h("d4 05 01"), "invalid ext code for msgpack: 5"},
		{"unknown ext 0x34", h("d4 34 01"), "invalid ext code for msgpack: 52"},
		{"unknown ext -2", h("d4 fe 01"), "invalid ext code for msgpack: -2"},
		{"complex 8 bytes", cat(h("d7 30"), zeros(8)), "ext type 48 has 8 data bytes, want 16"},
		{"datetime 4 bytes", cat(h("d6 32"), zeros(4)), "want 8"},
		{"date 16 bytes", cat(h("d8 33"), zeros(16)), "want 8"},
		{"date ordinal 0", cat(h("d7 33"), zeros(8)), "date ordinal 0 out of range"},
		{"date ordinal negative", h("d7 33 ff ff ff ff ff ff ff ff"), "out of range"},
		{"date ordinal too big", cat(h("d7 33"), le64(maxOrdinal+1)), "out of range"},
		{"datetime nan", cat(h("d7 32"), le64(math.Float64bits(math.NaN()))), "out of range"},
		{"datetime inf", cat(h("d7 32"), le64(math.Float64bits(math.Inf(1)))), "out of range"},
		{"datetime 1e300", cat(h("d7 32"), le64(math.Float64bits(1e300))), "out of range"},
		{"datetime year 10000", cat(h("d7 32"), le64(math.Float64bits(253402300800+2*86400))), "out of range"},
		{"timestamp 5 bytes", h("c7 05 ff 00 00 00 00 00"), "invalid msgpack timestamp"},
		{"timestamp64 nsec too big", cat(h("d7 ff"), be64(uint64(1_000_000_000)<<34)), "invalid msgpack timestamp"},
		{"timestamp96 nsec too big", cat(h("c7 0c ff 3b 9a ca 00"), zeros(8)), "invalid msgpack timestamp"},
		{"timestamp96 seconds too big", cat(h("c7 0c ff 00 00 00 00 7f"), zeros(7)), "invalid msgpack timestamp"},
		{"timestamp96 seconds too small", cat(h("c7 0c ff 00 00 00 00 80"), zeros(7)), "invalid msgpack timestamp"},
		{"big int letters", h("c7 03 31 'abc'"), "invalid int digits"},
		{"big int empty", h("c7 00 31"), "invalid int digits"},
		{"big int minus only", h("d4 31 '-'"), "invalid int digits"},
		{"big int plus", h("d5 31 '+1'"), "invalid int digits"},
		{"big int space", h("d5 31 20 31"), "invalid int digits"},
		{"big int underscore", h("c7 03 31 '1_0'"), "invalid int digits"},
		{"big int double minus", h("c7 03 31 '--1'"), "invalid int digits"},
		{"invalid utf8", h("a2 c3 28"), "invalid UTF-8"},
		{"utf8 surrogate", h("a3 ed a0 80"), "invalid UTF-8"},
		{"overlong", h("a2 c0 80"), "invalid UTF-8"},
		{"list key", h("81 92 01 02 02"), "map key of type list is unhashable"},
		{"map key", h("81 80 02"), "map key of type dict is unhashable"},
		{"trailing", h("01 02"), "1 bytes of trailing data"},
		{"trailing after map", append(bytes.Clone(dumpResult), 0xc0), "trailing"},
		{"truncated str", h("a5 61 62"), "truncated"},
		{"truncated uint32", h("ce 00 00"), "truncated"},
		{"truncated float", h("cb 00"), "truncated"},
		{"truncated ext header", h("c7"), "truncated"},
		{"truncated ext data", h("d8 30 00"), "truncated"},
		{"array header only", h("dc 00"), "truncated"},
		{"huge array", h("dd ff ff ff ff 00 00 00 00 00 00 00 00 00 00"), "4294967295 elements announced, 10 bytes left"},
		{"huge map", h("df ff ff ff ff 01 01"), "truncated"},
		{"map needs two bytes per entry", h("82 01 01 01"), "truncated"},
		{"huge str", h("db ff ff ff ff 61"), "truncated"},
		{"huge bin", h("c6 ff ff ff ff"), "truncated"},
		{"huge ext", h("c9 ff ff ff ff 31 31"), "truncated"},
	}
	var dec Decoder
	for _, tt := range tests {
		v, err := dec.Decode(tt.b)
		if err == nil {
			t.Errorf("%s: no error, got %s", tt.name, py.Repr(v))
			continue
		}
		if !errors.Is(err, py.ErrSyntax) {
			t.Errorf("%s: %v is not ErrSyntax", tt.name, err)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %q does not contain %q", tt.name, err, tt.msg)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	tests := []struct {
		name  string
		lim   py.Limits
		b     []byte
		limit string
	}{
		{"depth", py.Limits{MaxDepth: 2}, h("91 91 91 c0"), "depth"},
		{"depth map", py.Limits{MaxDepth: 2}, h("81 01 81 01 81 01 01"), "depth"},
		{"depth default", py.Limits{}, cat(bytes.Repeat(h("91"), 1001), h("c0")), "depth"},
		{"items", py.Limits{MaxItems: 3}, h("92 01 92 01 01"), "items"},
		{"items map", py.Limits{MaxItems: 3}, h("84 01 01 02 02 03 03 04 04"), "items"},
		{"str", py.Limits{MaxStringLen: 3}, h("a4 'abcd'"), "string length"},
		{"bin", py.Limits{MaxStringLen: 3}, h("c4 04 'abcd'"), "string length"},
		{"big int digits", py.Limits{MaxIntDigits: 19}, h("c7 14 31 '18446744073709551616'"), "int digits"},
		{"big int digits negative", py.Limits{MaxIntDigits: 18}, h("c7 14 31 '-9223372036854775809'"), "int digits"},
		{"big int default", py.Limits{}, cat(h("c8 10 cd 31"), bytes.Repeat([]byte("1"), 4301)), "int digits"},
	}
	for _, tt := range tests {
		_, err := (&Decoder{Limits: tt.lim}).Decode(tt.b)
		var le *py.LimitError
		if !errors.As(err, &le) || !errors.Is(err, py.ErrLimit) || le.Limit != tt.limit || le.Format != "msgpack" {
			t.Errorf("%s: got %v, want a %s limit error", tt.name, err, tt.limit)
		}
	}
	ok := []struct {
		lim py.Limits
		b   []byte
	}{
		{py.Limits{MaxDepth: 3}, h("91 91 91 c0")},
		{py.Limits{MaxItems: 3}, h("92 01 91 01")},
		{py.Limits{MaxStringLen: 3}, h("a3 'abc'")},
		{py.Limits{MaxIntDigits: 20}, h("c7 14 31 '18446744073709551616'")},
		{py.Limits{}, cat(bytes.Repeat(h("91"), 1000), h("c0"))},
		{py.Limits{}, cat(h("c8 10 cc 31"), bytes.Repeat([]byte("1"), 4300))},
		{py.Limits{MaxDepth: -1}, cat(bytes.Repeat(h("91"), 5000), h("c0"))},
	}
	for _, tt := range ok {
		if _, err := (&Decoder{Limits: tt.lim}).Decode(tt.b); err != nil {
			t.Errorf("% x with %+v: %v", trunc(tt.b), tt.lim, err)
		}
	}
}

func TestDictHook(t *testing.T) {
	enc := Encoder{}
	exc := &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"bad", int64(12)}, Attributes: py.DictOf("_pyroTraceback", []any{"tb\n"})}
	b, err := enc.Append(nil, []any{exc, py.DictOf("x", py.NewDict(0))})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	dec := Decoder{DictHook: func(d *py.Dict) (any, error) {
		calls++
		if e, ok := py.ExceptionFromDict(d); ok {
			return e, nil
		}
		return d, nil
	}}
	got, err := dec.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{exc, py.DictOf("x", py.NewDict(0))}
	if !py.Same(got, want) {
		t.Fatalf("got %s, want %s", py.Repr(got), py.Repr(want))
	}
	if calls != 4 {
		t.Errorf("hook called %d times, want 4", calls)
	}
	hookErr := errors.New("refused")
	_, err = (&Decoder{DictHook: func(*py.Dict) (any, error) { return nil, hookErr }}).Decode(b)
	if err != hookErr {
		t.Errorf("hook error not passed on: %v", err)
	}
}

func TestNilDecoderEncoder(t *testing.T) {
	var dec *Decoder
	var enc *Encoder
	b, err := enc.Append(nil, []any{int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := dec.Decode(b)
	if err != nil || !py.Same(v, []any{int64(1)}) {
		t.Fatalf("got %v, %v", v, err)
	}
}

func TestBinIsCopied(t *testing.T) {
	in := h("c4 02 61 62")
	v, err := (&Decoder{}).Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	in[2] = 'x'
	if string(v.([]byte)) != "ab" {
		t.Fatal("decoded bytes alias the input")
	}
}

// TestConcurrent: one Decoder and one Encoder shared by goroutines (run
// with -race).
func TestConcurrent(t *testing.T) {
	var dec Decoder
	var enc Encoder
	done := make(chan error, 4)
	for range 4 {
		go func() {
			for range 200 {
				v, err := dec.Decode(dumpResult)
				if err != nil {
					done <- err
					return
				}
				b, err := enc.Append(nil, v)
				if err != nil || !bytes.Equal(b, dumpResult) {
					done <- fmt.Errorf("got % x, %v", b, err)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestEncodeDate: with TimeExt, a time in UTC at midnight exactly (what
// ext 0x33 decodes to) is written as a date again; years Python cannot
// hold are refused.
func TestEncodeDate(t *testing.T) {
	enc := Encoder{TimeExt: true}
	for _, c := range []struct {
		tm  time.Time
		ord int64
	}{
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), 719162},
		{time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), 738887},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), maxOrdinal},
	} {
		got, err := enc.Append(nil, c.tm)
		if want := cat(h("d7 33"), le64(uint64(c.ord))); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v: % x, %v; want % x", c.tm, got, err, want)
		}
		back, err := (&Decoder{}).Decode(got)
		if err != nil || !back.(time.Time).Equal(c.tm) || back.(time.Time).Location() != time.UTC {
			t.Errorf("%v decoded as %v, %v", c.tm, back, err)
		}
	}
	// not a date: a clock, or another location
	for _, tm := range []time.Time{time.Date(2024, 1, 2, 0, 0, 0, 1000, time.UTC), time.Date(2024, 1, 2, 0, 0, 0, 0, time.FixedZone("X", 3600))} {
		if got, err := enc.Append(nil, tm); err != nil || got[1] != extDatetime {
			t.Errorf("%v: % x, %v; want ext 0x32", tm, got, err)
		}
	}
	for _, tm := range []time.Time{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 5, 0, 0, 0, time.UTC)} {
		if _, err := enc.Append(nil, tm); err == nil {
			t.Errorf("%v: encoded, want an error", tm)
		}
	}
}
