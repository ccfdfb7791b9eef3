package serpent

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

const hdr = Header

func TestDecodeTable(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		// §3.2 table, as Python serpent writes each row
		{hdr + "None", nil},
		{hdr + "True", true},
		{hdr + "False", false},
		{hdr + "-5", int64(-5)},
		{hdr + "12345678901234567890123", testkit.BigInt("12345678901234567890123")},
		{hdr + "1.5", 1.5},
		{hdr + "3.0", 3.0},
		{hdr + "1000000.0", 1e6},
		{hdr + "1e+22", 1e22},
		{hdr + "1e-07", 1e-7},
		{hdr + "1.2345678901234568e+17", 1.2345678901234568e+17},
		{hdr + "-0.0", negZ},
		{hdr + "1e30000", inf},
		{hdr + "-1e30000", negInf},
		{hdr + "{'__class__':'float','value':'nan'}", dict("__class__", "float", "value", "nan")},
		{hdr + "(1.0-2.0j)", complex(1, -2)},
		{hdr + "(1.0+2.0j)", complex(1, 2)},
		{hdr + "(0.0+-0.0j)", complex(0, negZ)},
		{hdr + `'h` + "é" + `llo\'"\n\t\x00'`, "héllo'\"\n\t\x00"},
		{hdr + "{'data': 'AAH/', 'encoding': 'base64'}", dict("data", "AAH/", "encoding", "base64")},
		{hdr + "(1,2)", tup(int64(1), int64(2))},
		{hdr + "(1,)", tup(int64(1))},
		{hdr + "()", tup()},
		{hdr + "[1,2]", list(int64(1), int64(2))},
		{hdr + "[]", list()},
		{hdr + "{'a':1,2:'b',(1,2):'t'}", dict("a", int64(1), int64(2), "b", tup(int64(1), int64(2)), "t")},
		{hdr + "{1,2}", set(int64(1), int64(2))},
		{hdr + "'3.14'", "3.14"},
		{hdr + "'2024-01-02T03:04:05.006000'", "2024-01-02T03:04:05.006000"},
		{hdr + "90.0", 90.0},
		{hdr + "{'__class__':'collections.OrderedDict','items':[('a',1)]}",
			dict("__class__", "collections.OrderedDict", "items", list(tup("a", int64(1))))},
		{hdr + "{'__class__':'builtins.ValueError','__exception__':True,'args':('bad value',12),'attributes':{}}",
			dict("__class__", "builtins.ValueError", "__exception__", true, "args", tup("bad value", int64(12)), "attributes", dict())},
		{hdr + "{'__class__':'Pyro4.core.URI','state':('PYRO','Pyro.NameServer',None,'127.0.0.1',19090)}",
			dict("__class__", "Pyro4.core.URI", "state", tup("PYRO", "Pyro.NameServer", nil, "127.0.0.1", int64(19090)))},
		{hdr + "('Pyro.NameServer','lookup',('Pyro.NameServer',),{})",
			tup("Pyro.NameServer", "lookup", tup("Pyro.NameServer"), dict())},
		{hdr + "('thing','__getattr__',('x',),None)", tup("thing", "__getattr__", tup("x"), nil)},
		{hdr + "('PYROMETA',{'a','b'},None,'host',1)", tup("PYROMETA", set("a", "b"), nil, "host", int64(1))},

		// header variants and whitespace
		{"1", int64(1)},
		{"# other header\r\n[1]", list(int64(1))},
		{"  # x\n\n# y\n 1 # trailing\n\n", int64(1)},
		{"\f1\f", int64(1)},
		{"[1,\n  2 # c\n , 3\r\n]", list(int64(1), int64(2), int64(3))},
		{"1 + \\\n 2j", complex(1, 2)},
		{"{ 'a' : 1 , }", dict("a", int64(1))},
		{"[1,2,]", list(int64(1), int64(2))},
		{"{1,}", set(int64(1))},

		// ints
		{"0", int64(0)},
		{"00", int64(0)},
		{"0_0", int64(0)},
		{"1_000_000", int64(1000000)},
		{"0x_ff", int64(255)},
		{"0XFF", int64(255)},
		{"0o777", int64(511)},
		{"0b1010", int64(10)},
		{"0xffffffffffffffff", testkit.BigInt("18446744073709551615")},
		{"0x7fffffffffffffff", int64(math.MaxInt64)},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"9223372036854775808", testkit.BigInt("9223372036854775808")},
		{"-9223372036854775808", int64(math.MinInt64)},
		{"-9223372036854775809", testkit.BigInt("-9223372036854775809")},
		{"999999999999999999", int64(999999999999999999)},
		{"+7", int64(7)},
		{"- 7", int64(-7)},
		{"-(7)", int64(-7)},
		{"(-7)", int64(-7)},
		{"((7))", int64(7)},

		// floats
		{".5", 0.5},
		{"5.", 5.0},
		{"1.e5", 1e5},
		{"1E5", 1e5},
		{"1e1_0", 1e10},
		{"1_0.5", 10.5},
		{"09.5", 9.5},
		{"1e-400", 0.0},
		{"-1e-400", negZ},
		{"1e999999999999", inf},
		{"5e-324", 5e-324},
		{"1.7976931348623157e+308", math.MaxFloat64},
		{"0.1", 0.1},
		{"-0.0", negZ},
		{"+0.0", 0.0},

		// complex
		{"2j", complex(0, 2)},
		{"2J", complex(0, 2)},
		{"-2j", complex(negZ, -2)},
		{"+1.5j", complex(0, 1.5)},
		{"09j", complex(0, 9)},
		{"1e5j", complex(0, 1e5)},
		{"1+2j", complex(1, 2)},
		{"-1-2j", complex(-1, -2)},
		{"(1)+2j", complex(1, 2)},
		{"1+(2j)", complex(1, 2)},
		{"(-1)+2j", complex(-1, 2)},
		{"(1e30000+0.0j)", complex(inf, 0)},
		{"(0.0-1e30000j)", complex(0, negInf)},
		{"(-0.0+1.0j)", complex(negZ, 1)},
		{"(1.0-0.0j)", complex(1, negZ)},
		{"[1+2j, 3-4j]", list(complex(1, 2), complex(3, -4))},
		{"{1+2j: 1}", dict(complex(1, 2), int64(1))},

		// strings
		{`''`, ""},
		{`""`, ""},
		{`"it's"`, "it's"},
		{`'a"b'`, `a"b`},
		{`'a\'"b'`, `a'"b`},
		{`'''a'b"c'''`, `a'b"c`},
		{`"""x""y"""`, `x""y`},
		{"'''a\nb'''", "a\nb"},
		{"'''a\r\nb'''", "a\nb"},
		{"'''a\rb'''", "a\nb"},
		{`'\\ \' \" \a \b \f \n \r \t \v'`, "\\ ' \" \a \b \f \n \r \t \v"},
		{`'\x7f\xa0\u200b\u2028\U0001F600\U000e0001'`, "\x7f\u00a0\u200b\u2028\U0001F600\U000E0001"},
		{`'\0\7\101\777'`, "\x00\x07A\u01ff"},
		{`'\q\8\ '`, `\q\8\ `},
		{"'a\\\nb'", "ab"},
		{"'a\\\r\nb'", "ab"},
		{`'é😀'`, "é😀"},
		{`'\é'`, `\é`},
		{`u'x'`, "x"},
		{`U"x"`, "x"},
		{`r'\n\''`, `\n\'`},
		{`R'\\'`, `\\`},
		{`'a' "b" '''c''' r'\d'`, `abc\d`},
		{"('a'\n 'b')", "ab"},
		{`'\u00e9' 'x'`, "éx"},
		{`'\\N'`, `\N`},

		// bytes
		{`b''`, []byte{}},
		{`b'\x00\xff\777\u1234'`, []byte("\x00\xff\xff\\u1234")},
		{`B"a'b"`, []byte("a'b")},
		{`rb'\x'`, []byte(`\x`)},
		{`bR'\x'`, []byte(`\x`)},
		{`Br'\x'`, []byte(`\x`)},
		{`b'a' b'b'`, []byte("ab")},
		{`{b'k':1}`, dict([]byte("k"), int64(1))},

		// containers
		{"((),)", tup(tup())},
		{"(1, 2, 3,)", tup(int64(1), int64(2), int64(3))},
		{"1,", tup(int64(1))},
		{"1, 2 # c", tup(int64(1), int64(2))},
		{"{}", dict()},
		{"set()", set()},
		{"set ( )", set()},
		{"{'a':1,'a':2}", dict("a", int64(2))},
		{"{True:1,1:2}", dict(true, int64(2))},
		{"{1:'a',1.0:'b'}", dict(int64(1), "b")},
		{"{(1,None):2}", dict(tup(int64(1), nil), int64(2))},
		{"{None:1}", dict(nil, int64(1))},
		{"{1,1.0,True}", set(int64(1))},
		{"[[[]]]", nestedEmpty(3)},
		{"[{'a':[{}]}]", list(dict("a", list(dict())))},
	}
	for _, tc := range tests {
		got, err := Unmarshal([]byte(tc.in))
		if err != nil {
			t.Errorf("Unmarshal(%q): %v", tc.in, err)
			continue
		}
		if !py.Same(got, tc.want) {
			t.Errorf("Unmarshal(%q) = %s, want %s", tc.in, py.Repr(got), py.Repr(tc.want))
		}
	}
}

