package pyjson

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

// Decoder parses Pyro json payloads into model values. The zero value is
// ready to use and applies py.DefaultLimits. A Decoder holds no state
// between calls and may be used concurrently.
type Decoder struct {
	// Limits bounds what Decode may build; the zero value means the
	// defaults (see py.Limits).
	Limits py.Limits
	// DictHook, if not nil, is applied to every decoded object once it is
	// complete; its result replaces the object. An error it returns aborts
	// decoding and is returned unchanged.
	DictHook func(d *py.Dict) (any, error)
}

// Decode parses one json document (the whole of data) into a model value.
func (d *Decoder) Decode(data []byte) (any, error) {
	var lim py.Limits
	var hook func(*py.Dict) (any, error)
	if d != nil {
		lim, hook = d.Limits, d.DictHook
	}
	p := parserPool.Get().(*parser)
	*p = parser{data: data, lim: lim.Resolved(), hook: hook, stack: p.stack[:0]}
	v, err := p.document()
	if cap(p.stack) > 1<<12 {
		p.stack = nil // do not keep a huge scratch stack alive
	}
	clear(p.stack[:cap(p.stack)])
	*p = parser{stack: p.stack[:0]}
	parserPool.Put(p)
	return v, err
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}

func (p *parser) document() (any, error) {
	data := p.data
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		return nil, p.syntax(0, "unexpected UTF-8 byte order mark")
	}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos != len(p.data) {
		return nil, p.syntax(p.pos, "extra data after the value")
	}
	return v, nil
}

type parser struct {
	data  []byte
	pos   int
	lim   py.Limits
	items int
	hook  func(*py.Dict) (any, error)
	// stack holds the elements of the containers being parsed (arrays:
	// values; objects: key, value pairs), so each container is allocated
	// once with its final size.
	stack []any
}

func (p *parser) syntax(off int, msg string) error {
	return &py.SyntaxError{Format: "json", Offset: off, Msg: msg}
}

func (p *parser) limit(name string, max int) error {
	return &py.LimitError{Format: "json", Limit: name, Max: max}
}

func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// unexpected describes the byte at off for an error message.
func (p *parser) unexpected(off int, want string) error {
	if off >= len(p.data) {
		return p.syntax(off, "unexpected end of input, expecting "+want)
	}
	c := p.data[off]
	if c >= 0x20 && c < 0x7f {
		return p.syntax(off, fmt.Sprintf("unexpected %q, expecting %s", rune(c), want))
	}
	return p.syntax(off, fmt.Sprintf("unexpected byte 0x%02x, expecting %s", c, want))
}

// value parses a value at p.pos (whitespace already skipped). depth is the
// number of containers enclosing it.
func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.unexpected(p.pos, "a value")
	}
	switch c := p.data[p.pos]; c {
	case '{':
		return p.object(depth + 1)
	case '[':
		return p.array(depth + 1)
	case '"':
		return p.str()
	case 't':
		return p.literal("true", true)
	case 'f':
		return p.literal("false", false)
	case 'n':
		return p.literal("null", nil)
	case 'N':
		return p.literal("NaN", math.NaN())
	case 'I':
		return p.literal("Infinity", math.Inf(1))
	case '-':
		if p.pos+1 < len(p.data) && p.data[p.pos+1] == 'I' {
			return p.literal("-Infinity", math.Inf(-1))
		}
		return p.number()
	default:
		if c >= '0' && c <= '9' {
			return p.number()
		}
		return nil, p.unexpected(p.pos, "a value")
	}
}

func (p *parser) literal(word string, v any) (any, error) {
	end := p.pos + len(word)
	if end > len(p.data) || string(p.data[p.pos:end]) != word {
		return nil, p.unexpected(p.pos, "a value")
	}
	p.pos = end
	return v, nil
}

func (p *parser) count() error {
	p.items++
	if p.items > p.lim.MaxItems {
		return p.limit("items", p.lim.MaxItems)
	}
	return nil
}

