package serpent

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"unsafe"

	"github.com/pyrogo/pyro/py"
)

// negate applies Python's unary minus to a number.
func negate(v any) any {
	switch x := v.(type) {
	case int64:
		if x == math.MinInt64 {
			return new(big.Int).Neg(big.NewInt(x))
		}
		return -x
	case *big.Int:
		return py.NormalizeInt(new(big.Int).Neg(x))
	case float64:
		return -x
	case complex128:
		return complex(-real(x), -imag(x))
	}
	return v
}

// toFloat converts an int or float to float64 as Python's int + complex
// does; it fails when the int is too large for a float.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, !math.IsInf(f, 0)
	case float64:
		return x, true
	}
	return 0, false
}

func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return 99
}

// scanDigits scans digit (["_"] digit)* in the given base starting at i
// (which must hold a digit). It returns the end, the number of digits and
// whether underscores occurred; ok is false for a misplaced underscore.
func scanDigits(d []byte, i, base int) (end, n int, under, ok bool) {
	for i < len(d) {
		c := d[i]
		if c == '_' {
			if i+1 < len(d) && digitValue(d[i+1]) < base {
				under = true
				i++
				continue
			}
			return i, n, under, false
		}
		if digitValue(c) >= base {
			break
		}
		n++
		i++
	}
	return i, n, under, true
}

// cleanDigits returns s without underscores, using p.buf when needed.
func (p *parser) cleanDigits(s []byte, under bool) []byte {
	if !under {
		return s
	}
	b := p.buf[:0]
	for _, c := range s {
		if c != '_' {
			b = append(b, c)
		}
	}
	p.buf = b
	return b
}

// bytesString views b as a string for the duration of a strconv or
// math/big call that does not keep it.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseNumber parses an int, float or imaginary literal at p.pos.
func (p *parser) parseNumber() (any, kind, error) {
	d := p.data
	start := p.pos
	if d[start] == '0' && start+1 < len(d) {
		base := 0
		switch d[start+1] | 0x20 {
		case 'x':
			base = 16
		case 'o':
			base = 8
		case 'b':
			base = 2
		}
		if base != 0 {
			return p.parsePrefixed(start, base)
		}
	}
	i := start
	intDigits := 0
	under := false
	if isDigit(d[i]) {
		var ok bool
		var u bool
		i, intDigits, u, ok = scanDigits(d, i, 10)
		under = under || u
		if !ok {
			return nil, kOther, p.errAt(i, "invalid decimal literal")
		}
	}
	isFloat := false
	if i < len(d) && d[i] == '.' {
		isFloat = true
		i++
		if i < len(d) && isDigit(d[i]) {
			var ok, u bool
			i, _, u, ok = scanDigits(d, i, 10)
			under = under || u
			if !ok {
				return nil, kOther, p.errAt(i, "invalid decimal literal")
			}
		}
	}
	if i < len(d) && d[i]|0x20 == 'e' {
		j := i + 1
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		if j >= len(d) || !isDigit(d[j]) {
			return nil, kOther, p.errAt(i, "invalid decimal literal")
		}
		var ok, u bool
		i, _, u, ok = scanDigits(d, j, 10)
		under = under || u
		if !ok {
			return nil, kOther, p.errAt(i, "invalid decimal literal")
		}
		isFloat = true
	}
	imaginary := false
	end := i
	if i < len(d) && d[i]|0x20 == 'j' {
		imaginary = true
		i++
	}
	if i < len(d) && (isIdentChar(d[i]) || d[i] == '.') {
		return nil, kOther, p.errAt(i, "invalid decimal literal")
	}
	p.pos = i
	if !isFloat && !imaginary {
		return p.decimalInt(start, end, intDigits, under)
	}
	text := p.cleanDigits(d[start:end], under)
	f, err := strconv.ParseFloat(bytesString(text), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		// cannot happen: the syntax was checked above
		return nil, kOther, p.errAt(start, "invalid number literal")
	}
	if imaginary {
		return complex(0, f), kNum, nil
	}
	return f, kNum, nil
}

// decimalInt converts the decimal int literal d[start:end].
func (p *parser) decimalInt(start, end, digits int, under bool) (any, kind, error) {
	d := p.data
	if d[start] == '0' {
		for _, c := range d[start:end] {
			if c != '0' && c != '_' {
				return nil, kOther, p.errAt(start, "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers")
			}
		}
		return int64(0), kNum, nil
	}
	if digits > p.lim.MaxIntDigits {
		return nil, kOther, &py.LimitError{Format: formatName, Limit: "int digits", Max: p.lim.MaxIntDigits}
	}
	if digits <= 18 {
		var n int64
		for _, c := range d[start:end] {
			if c != '_' {
				n = n*10 + int64(c-'0')
			}
		}
		return n, kNum, nil
	}
	text := p.cleanDigits(d[start:end], under)
	if u, err := strconv.ParseUint(bytesString(text), 10, 64); err == nil && u <= math.MaxInt64 {
		return int64(u), kNum, nil
	}
	b, ok := new(big.Int).SetString(bytesString(text), 10)
	if !ok {
		return nil, kOther, p.errAt(start, "invalid decimal literal")
	}
	return py.NormalizeInt(b), kNum, nil
}

// parsePrefixed parses a 0x / 0o / 0b int literal.
func (p *parser) parsePrefixed(start, base int) (any, kind, error) {
	d := p.data
	name, bitsPerDigit := "hexadecimal", 4
	switch base {
	case 8:
		name, bitsPerDigit = "octal", 3
	case 2:
		name, bitsPerDigit = "binary", 1
	}
	i := start + 2
	// an underscore may follow the prefix
	if i < len(d) && d[i] == '_' {
		i++
	}
	if i >= len(d) || digitValue(d[i]) >= base {
		return nil, kOther, p.errAt(i, "invalid "+name+" literal")
	}
	end, n, under, ok := scanDigits(d, i, base)
	if !ok || (end < len(d) && (isIdentChar(d[end]) || d[end] == '.')) {
		return nil, kOther, p.errAt(end, "invalid "+name+" literal")
	}
	p.pos = end
	// Bound the value by its decimal size: ceil(n*bits*log10(2)).
	if decimalDigits := (n*bitsPerDigit*30103 + 99999) / 100000; decimalDigits > p.lim.MaxIntDigits {
		return nil, kOther, &py.LimitError{Format: formatName, Limit: "int digits", Max: p.lim.MaxIntDigits}
	}
	digits := d[i:end]
	if n*bitsPerDigit <= 63 {
		var v int64
		for _, c := range digits {
			if c != '_' {
				v = v*int64(base) + int64(digitValue(c))
			}
		}
		return v, kNum, nil
	}
	text := p.cleanDigits(digits, under)
	b, ok := new(big.Int).SetString(bytesString(text), base)
	if !ok {
		return nil, kOther, p.errAt(start, "invalid "+name+" literal")
	}
	return py.NormalizeInt(b), kNum, nil
}