func TestDecodeTypes(t *testing.T) {
	// small ints are always int64, even from big literals
	for _, in := range []string{"0x10", "0x0000000000000000000000001", "-0x8000000000000000", "00000000000000000000000"} {
		v, err := Unmarshal([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := v.(int64); !ok {
			t.Errorf("Unmarshal(%q) = %T, want int64", in, v)
		}
	}
	// empty containers are not nil
	v, _ := Unmarshal([]byte("[]"))
	if l := v.([]any); l == nil {
		t.Error("empty list decoded as nil slice")
	}
	v, _ = Unmarshal([]byte("()"))
	if l := v.(py.Tuple); l == nil {
		t.Error("empty tuple decoded as nil")
	}
	v, _ = Unmarshal([]byte("b''"))
	if l := v.([]byte); l == nil {
		t.Error("empty bytes decoded as nil")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in  string
		msg string // substring of the message
		off int    // expected offset, -1 = don't check
		lim bool   // a LimitError instead of a SyntaxError
	}{
		{"", "no value", 0, false},
		{hdr, "no value", len(hdr), false},
		{"# only a comment", "no value", -1, false},
		{"1 2", "unexpected '2'", 2, false},
		{"1\n2", "unexpected '2'", 2, false},
		{"1\n,2", "unexpected ','", 2, false},
		{"-\n1", "", -1, false},
		{"'a'\n'b'", "", -1, false},
		{"1;", "unexpected ';'", 1, false},
		{"[1,,2]", "unexpected ','", 3, false},
		{"[,]", "unexpected ','", 1, false},
		{"(,)", "unexpected ','", 1, false},
		{"[1 2]", "expected ',' or ']'", 3, false},
		{"{1:2,3}", "expected ':'", 6, false},
		{"{1:2 3:4}", "expected ',' or '}'", 5, false},
		{"{1,2:3}", "expected ',' or '}'", 4, false},
		{"{[1]:2}", "unhashable type: 'list'", 1, false},
		{"{{}:1}", "unhashable type: 'dict'", 1, false},
		{"{{1}:1}", "unhashable type: 'set'", 1, false},
		{"{([],):1}", "unhashable", 1, false},
		{"{({'a':1},):1}", "unhashable type: 'dict'", 1, false},
		{"{[1]}", "unhashable", 1, false},
		{"0777", "leading zeros", 0, false},
		{"1__0", "invalid decimal literal", 1, false},
		{"1_", "invalid decimal literal", 1, false},
		{"1abc", "invalid decimal literal", 1, false},
		{"1e", "invalid decimal literal", 1, false},
		{"1e+", "invalid decimal literal", 1, false},
		{"1.2.3", "invalid decimal literal", 3, false},
		{"0x", "invalid hexadecimal literal", 2, false},
		{"0x10j", "invalid hexadecimal literal", 4, false},
		{"0b102", "invalid binary literal", 4, false},
		{"0o8", "invalid octal literal", 2, false},
		{"0x_", "invalid hexadecimal literal", 3, false},
		{"0x1__2", "invalid hexadecimal literal", 3, false},
		{"--1", "unary - is only allowed before a number", 0, false},
		{"-(-1)", "unary -", 0, false},
		{"-True", "unary -", 0, false},
		{"-'a'", "unary -", 0, false},
		{"-(1+2j)", "unary -", 0, false},
		{"-[1]", "unary -", 0, false},
		{"True+1j", "unexpected '+'", 4, false},
		{"1+2", "imaginary", 1, false},
		{"1+2j+3j", "unexpected '+'", 4, false},
		{"2j+1", "unexpected '+'", 2, false},
		{"1+(-2j)", "imaginary", 1, false},
		{"1--2j", "", -1, false},
		{"'a'+'b'", "unexpected '+'", 3, false},
		{"1" + strings.Repeat("0", 400) + "+1j", "too large", 401, false},
		{"...", "Ellipsis", 0, false},
		{"x", "name \"x\" is not allowed", 0, false},
		{"none", "name \"none\"", 0, false},
		{"set(1)", "set()", 0, false},
		{"frozenset()", "frozenset", 0, false},
		{"f'x'", "f-strings", 0, false},
		{"ur'x'", "invalid string prefix", 0, false},
		{"bb'x'", "invalid string prefix", 0, false},
		{"xy'x'", "invalid string prefix", 0, false},
		{"'abc", "unterminated string literal", 0, false},
		{"'abc\\'", "unterminated string literal", 0, false},
		{"'''abc''", "unterminated string literal", 0, false},
		{"'a\nb'", "unterminated string literal", 0, false},
		{"'a\rb'", "unterminated string literal", 0, false},
		{"r'\\'", "unterminated string literal", 0, false},
		{"'a' b'b'", "cannot mix bytes and nonbytes", 4, false},
		{"b'a' 'b'", "cannot mix bytes and nonbytes", 5, false},
		{"b'é'", "ASCII", 2, false},
		{"b'\\é'", "ASCII", 3, false},
		{`'\x4'`, `truncated \xXX`, 1, false},
		{`'\xg0'`, `truncated \xXX`, 1, false},
		{`'\u12'`, `truncated \u`, 1, false},
		{`'\U0011ffff'`, "illegal Unicode character", 1, false},
		{`'\Uffffffff'`, "illegal Unicode character", 1, false},
		{`'\ud800'`, "lone surrogate", 1, false},
		{`'\udfff'`, "lone surrogate", 1, false},
		{`'\ud83d\ude00'`, "lone surrogate", 1, false},
		{`'\U0000d800'`, "lone surrogate", 1, false},
		{`'\N{BULLET}'`, `\N{...} escapes are not supported`, 1, false},
		{"\ufeff1", "unexpected character", 0, false},
		{"\v1", "unexpected character", 0, false},
		{"[1]]", "unexpected ']'", 3, false},
		{"[1", "unexpected end of input", 2, false},
		{"{'a':", "unexpected end of input", 5, false},
		{"(1,", "unexpected end of input", 3, false},
		{"1\\ 2", "unexpected '\\\\'", 1, false},
		{"a\x00", "NUL byte", 1, false},
		{"'\xff'", "invalid UTF-8", 1, false},
		{"'\xed\xa0\x80'", "invalid UTF-8", 1, false},
		{"# \xc3\n1", "invalid UTF-8", 2, false},
	}
	for _, tc := range tests {
		v, err := Unmarshal([]byte(tc.in))
		if err == nil {
			t.Errorf("Unmarshal(%q) = %s, want error %q", tc.in, py.Repr(v), tc.msg)
			continue
		}
		if tc.lim {
			if !errors.Is(err, py.ErrLimit) {
				t.Errorf("Unmarshal(%q): %v, want a limit error", tc.in, err)
			}
			continue
		}
		var se *py.SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, py.ErrSyntax) {
			t.Errorf("Unmarshal(%q): %T %v, want *py.SyntaxError", tc.in, err, err)
			continue
		}
		if !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("Unmarshal(%q): %q, want message containing %q", tc.in, se.Msg, tc.msg)
		}
		if tc.off >= 0 && se.Offset != tc.off {
			t.Errorf("Unmarshal(%q): offset %d, want %d (%v)", tc.in, se.Offset, tc.off, err)
		}
		if se.Format != "serpent" {
			t.Errorf("Format = %q", se.Format)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	tests := []struct {
		in    string
		lim   py.Limits
		limit string // LimitError.Limit, "" = must succeed
	}{
		{strings.Repeat("[", 5) + strings.Repeat("]", 5), py.Limits{MaxDepth: 5}, ""},
		{strings.Repeat("[", 6) + strings.Repeat("]", 6), py.Limits{MaxDepth: 5}, "depth"},
		{strings.Repeat("(", 6) + "1" + strings.Repeat(")", 6), py.Limits{MaxDepth: 5}, "depth"},
		{"{'a':{'b':{'c':{}}}}", py.Limits{MaxDepth: 4}, ""},
		{"{'a':{'b':{'c':{}}}}", py.Limits{MaxDepth: 3}, "depth"},
		{"1,2", py.Limits{MaxDepth: 1}, ""},
		{"[1,2,3]", py.Limits{MaxItems: 3}, ""},
		{"[1,2,3,4]", py.Limits{MaxItems: 3}, "items"},
		{"[[1],[2]]", py.Limits{MaxItems: 3}, "items"},
		{"{1:2,3:4}", py.Limits{MaxItems: 2}, ""},
		{"{1:2,3:4,5:6}", py.Limits{MaxItems: 2}, "items"},
		{"{1,2,3}", py.Limits{MaxItems: 2}, "items"},
		{"1,2,3", py.Limits{MaxItems: 2}, "items"},
		{"'abcd'", py.Limits{MaxStringLen: 4}, ""},
		{"'abcde'", py.Limits{MaxStringLen: 4}, "string length"},
		{"b'abcde'", py.Limits{MaxStringLen: 4}, "string length"},
		{"'ab' 'cde'", py.Limits{MaxStringLen: 4}, "string length"},
		{`'\x41\x42\x43\x44'`, py.Limits{MaxStringLen: 4}, ""},
		{`'\x41\x42\x43\x44\x45'`, py.Limits{MaxStringLen: 4}, "string length"},
		{"'éé'", py.Limits{MaxStringLen: 4}, ""}, // bytes of UTF-8
		{"'ééé'", py.Limits{MaxStringLen: 4}, "string length"},
		{"12345", py.Limits{MaxIntDigits: 5}, ""},
		{"123456", py.Limits{MaxIntDigits: 5}, "int digits"},
		{"-1_2_3_4_5", py.Limits{MaxIntDigits: 5}, ""},
		{"0xffff", py.Limits{MaxIntDigits: 5}, ""}, // 65535
		{"0xfffff", py.Limits{MaxIntDigits: 5}, "int digits"},
		{"{" + strings.Repeat("(", 32) + "1" + strings.Repeat(",)", 32) + "}", py.Limits{}, ""},
		{"{" + strings.Repeat("(", 33) + "1" + strings.Repeat(",)", 33) + "}", py.Limits{}, "key depth"},
		{"{(" + strings.Repeat("(", 32) + "1" + strings.Repeat(",)", 32) + ",):1}", py.Limits{}, "key depth"},
		{"1" + strings.Repeat("0", 4300), py.Limits{}, "int digits"},
		{"1" + strings.Repeat("0", 4299), py.Limits{}, ""},
		{"1" + strings.Repeat("0", 4300) + ".0", py.Limits{}, ""}, // floats have no digit limit
		{strings.Repeat("[", 1001) + strings.Repeat("]", 1001), py.Limits{}, "depth"},
		{strings.Repeat("[", 1000) + strings.Repeat("]", 1000), py.Limits{}, ""},
		{strings.Repeat("[", 2000) + strings.Repeat("]", 2000), py.Limits{MaxDepth: -1}, ""},
	}
	for _, tc := range tests {
		d := Decoder{Limits: tc.lim}
		_, err := d.Decode([]byte(tc.in))
		name := tc.in
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		if tc.limit == "" {
			if err != nil {
				t.Errorf("Decode(%q, %+v): %v", name, tc.lim, err)
			}
			continue
		}
		var le *py.LimitError
		if !errors.As(err, &le) || !errors.Is(err, py.ErrLimit) {
			t.Errorf("Decode(%q, %+v): %v, want LimitError %s", name, tc.lim, err, tc.limit)
			continue
		}
		if le.Limit != tc.limit || le.Format != "serpent" {
			t.Errorf("Decode(%q): %+v, want limit %q", name, le, tc.limit)
		}
	}
}

func TestDictHook(t *testing.T) {
	var order []string
	d := Decoder{DictHook: func(d *py.Dict) (any, error) {
		name, _ := d.GetString("n")
		order = append(order, name.(string))
		if c, ok := d.GetString("__class__"); ok && c == "float" {
			v, _ := d.GetString("value")
			if v == "nan" {
				return math.NaN(), nil
			}
		}
		if _, ok := d.GetString("fail"); ok {
			return nil, errors.New("hook failed")
		}
		return d, nil
	}}
	v, err := d.Decode([]byte("{'n':'outer','a':[{'n':'inner1'},{'n':'inner2','b':{'n':'deep'}}]}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "inner1,deep,inner2,outer" {
		t.Errorf("hook order %s", got)
	}
	if _, ok := v.(*py.Dict); !ok {
		t.Errorf("got %T", v)
	}
	v, err = d.Decode([]byte("[{'n':'x','__class__':'float','value':'nan'}]"))
	if err != nil || !math.IsNaN(v.([]any)[0].(float64)) {
		t.Errorf("NaN hook: %v %v", v, err)
	}
	_, err = d.Decode([]byte("[{'n':'x','fail':1}]"))
	if err == nil || err.Error() != "hook failed" {
		t.Errorf("hook error not returned unchanged: %v", err)
	}
	// a dict inside a key is unhashable even if the hook would make it hashable
	_, err = d.Decode([]byte("{({'n':'k','__class__':'float','value':'nan'},):1}"))
	if !errors.Is(err, py.ErrSyntax) {
		t.Errorf("dict in key: %v", err)
	}
	// without hook the NaN form stays a dict
	v, _ = Unmarshal([]byte("{'__class__':'float','value':'nan'}"))
	if _, ok := v.(*py.Dict); !ok {
		t.Errorf("NaN dict without hook: %T", v)
	}
}

// TestDecodeNoAlias checks that decoded bytes and strings do not share
// memory with the input.
func TestDecodeNoAlias(t *testing.T) {
	in := []byte("[b'abc','def']")
	v, err := Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'X'
	}
	l := v.([]any)
	if string(l[0].([]byte)) != "abc" || l[1].(string) != "def" {
		t.Errorf("decoded values alias the input: %q", l)
	}
}

// TestDecodeConcurrent exercises the parser pool from several goroutines.
func TestDecodeConcurrent(t *testing.T) {
	inputs := []string{
		hdr + "('Pyro.NameServer','lookup',('Pyro.NameServer',),{})",
		hdr + "{'handshake':'hello','meta':{'methods':['a','b'],'oneway':[],'attrs':[]}}",
		"'" + strings.Repeat(`\x41`, 300) + "'",
		"[" + strings.Repeat("1,", 300) + "]",
		"[1,2",
	}
	want := make([]any, len(inputs))
	for i, in := range inputs {
		want[i], _ = Unmarshal([]byte(in))
	}
	done := make(chan string)
	for g := 0; g < 4; g++ {
		go func() {
			for n := 0; n < 100; n++ {
				i := (g + n) % len(inputs)
				got, err := Unmarshal([]byte(inputs[i]))
				if (err == nil) != (want[i] != nil) || !py.Same(got, want[i]) {
					done <- fmt.Sprintf("input %d: %v %v", i, py.Repr(got), err)
					return
				}
			}
			done <- ""
		}()
	}
	for g := 0; g < 4; g++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