func (p *parser) array(depth int) (any, error) {
	if depth > p.lim.MaxDepth {
		return nil, p.limit("depth", p.lim.MaxDepth)
	}
	p.pos++ // '['
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return []any{}, nil
	}
	base := len(p.stack)
	for {
		if err := p.count(); err != nil {
			return nil, err
		}
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.stack = append(p.stack, v)
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.unexpected(p.pos, "',' or ']'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipWS()
		case ']':
			p.pos++
			list := make([]any, len(p.stack)-base)
			copy(list, p.stack[base:])
			clear(p.stack[base:])
			p.stack = p.stack[:base]
			return list, nil
		default:
			return nil, p.unexpected(p.pos, "',' or ']'")
		}
	}
}

func (p *parser) object(depth int) (any, error) {
	if depth > p.lim.MaxDepth {
		return nil, p.limit("depth", p.lim.MaxDepth)
	}
	p.pos++ // '{'
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return p.finishDict(py.NewDict(0))
	}
	base := len(p.stack)
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.unexpected(p.pos, "a property name in double quotes")
		}
		if err := p.count(); err != nil {
			return nil, err
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.unexpected(p.pos, "':'")
		}
		p.pos++
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.stack = append(p.stack, k, v)
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.unexpected(p.pos, "',' or '}'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipWS()
		case '}':
			p.pos++
			kv := p.stack[base:]
			d := py.NewDict(len(kv) / 2)
			for i := 0; i < len(kv); i += 2 {
				_ = d.Set(kv[i], kv[i+1]) // str keys: cannot fail; Set reuses the boxed key
			}
			clear(kv)
			p.stack = p.stack[:base]
			return p.finishDict(d)
		default:
			return nil, p.unexpected(p.pos, "',' or '}'")
		}
	}
}

func (p *parser) finishDict(d *py.Dict) (any, error) {
	if p.hook == nil {
		return d, nil
	}
	return p.hook(d)
}

// str parses a string starting at the opening quote at p.pos. It returns
// the string as an any to save the conversion at the call sites.
func (p *parser) str() (any, error) {
	data := p.data
	start := p.pos + 1
	i := start
	// Fast path: no escapes.
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			if i-start > p.lim.MaxStringLen {
				return nil, p.limit("string length", p.lim.MaxStringLen)
			}
			p.pos = i + 1
			if v, ok := wellKnown[string(data[start:i])]; ok {
				return v, nil
			}
			return string(data[start:i]), nil
		case c == '\\':
			return p.escapedStr(start, i)
		case c < 0x20:
			return nil, p.syntax(i, fmt.Sprintf("invalid control character 0x%02x in string", c))
		case c < 0x80:
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, p.syntax(i, "invalid UTF-8")
			}
			i += size
		}
	}
	return nil, p.syntax(p.pos, "unterminated string")
}

// wellKnown holds the strings of Pyro's own messages, boxed once, so that
// decoding them allocates nothing.
var wellKnown = func() map[string]any {
	m := map[string]any{}
	for _, s := range []string{"object", "method", "params", "kwargs",
		"__class__", "__exception__", "args", "attributes", "_pyroTraceback", "state",
		"handshake", "meta", "methods", "oneway", "attrs", "hello",
		"PYRO", "Pyro4.core.URI", "Pyro4.core.Proxy", "Pyro.NameServer", "Pyro.Daemon",
		"exception", "Pyro4.futures._ExceptionWrapper", "", "json"} {
		m[s] = s
	}
	return m
}()

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 parses the four hex digits of a \u escape at data[i:i+4].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		h := hexVal(c)
		if h < 0 {
			return 0, false
		}
		r = r<<4 | h
	}
	return r, true
}

