package py_test

import (
	"math"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// The expectations in this file were printed by CPython 3.11 (repr()).

var negZero = math.Copysign(0, -1)

func TestFormatFloatMatchesPython(t *testing.T) {
	cases := []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0.0"},
		{0x8000000000000000, "-0.0"},
		{0x3ff0000000000000, "1.0"},
		{0xbff0000000000000, "-1.0"},
		{0x3fe0000000000000, "0.5"},
		{0x3ff8000000000000, "1.5"},
		{0x3fb999999999999a, "0.1"},
		{0x3fd3333333333334, "0.30000000000000004"},
		{0x3fd5555555555555, "0.3333333333333333"},
		{0x3fe5555555555555, "0.6666666666666666"},
		{0x4008000000000000, "3.0"},
		{0x4059000000000000, "100.0"},
		{0x430c6bf526340000, "1000000000000000.0"},
		{0x4341c37937e08000, "1e+16"},
		{0x4376345785d8a000, "1e+17"},
		{0x437b69b4ba630f35, "1.2345678901234568e+17"},
		{0x4340000000000000, "9007199254740992.0"},
		{0x4480f0cf064dd592, "1e+22"},
		{0x3f1a36e2eb1c432d, "0.0001"},
		{0x3ee4f8b588e368f1, "1e-05"},
		{0x3f202e4b6ce5dc68, "0.00012345"},
		{0x3ee9e3abe16fc70d, "1.2345e-05"},
		{0x3e7ad7f29abcaf48, "1e-07"},
		{0x0000000000000001, "5e-324"},
		{0x0010000000000000, "2.2250738585072014e-308"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0x7ff0000000000000, "inf"},
		{0xfff0000000000000, "-inf"},
		{0x7ff8000000000000, "nan"},
		{0x54b249ad2594c37d, "1e+100"},
		{0x7e41eb2d66005835, "1.5e+300"},
		{0x40c81cd6c8b43958, "12345.678"},
		{0x3f50624dd2f1a9fc, "0.001"},
		{0x43118b54f22aeb03, "1234567890123456.8"},
		{0x4341c37937e07fff, "9999999999999998.0"},
		{0x434aa535d3d0c000, "1.5e+16"},
		{0x4011666666666666, "4.35"},
		{0x3df12e0be826d695, "2.5e-10"},
		{0xc05edd2f1a9fbe77, "-123.456"},
		{0x40f0000000000000, "65536.0"},
		{0x43e0000000000000, "9.223372036854776e+18"},
		{0x43f0000000000000, "1.8446744073709552e+19"},
		{0x3ff0000000000001, "1.0000000000000002"},
		{0x81a56e1fc2f8f359, "-1e-300"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3c36b082c2148b8e, "1.23e-18"},
	}
	for _, c := range cases {
		f := math.Float64frombits(c.bits)
		if got := py.FormatFloat(f); got != c.want {
			t.Errorf("FormatFloat(%v) = %q, Python repr %q", f, got, c.want)
		}
		if got := string(py.AppendFloat([]byte("x"), f)); got != "x"+c.want {
			t.Errorf("AppendFloat(%v) = %q", f, got)
		}
		if got := py.Repr(f); got != c.want {
			t.Errorf("Repr(%v) = %q, want %q", f, got, c.want)
		}
	}
}

func TestQuoteStringMatchesPython(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "''"},
		{"abc", "'abc'"},
		{"it's", "\"it's\""},
		{"say \"hi\"", "'say \"hi\"'"},
		{"both ' and \"", "'both \\' and \"'"},
		{"back\\slash", "'back\\\\slash'"},
		{"tab\x09nl\x0acr\x0d", "'tab\\tnl\\ncr\\r'"},
		{"\x00\x01\x1f\x7f", "'\\x00\\x01\\x1f\\x7f'"},
		{"\u0080\u009f\u00a0\u00ad\u00ff", "'\\x80\\x9f\\xa0\\xad\u00ff'"},
		{"h\u00e9llo", "'h\u00e9llo'"},
		{"\u20ac", "'\u20ac'"},
		{"\u200b", "'\\u200b'"},
		{"\u2028\u2029", "'\\u2028\\u2029'"},
		{"\ufeff", "'\\ufeff'"},
		{"\ue000", "'\\ue000'"},
		{"\U0001f600", "'\U0001f600'"},
		{"\U000e0001", "'\\U000e0001'"},
		{"\U0010ffff", "'\\U0010ffff'"},
		{"\u0378", "'\\u0378'"},
		{"a\u0301", "'a\u0301'"},
		{"\u3000", "'\\u3000'"},
		{"\u4e2d\u6587", "'\u4e2d\u6587'"},
		{"\U00020000", "'\U00020000'"},
		{"\u00a0x", "'\\xa0x'"},
		{"\u061c", "'\\u061c'"},
		{"\U0001d173", "'\\U0001d173'"},
	}
	for _, c := range cases {
		if got := py.QuoteString(c.in); got != c.want {
			t.Errorf("QuoteString(%q) = %q, Python repr %q", c.in, got, c.want)
		}
		if got := py.Repr(c.in); got != c.want {
			t.Errorf("Repr(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestComplexReprMatchesPython(t *testing.T) {
	cases := []struct {
		in   complex128
		want string
	}{
		{complex(1.0, 2.0), "(1+2j)"},
		{complex(1.0, -2.0), "(1-2j)"},
		{complex(0.0, 1.0), "1j"},
		{complex(0.0, -1.0), "-1j"},
		{complex(negZero, 1.0), "(-0+1j)"},
		{complex(1.0, negZero), "(1-0j)"},
		{complex(0.0, negZero), "-0j"},
		{complex(negZero, negZero), "(-0-0j)"},
		{complex(1.5, math.Inf(1)), "(1.5+infj)"},
		{complex(math.NaN(), 1.0), "(nan+1j)"},
		{complex(1.0, math.NaN()), "(1+nanj)"},
		{complex(0.0, 0.0), "0j"},
		{complex(1e+16, 1e-05), "(1e+16+1e-05j)"},
		{complex(-1.0, 0.0), "(-1+0j)"},
		{complex(0.5, math.Inf(-1)), "(0.5-infj)"},
	}
	for _, c := range cases {
		if got := py.Repr(c.in); got != c.want {
			t.Errorf("Repr(%v) = %q, Python repr %q", c.in, got, c.want)
		}
	}
}

func TestQuoteBytesMatchesPython(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "b''"},
		{"abc", "b'abc'"},
		{"it's", "b\"it's\""},
		{"\x00\xff\x7f\x09\x0a\x0d", "b'\\x00\\xff\\x7f\\t\\n\\r'"},
		{"both ' and \"", "b'both \\' and \"'"},
		{"\\", "b'\\\\'"},
		{"\"", "b'\"'"},
	}
	for _, c := range cases {
		if got := py.QuoteBytes([]byte(c.in)); got != c.want {
			t.Errorf("QuoteBytes(%q) = %q, Python repr %q", c.in, got, c.want)
		}
		if got := py.Repr([]byte(c.in)); got != c.want {
			t.Errorf("Repr(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
