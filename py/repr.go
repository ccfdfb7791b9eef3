package py

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FormatFloat formats f exactly as Python's repr(float) does: the shortest
// digits that round-trip, exponent form when the decimal exponent is below
// -4 or at least 16 (with a sign and at least two exponent digits), and a
// ".0" on integral values otherwise. NaN and infinities are "nan", "inf"
// and "-inf".
func FormatFloat(f float64) string {
	return string(AppendFloat(nil, f))
}

// AppendFloat appends FormatFloat(f) to b.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	epos := strings.IndexByte(string(e), 'e')
	mant, expText := e[:epos], e[epos+1:]
	exp, _ := strconv.Atoi(string(expText))
	digits := make([]byte, 0, 20)
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	if neg {
		b = append(b, '-')
	}
	if exp < -4 || exp >= 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	if exp < 0 {
		b = append(b, '0', '.')
		for i := 0; i < -exp-1; i++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	// exp >= 0: integer part has exp+1 digits
	intLen := exp + 1
	if len(digits) <= intLen {
		b = append(b, digits...)
		for i := len(digits); i < intLen; i++ {
			b = append(b, '0')
		}
		return append(b, '.', '0')
	}
	b = append(b, digits[:intLen]...)
	b = append(b, '.')
	return append(b, digits[intLen:]...)
}

// IsPrintable reports whether CPython 3.11's str.isprintable() holds for
// r, i.e. whether repr() writes it unescaped. CPython 3.11 uses the
// Unicode 14 database and Go Unicode 15, so characters that Unicode 15
// added count as unprintable here, as in Python.
func IsPrintable(r rune) bool {
	if r < 0x7f {
		return r >= 0x20
	}
	return unicode.IsPrint(r) && !unicode.Is(newInUnicode15, r)
}

// QuoteString returns Python's repr() of a str: single quotes unless the
// text contains ' and no ", printable characters as they are, others as
// \t \n \r \xhh \uhhhh or \Uhhhhhhhh.
func QuoteString(s string) string {
	return string(AppendQuotedString(nil, s))
}

// AppendQuotedString appends QuoteString(s) to b.
func AppendQuotedString(b []byte, s string) []byte {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b = append(b, quote)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == quote || c == '\\':
				b = append(b, '\\', c)
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				b = appendHexEscape(b, 'x', uint32(c), 2)
			default:
				b = append(b, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// not valid UTF-8: cannot occur in a Python str; escape the byte
			b = appendHexEscape(b, 'x', uint32(s[i]), 2)
			i++
			continue
		}
		if IsPrintable(r) {
			b = append(b, s[i:i+size]...)
		} else if r <= 0xff {
			b = appendHexEscape(b, 'x', uint32(r), 2)
		} else if r <= 0xffff {
			b = appendHexEscape(b, 'u', uint32(r), 4)
		} else {
			b = appendHexEscape(b, 'U', uint32(r), 8)
		}
		i += size
	}
	return append(b, quote)
}

func appendHexEscape(b []byte, kind byte, v uint32, width int) []byte {
	const hexdigits = "0123456789abcdef"
	b = append(b, '\\', kind)
	for shift := (width - 1) * 4; shift >= 0; shift -= 4 {
		b = append(b, hexdigits[(v>>uint(shift))&0xf])
	}
	return b
}

// QuoteBytes returns Python's repr() of a bytes value (b'...').
func QuoteBytes(p []byte) string {
	var b strings.Builder
	quote := byte('\'')
	if strings.IndexByte(string(p), '\'') >= 0 && strings.IndexByte(string(p), '"') < 0 {
		quote = '"'
	}
	b.WriteString("b")
	b.WriteByte(quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			b.Write(appendHexEscape(nil, 'x', uint32(c), 2))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// Repr returns Python's repr() of a model value, as a Python interpreter
// would print it (with Python's spacing: {'a': 1}, [1, 2], (1,), set(),
// frozenset({1}), b'..', nan, inf). Values outside the model that implement
// ClassDicter print as their dict form.
func Repr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case *big.Int:
		b.WriteString(v.String())
	case float64:
		b.Write(AppendFloat(nil, v))
	case complex128:
		writeComplex(b, v)
	case string:
		b.Write(AppendQuotedString(nil, v))
	case []byte:
		b.WriteString(QuoteBytes(v))
	case Tuple:
		b.WriteByte('(')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		if len(v) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case *Dict:
		b.WriteByte('{')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, v.Key(i))
			b.WriteString(": ")
			writeRepr(b, v.Value(i))
		}
		b.WriteByte('}')
	case *Set:
		if v.Len() == 0 {
			if v.Frozen {
				b.WriteString("frozenset()")
			} else {
				b.WriteString("set()")
			}
			return
		}
		if v.Frozen {
			b.WriteString("frozenset(")
		}
		b.WriteByte('{')
		for i, e := range v.Items() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte('}')
		if v.Frozen {
			b.WriteByte(')')
		}
	case *Exception:
		b.WriteString(v.ShortClass())
		writeRepr(b, v.Args)
		if len(v.Args) == 1 { // ValueError('x'), not ValueError('x',)
			s := b.String()
			b.Reset()
			b.WriteString(s[:len(s)-2] + ")")
		}
	case ClassDicter:
		writeRepr(b, v.PyroClassDict())
	default:
		b.WriteString("<Go ")
		b.WriteString(TypeName(v))
		b.WriteByte('>')
	}
}

// writeComplex follows Python: (1+2j), (-0-1j), 2j for a zero real part.
func writeComplex(b *strings.Builder, c complex128) {
	re, im := real(c), imag(c)
	imText := complexPart(im)
	if re == 0 && !math.Signbit(re) {
		b.WriteString(imText + "j")
		return
	}
	b.WriteByte('(')
	b.WriteString(complexPart(re))
	if !math.Signbit(im) || math.IsNaN(im) { // (1-0j), but (1+nanj) whatever NaN's sign
		b.WriteByte('+')
	}
	b.WriteString(imText)
	b.WriteString("j)")
}

// complexPart formats a component of a complex the way Python's complex
// repr does: like float repr, but without the ".0" on integral values.
func complexPart(f float64) string {
	s := FormatFloat(f)
	return strings.TrimSuffix(s, ".0")
}