// uEscape decodes the \u escape (one code point, possibly a surrogate
// pair) whose backslash is at data[i]. It returns the rune and the number
// of input bytes used.
func (p *parser) uEscape(i int) (rune, int, error) {
	r, ok := hex4(p.data, i+2)
	if !ok {
		return 0, 0, p.syntax(i, "invalid \\u escape")
	}
	switch {
	case r >= 0xD800 && r < 0xDC00:
		if i+7 < len(p.data) && p.data[i+6] == '\\' && p.data[i+7] == 'u' {
			if lo, ok := hex4(p.data, i+8); ok && lo >= 0xDC00 && lo < 0xE000 {
				return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), 12, nil
			}
		}
		return 0, 0, p.syntax(i, fmt.Sprintf("lone surrogate \\u%04x cannot be represented in UTF-8", r))
	case r >= 0xDC00 && r < 0xE000:
		return 0, 0, p.syntax(i, fmt.Sprintf("lone surrogate \\u%04x cannot be represented in UTF-8", r))
	}
	return r, 6, nil
}

func simpleEscape(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

// escapedStr handles a string with escapes; data[start:i] is plain, valid
// text and data[i] is the first backslash. A first pass validates the rest
// and computes the decoded length, so the limit is checked before the
// buffer is allocated; a second pass decodes.
func (p *parser) escapedStr(start, i int) (any, error) {
	data := p.data
	n := i - start
	end := -1
scan:
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			end = i
			break scan
		case c == '\\':
			if i+1 >= len(data) {
				break scan
			}
			if data[i+1] == 'u' {
				r, used, err := p.uEscape(i)
				if err != nil {
					return nil, err
				}
				n += utf8.RuneLen(r)
				i += used
				continue
			}
			if _, ok := simpleEscape(data[i+1]); !ok {
				return nil, p.syntax(i, "invalid \\escape")
			}
			n++
			i += 2
		case c < 0x20:
			return nil, p.syntax(i, fmt.Sprintf("invalid control character 0x%02x in string", c))
		case c < 0x80:
			n++
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, p.syntax(i, "invalid UTF-8")
			}
			n += size
			i += size
		}
	}
	if end < 0 {
		return nil, p.syntax(p.pos, "unterminated string")
	}
	if n > p.lim.MaxStringLen {
		return nil, p.limit("string length", p.lim.MaxStringLen)
	}
	buf := make([]byte, 0, n)
	for j := start; j < end; {
		c := data[j]
		if c != '\\' {
			k := j + 1
			for k < end && data[k] != '\\' {
				k++
			}
			buf = append(buf, data[j:k]...)
			j = k
			continue
		}
		if data[j+1] == 'u' {
			r, used, _ := p.uEscape(j) // validated by the first pass
			buf = utf8.AppendRune(buf, r)
			j += used
			continue
		}
		e, _ := simpleEscape(data[j+1])
		buf = append(buf, e)
		j += 2
	}
	p.pos = end + 1
	return string(buf), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number parses a number with Python's grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? ; a fraction or exponent
// makes it a float.
func (p *parser) number() (any, error) {
	data := p.data
	start := p.pos
	i := start
	if data[i] == '-' {
		i++
	}
	digitsStart := i
	if i >= len(data) || !isDigit(data[i]) {
		return nil, p.unexpected(start, "a value")
	}
	if data[i] == '0' {
		i++
	} else {
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	intEnd := i
	isFloat := false
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return nil, p.syntax(i, "invalid number: digit expected after '.'")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		isFloat = true
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return nil, p.syntax(i, "invalid number: digit expected in exponent")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		isFloat = true
	}
	p.pos = i
	tok := data[start:i]
	if isFloat {
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, p.syntax(start, "invalid number")
		}
		return f, nil // out of range: ±Inf or ±0, as Python's float()
	}
	nd := intEnd - digitsStart
	if nd > p.lim.MaxIntDigits {
		return nil, p.limit("int digits", p.lim.MaxIntDigits)
	}
	if nd <= 18 {
		var v int64
		for _, c := range data[digitsStart:intEnd] {
			v = v*10 + int64(c-'0')
		}
		if digitsStart > start {
			v = -v
		}
		return v, nil
	}
	b, ok := new(big.Int).SetString(string(tok), 10)
	if !ok {
		return nil, p.syntax(start, "invalid number")
	}
	return py.NormalizeInt(b), nil
}
