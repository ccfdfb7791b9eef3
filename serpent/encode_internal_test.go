package serpent

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

// fakeURI stands for the Pyro classes of other packages.
type fakeURI struct{ obj string }

func (u fakeURI) PyroClassDict() *py.Dict {
	return dict("__class__", "Pyro4.core.URI", "state", tup("PYRO", u.obj, nil, "127.0.0.1", int64(19090)))
}

func TestEncodeTable(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		// §3.2 table
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{int64(-5), "-5"},
		{int64(math.MinInt64), "-9223372036854775808"},
		{testkit.BigInt("12345678901234567890123"), "12345678901234567890123"},
		{testkit.BigInt("-12345678901234567890123"), "-12345678901234567890123"},
		{1.5, "1.5"},
		{3.0, "3.0"},
		{1e6, "1000000.0"},
		{1e22, "1e+22"},
		{1e-7, "1e-07"},
		{1.2345678901234568e+17, "1.2345678901234568e+17"},
		{negZ, "-0.0"},
		{inf, "1e30000"},
		{negInf, "-1e30000"},
		{nan, "{'__class__':'float','value':'nan'}"},
		{complex(1, -2), "(1.0-2.0j)"},
		{complex(1, 2), "(1.0+2.0j)"},
		{complex(0, 2), "(0.0+2.0j)"},
		{complex(negZ, -2), "(-0.0-2.0j)"},
		{complex(0, negZ), "(0.0-0.0j)"}, // Python serpent: (0.0+-0.0j), unreadable
		{complex(inf, negInf), "(1e30000-1e30000j)"},
		{complex(1e22, 1e-7), "(1e+22+1e-07j)"},
		{"héllo'\"\n\t\x00", `'héllo\'"\n\t\x00'`},
		{[]byte{0, 1, 0xff}, "{'data': 'AAH/', 'encoding': 'base64'}"},
		{[]byte{}, "{'data': '', 'encoding': 'base64'}"},
		{[]byte(nil), "{'data': '', 'encoding': 'base64'}"},
		{tup(int64(1), int64(2)), "(1,2)"},
		{tup(int64(1)), "(1,)"},
		{tup(), "()"},
		{py.Tuple(nil), "()"},
		{list(int64(1), int64(2)), "[1,2]"},
		{list(), "[]"},
		{[]any(nil), "[]"},
		{dict("a", int64(1), int64(2), "b", tup(int64(1), int64(2)), "t"), "{'a':1,2:'b',(1,2):'t'}"},
		{dict(), "{}"},
		{(*py.Dict)(nil), "{}"},
		{dict(true, int64(1), 1.5, int64(2), complex(0, 2), int64(3), testkit.BigInt("99999999999999999999"), nil),
			"{True:1,1.5:2,(0.0+2.0j):3,99999999999999999999:None}"},
		{dict(tup(nil, int64(1)), int64(2)), "{(None,1):2}"},
		{set(int64(1), int64(2)), "{1,2}"},
		{set("b", "a"), "{'b','a'}"}, // insertion order
		{set(), "()"},
		{frozen(int64(1)), "{1}"},
		{frozen(), "()"},
		{(*py.Set)(nil), "()"},
		{&py.Exception{Class: "builtins.ValueError", Args: tup("bad value", int64(12))},
			"{'__class__':'builtins.ValueError','__exception__':True,'args':('bad value',12),'attributes':{}}"},
		{py.NewException("Pyro4.errors.NamingError", "unknown name: nope", []string{"Traceback\n", "x\n"}),
			"{'__class__':'Pyro4.errors.NamingError','__exception__':True,'args':('unknown name: nope',),'attributes':{'_pyroTraceback':['Traceback\\n','x\\n']}}"},
		{fakeURI{"Pyro.NameServer"}, "{'__class__':'Pyro4.core.URI','state':('PYRO','Pyro.NameServer',None,'127.0.0.1',19090)}"},
		{&fakeURI{"x"}, "{'__class__':'Pyro4.core.URI','state':('PYRO','x',None,'127.0.0.1',19090)}"},
		{tup("Pyro.NameServer", "lookup", tup("Pyro.NameServer"), dict()), "('Pyro.NameServer','lookup',('Pyro.NameServer',),{})"},
		{dict("handshake", "hello", "object", "Pyro.NameServer"), "{'handshake':'hello','object':'Pyro.NameServer'}"},
		{list(list(list())), "[[[]]]"},

		// floats
		{0.1, "0.1"},
		{1e16, "1e+16"},
		{9999999999999998.0, "9999999999999998.0"},
		{1e-4, "0.0001"},
		{1e-5, "1e-05"},
		{123456789.0, "123456789.0"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{1.0 / 3, "0.3333333333333333"},
		{-2.5e-300, "-2.5e-300"},

		// strings
		{"", "''"},
		{"it's", `"it's"`},
		{`a"b`, `'a"b'`},
		{`a'"b`, `'a\'"b'`},
		{`\`, `'\\'`},
		{"\x7f\u0080\u009f", `'\x7f\x80\x9f'`},
		{"\u00a0\u00ad\u00e9", `'\xa0\xad` + "é'"},
		{"\u200b\u2028\u2029\ufeff\u3000", `'\u200b\u2028\u2029\ufeff\u3000'`},
		{"\U0001F600\U000E0001\U0010FFFF\U000F0000", "'\U0001F600" + `\U000e0001\U0010ffff\U000f0000'`},
		{"\x01\x1f\r\v\f\a\b", `'\x01\x1f\r\x0b\x0c\x07\x08'`},
		{"日本語 text", "'日本語 text'"},
	}
	for _, tc := range tests {
		got, err := Marshal(tc.v)
		if err != nil {
			t.Errorf("Marshal(%s): %v", py.Repr(tc.v), err)
			continue
		}
		if string(got) != Header+tc.want {
			t.Errorf("Marshal(%s) =\n %q, want\n %q", py.Repr(tc.v), got, Header+tc.want)
		}
		// and it decodes back (NaN and bytes come back as dicts)
		if _, err := Unmarshal(got); err != nil {
			t.Errorf("Unmarshal(Marshal(%s)): %v", py.Repr(tc.v), err)
		}
	}
}

func TestEncoderOptions(t *testing.T) {
	e := Encoder{NoHeader: true}
	got, err := e.Append([]byte("prefix:"), tup(int64(1)))
	if err != nil || string(got) != "prefix:(1,)" {
		t.Errorf("NoHeader: %q %v", got, err)
	}
	e = Encoder{BytesRepr: true, NoHeader: true}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{[]byte("a'b\x00\xff"), `b"a'b\x00\xff"`},
		{[]byte(`a'"b`), `b'a\'"b'`},
		{dict([]byte("k"), int64(1)), "{b'k':1}"},
	} {
		got, err := e.Append(nil, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("BytesRepr %s: %q %v, want %q", py.Repr(tc.v), got, err, tc.want)
		}
		back, err := Unmarshal(got)
		if err != nil || !py.Same(back, tc.v) {
			t.Errorf("BytesRepr round trip %s: %s %v", py.Repr(tc.v), py.Repr(back), err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	cd := py.NewDict(1)
	cd.SetString("self", cd)
	tests := []struct {
		v   any
		lim bool
	}{
		{dict(nil, int64(1)), false},
		{set(nil), false},
		{dict(frozen(int64(1)), int64(1)), false},
		{dict([]byte("x"), int64(1)), false},
		{set([]byte("x")), false},
		{dict(tup([]byte("x")), int64(1)), false},
		{dict(nan, int64(1)), false},
		{dict(tup(frozen(int64(1))), int64(1)), false},
		{complex(nan, 1), false},
		{complex(1, nan), false},
		{"\xff", false},
		{list("ok", "bad\xc3"), false},
		{(*py.Exception)(nil), false},
		{(*fakeURI)(nil), false},
		{make(chan int), false},
		{list(int64(1), func() {}), false},
		{cyclic, true},
		{cd, true},
		{pygen.NestedList(1001, int64(1)), true},
	}
	for _, tc := range tests {
		prefix := []byte("keep")
		got, err := (&Encoder{}).Append(prefix, tc.v)
		if err == nil {
			t.Errorf("Append(%T) = %q, want error", tc.v, got)
			continue
		}
		if string(got) != "keep" {
			t.Errorf("Append(%T) on error returned %q, want the input unchanged", tc.v, got)
		}
		if tc.lim {
			var le *py.LimitError
			if !errors.As(err, &le) || le.Limit != "depth" {
				t.Errorf("Append(%T): %v, want depth LimitError", tc.v, err)
			}
		} else if !errors.Is(err, py.ErrUnsupported) {
			t.Errorf("Append(%T): %T %v, want UnsupportedError", tc.v, err, err)
		}
	}
	// depth limit is configurable and matches the decoder's notion of depth
	v := pygen.NestedList(1000, int64(1))
	b, err := Marshal(v)
	if err != nil {
		t.Fatalf("depth 1000: %v", err)
	}
	if _, err := Unmarshal(b); err != nil {
		t.Fatalf("decode depth 1000: %v", err)
	}
	if _, err := (&Encoder{MaxDepth: 5}).Append(nil, pygen.NestedList(6, nil)); !errors.Is(err, py.ErrLimit) {
		t.Errorf("MaxDepth 5: %v", err)
	}
	if _, err := (&Encoder{MaxDepth: 5}).Append(nil, pygen.NestedList(5, nil)); err != nil {
		t.Errorf("MaxDepth 5, depth 5: %v", err)
	}
	if _, err := (&Encoder{MaxDepth: -1}).Append(nil, pygen.NestedList(5000, nil)); err != nil {
		t.Errorf("MaxDepth -1: %v", err)
	}
}

// TestEncodeFromGo checks that values outside the model go through
// py.FromGo.
func TestEncodeFromGo(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{int(5), "5"},
		{uint8(7), "7"},
		{float32(1.5), "1.5"},
		{list(int32(1), "a"), "[1,'a']"},
		{map[string]int{"a": 1}, "{'a':1}"},
	} {
		got, err := (&Encoder{NoHeader: true}).Append(nil, tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("Append(%T %v) = %q, %v; want %q", tc.v, tc.v, got, err, tc.want)
		}
	}
}

// TestEncodeDecodeStrings round-trips every code point (surrogates
// excluded) through repr and back.
func TestEncodeDecodeStrings(t *testing.T) {
	var sb strings.Builder
	for r := rune(0); r <= 0x10ffff; r++ {
		if r >= 0xd800 && r <= 0xdfff || r >= 0x30000 && r%7 != 0 {
			continue // all of planes 0-2, a sample of the rest
		}
		sb.WriteRune(r)
	}
	s := sb.String()
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if v != s {
		t.Fatal("all-code-points string does not round-trip")
	}
	for _, s := range []string{"'", `"`, `'"`, `\'`, "\\\n", "a\r\nb", "'''", `"""`, "\x00", "\u0085", "\U0001F1E6\U0001F1FA"} {
		b, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Unmarshal(b)
		if err != nil || v != s {
			t.Errorf("%q: %q -> %q %v", s, b, v, err)
		}
	}
}
