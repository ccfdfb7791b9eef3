package serpent

import (
	"bytes"
	"math/big"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

// formatName is the Format field of every error this package returns.
const formatName = "serpent"

// hardMaxDepth bounds the parser's recursion even when Limits.MaxDepth is
// negative ("no limit"), so that hostile input cannot exhaust the stack.
const hardMaxDepth = 100_000

// Decoder reads serpent payloads. The zero value is ready to use: default
// limits and no dict hook. A Decoder is safe for concurrent use as long as
// its fields are not changed and DictHook is itself safe.
type Decoder struct {
	// Limits bounds what may be built from the input. Zero fields mean
	// the defaults of py.DefaultLimits (see py.Limits.Resolved).
	Limits py.Limits

	// DictHook, when not nil, is called for every decoded dict, inner
	// dicts first, once the dict is complete; its result replaces the dict
	// in the decoded value. An error it returns aborts decoding and is
	// returned unchanged by Decode. Pyro uses the hook to restore
	// '__class__' dicts such as {'__class__':'float','value':'nan'}.
	// A dict literal used inside a dict key or set member is refused as
	// unhashable before the hook could replace it, as Python would.
	DictHook func(d *py.Dict) (any, error)
}

// Unmarshal decodes one serpent payload with a zero Decoder.
func Unmarshal(data []byte) (any, error) {
	var d Decoder
	return d.Decode(data)
}

// Decode decodes one serpent payload: an optional header comment line and
// exactly one Python literal expression. Errors are *py.SyntaxError or
// *py.LimitError, or whatever DictHook returned.
func (d *Decoder) Decode(data []byte) (any, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, synErr(i, "NUL byte in input (serpent data must not contain 0-bytes)")
	}
	if !utf8.Valid(data) {
		return nil, synErr(invalidUTF8At(data), "invalid UTF-8")
	}
	p := parserPool.Get().(*parser)
	p.data, p.lim, p.hook = data, d.Limits.Resolved(), d.DictHook
	if p.lim.MaxDepth > hardMaxDepth {
		p.lim.MaxDepth = hardMaxDepth
	}
	v, err := p.parseTop()
	p.release()
	return v, err
}

// parserPool recycles parsers with their scratch buffers.
var parserPool = sync.Pool{New: func() any {
	return &parser{stack: make([]any, 0, 32), buf: make([]byte, 0, 64)}
}}

// release resets p (dropping references into the input and the decoded
// value) and returns it to the pool unless its buffers grew large.
func (p *parser) release() {
	if cap(p.stack) > 4096 || cap(p.buf) > 64<<10 {
		return
	}
	clear(p.stack[:cap(p.stack)])
	*p = parser{stack: p.stack[:0], buf: p.buf[:0]}
	parserPool.Put(p)
}

// invalidUTF8At returns the offset of the first invalid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func synErr(off int, msg string) error {
	return &py.SyntaxError{Format: formatName, Offset: off, Msg: msg}
}

// kind classifies a parsed expression the way ast.literal_eval cares
// about: only a plain number literal may take a unary sign, and only a
// (signed) real number may be the left side of "re + imj".
type kind uint8

const (
	kOther  kind = iota
	kNum         // unsigned int, float or imaginary literal (maybe parenthesised)
	kSigned      // unary + or - applied to a kNum
)

type parser struct {
	data  []byte
	pos   int
	lim   py.Limits
	hook  func(*py.Dict) (any, error)
	depth int   // container and parenthesis nesting
	nest  int   // open brackets; newlines are insignificant inside them
	items int   // container elements so far
	dicts int   // dict literals completed so far
	stack []any // elements of the containers being parsed
	buf   []byte
}

func (p *parser) errAt(off int, msg string) error { return synErr(off, msg) }

// unexpected describes whatever is at the current position.
func (p *parser) unexpected(what string) error {
	if p.pos >= len(p.data) {
		return p.errAt(p.pos, "unexpected end of input, expected "+what)
	}
	c := p.data[p.pos]
	var desc string
	switch {
	case c == '\n' || c == '\r':
		desc = "newline"
	case c >= 0x20 && c < 0x7f:
		desc = strconv.QuoteRune(rune(c))
	default:
		r, _ := utf8.DecodeRune(p.data[p.pos:])
		desc = "character " + strconv.QuoteRuneToASCII(r)
	}
	return p.errAt(p.pos, "unexpected "+desc+", expected "+what)
}

// skip skips blanks, comments and backslash continuations, and newlines
// when inside brackets.
func (p *parser) skip() { p.skipWS(p.nest > 0) }

func (p *parser) skipWS(newlines bool) {
	d := p.data
	i := p.pos
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\f':
			i++
		case '\n', '\r':
			if !newlines {
				p.pos = i
				return
			}
			i++
		case '#':
			for i < len(d) && d[i] != '\n' && d[i] != '\r' {
				i++
			}
		case '\\':
			if i+1 < len(d) && d[i+1] == '\n' {
				i += 2
			} else if i+1 < len(d) && d[i+1] == '\r' {
				i += 2
				if i < len(d) && d[i] == '\n' {
					i++
				}
			} else {
				p.pos = i
				return
			}
		default:
			p.pos = i
			return
		}
	}
	p.pos = i
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return &py.LimitError{Format: formatName, Limit: "depth", Max: p.lim.MaxDepth}
	}
	p.nest++
	return nil
}

func (p *parser) leave() {
	p.depth--
	p.nest--
}

func (p *parser) countItem() error {
	p.items++
	if p.items > p.lim.MaxItems {
		return &py.LimitError{Format: formatName, Limit: "items", Max: p.lim.MaxItems}
	}
	return nil
}

func (p *parser) parseTop() (any, error) {
	p.skipWS(true)
	if p.pos >= len(p.data) {
		return nil, p.errAt(p.pos, "no value in input")
	}
	v, _, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	p.skipWS(false)
	if p.pos < len(p.data) && p.data[p.pos] == ',' {
		if v, err = p.parseBareTuple(v); err != nil {
			return nil, err
		}
	}
	p.skipWS(true)
	if p.pos < len(p.data) {
		return nil, p.unexpected("end of input after the value")
	}
	return v, nil
}

// parseBareTuple parses "a, b, c" at the top level, where a newline ends
// the expression. The first element has been parsed; a ',' is next.
func (p *parser) parseBareTuple(first any) (any, error) {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return nil, &py.LimitError{Format: formatName, Limit: "depth", Max: p.lim.MaxDepth}
	}
	if err := p.countItem(); err != nil {
		return nil, err
	}
	base := len(p.stack)
	p.stack = append(p.stack, first)
	for p.pos < len(p.data) && p.data[p.pos] == ',' {
		p.pos++
		p.skipWS(false)
		if p.pos >= len(p.data) || p.data[p.pos] == '\n' || p.data[p.pos] == '\r' {
			break // trailing comma
		}
		v, _, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if err := p.countItem(); err != nil {
			return nil, err
		}
		p.stack = append(p.stack, v)
		p.skipWS(false)
	}
	p.depth--
	return py.Tuple(p.popElems(base)), nil
}

// popElems returns a copy of the elements pushed since base and pops them.
func (p *parser) popElems(base int) []any {
	n := len(p.stack) - base
	out := make([]any, n)
	copy(out, p.stack[base:])
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return out
}

// parseExpr parses one expression: an atom, a unary sign and a number, or
// a complex sum "re ± imj".
func (p *parser) parseExpr() (any, kind, error) {
	p.skip()
	if p.pos >= len(p.data) {
		return nil, kOther, p.unexpected("a value")
	}
	var (
		v   any
		k   kind
		err error
	)
	if c := p.data[p.pos]; c == '-' || c == '+' {
		opPos := p.pos
		p.pos++
		p.skip()
		if p.pos < len(p.data) && (p.data[p.pos] == '-' || p.data[p.pos] == '+') {
			return nil, kOther, p.errAt(opPos, "unary "+string(c)+" is only allowed before a number literal")
		}
		if v, k, err = p.parseAtom(); err != nil {
			return nil, kOther, err
		}
		if k != kNum {
			return nil, kOther, p.errAt(opPos, "unary "+string(c)+" is only allowed before a number literal")
		}
		if c == '-' {
			v = negate(v)
		}
		k = kSigned
	} else if v, k, err = p.parseAtom(); err != nil {
		return nil, kOther, err
	}
	if k == kOther {
		return v, k, nil
	}
	if _, isComplex := v.(complex128); isComplex {
		return v, k, nil
	}
	p.skip()
	if p.pos >= len(p.data) || (p.data[p.pos] != '+' && p.data[p.pos] != '-') {
		return v, k, nil
	}
	// "re + imj" / "re - imj"; Python serpent also writes "re+-imj".
	opPos := p.pos
	neg := p.data[p.pos] == '-'
	p.pos++
	p.skip()
	if !neg && p.pos < len(p.data) && p.data[p.pos] == '-' {
		neg = true
		p.pos++
		p.skip()
	}
	r, rk, err := p.parseAtom()
	if err != nil {
		return nil, kOther, err
	}
	im, ok := r.(complex128)
	if rk != kNum || !ok {
		return nil, kOther, p.errAt(opPos, "only a real number plus or minus an imaginary number is allowed")
	}
	re, ok := toFloat(v)
	if !ok {
		return nil, kOther, p.errAt(opPos, "int too large to convert to float")
	}
	iv := imag(im)
	if neg {
		iv = -iv
	}
	return complex(re, iv), kOther, nil
}

// parseAtom parses a literal, a bracketed container, a name or a
// parenthesised expression.
func (p *parser) parseAtom() (any, kind, error) {
	if p.pos >= len(p.data) {
		return nil, kOther, p.unexpected("a value")
	}
	switch c := p.data[p.pos]; {
	case c == '\'' || c == '"':
		v, err := p.parseStrings()
		return v, kOther, err
	case c >= '0' && c <= '9':
		return p.parseNumber()
	case c == '.':
		if p.pos+1 < len(p.data) && isDigit(p.data[p.pos+1]) {
			return p.parseNumber()
		}
		if bytes.HasPrefix(p.data[p.pos:], []byte("...")) {
			return nil, kOther, p.errAt(p.pos, "Ellipsis is not supported")
		}
	case c == '(':
		return p.parseParen()
	case c == '[':
		v, err := p.parseList()
		return v, kOther, err
	case c == '{':
		v, err := p.parseBrace()
		return v, kOther, err
	case isIdentStart(c):
		v, err := p.parseName()
		return v, kOther, err
	}
	return nil, kOther, p.unexpected("a value")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// isIdentChar reports whether c may continue an identifier; non-ASCII
// bytes count, since Python identifiers may be Unicode.
func isIdentChar(c byte) bool {
	return isIdentStart(c) || isDigit(c) || c >= utf8.RuneSelf
}

// parseName parses None, True, False, set() or a string prefix.
func (p *parser) parseName() (any, error) {
	start := p.pos
	i := p.pos
	for i < len(p.data) && isIdentChar(p.data[i]) {
		i++
	}
	if i < len(p.data) && (p.data[i] == '\'' || p.data[i] == '"') && i-start <= 2 {
		return p.parseStrings()
	}
	name := p.data[start:i]
	switch string(name) {
	case "None":
		p.pos = i
		return nil, nil
	case "True":
		p.pos = i
		return true, nil
	case "False":
		p.pos = i
		return false, nil
	case "set":
		p.pos = i
		p.skip()
		if p.pos < len(p.data) && p.data[p.pos] == '(' {
			p.nest++
			p.pos++
			p.skip()
			p.nest--
			if p.pos < len(p.data) && p.data[p.pos] == ')' {
				p.pos++
				return py.NewSet(0, false), nil
			}
		}
		return nil, p.errAt(start, "only set() without arguments is allowed")
	}
	if !utf8.Valid(name) || len(name) > 40 {
		return nil, p.errAt(start, "names are not allowed in literals")
	}
	return nil, p.errAt(start, "name "+strconv.Quote(string(name))+" is not allowed in literals (only None, True, False, set())")
}

// parseParen parses (), (x), (x,) and (x, y, ...). A parenthesised
// expression keeps its kind, as the Python AST has no node for grouping.
func (p *parser) parseParen() (any, kind, error) {
	if err := p.enter(); err != nil {
		return nil, kOther, err
	}
	p.pos++
	p.skip()
	if p.pos < len(p.data) && p.data[p.pos] == ')' {
		p.pos++
		p.leave()
		return py.Tuple{}, kOther, nil
	}
	v, k, err := p.parseExpr()
	if err != nil {
		return nil, kOther, err
	}
	p.skip()
	if p.pos < len(p.data) && p.data[p.pos] == ')' {
		p.pos++
		p.leave()
		return v, k, nil
	}
	if p.pos >= len(p.data) || p.data[p.pos] != ',' {
		return nil, kOther, p.unexpected("',' or ')'")
	}
	if err := p.countItem(); err != nil {
		return nil, kOther, err
	}
	base := len(p.stack)
	p.stack = append(p.stack, v)
	if err := p.parseElems(base, ')'); err != nil {
		return nil, kOther, err
	}
	p.leave()
	return py.Tuple(p.popElems(base)), kOther, nil
}

// parseElems parses ", elem, elem ... close" after a first element (or
// "elem, ... close" right after the opening bracket when nothing has been
// pushed since base), pushing the elements.
func (p *parser) parseElems(base int, close byte) error {
	first := len(p.stack) == base
	for {
		if !first {
			p.skip()
			if p.pos >= len(p.data) {
				return p.unexpected("',' or '" + string(close) + "'")
			}
			switch p.data[p.pos] {
			case close:
				p.pos++
				return nil
			case ',':
				p.pos++
			default:
				return p.unexpected("',' or '" + string(close) + "'")
			}
		}
		first = false
		p.skip()
		if p.pos < len(p.data) && p.data[p.pos] == close {
			p.pos++
			return nil
		}
		v, _, err := p.parseExpr()
		if err != nil {
			return err
		}
		if err := p.countItem(); err != nil {
			return err
		}
		p.stack = append(p.stack, v)
	}
}

func (p *parser) parseList() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++
	base := len(p.stack)
	if err := p.parseElems(base, ']'); err != nil {
		return nil, err
	}
	p.leave()
	return p.popElems(base), nil
}

// maxKeyDepth bounds the nesting of tuples inside a dict key or set
// member: the py package's hashing of such keys costs time quadratic in
// their nesting, which hostile input could otherwise exploit.
const maxKeyDepth = 32

// parseKey parses a dict key or set member and checks that Python could
// hash it.
func (p *parser) parseKey() (any, error) {
	p.skip()
	start, dicts := p.pos, p.dicts
	k, _, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if p.dicts != dicts {
		return nil, p.errAt(start, "unhashable type: 'dict'")
	}
	if err := p.checkKey(k, start, 0); err != nil {
		return nil, err
	}
	return k, nil
}

// checkKey checks that k is hashable, without computing its hash.
func (p *parser) checkKey(k any, start, depth int) error {
	switch x := k.(type) {
	case string, int64, bool, nil, float64, complex128, *big.Int, []byte:
		return nil
	case py.Tuple:
		if depth >= maxKeyDepth {
			return &py.LimitError{Format: formatName, Limit: "key depth", Max: maxKeyDepth}
		}
		for _, e := range x {
			if err := p.checkKey(e, start, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return p.errAt(start, "unhashable type: '"+py.TypeName(k)+"'")
}

// parseBrace parses a dict or a set.
func (p *parser) parseBrace() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++
	p.skip()
	base := len(p.stack)
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.leave()
		return p.finishDict(base)
	}
	k, err := p.parseKey()
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos < len(p.data) && p.data[p.pos] == ':' {
		if err := p.parseDictItems(k); err != nil {
			return nil, err
		}
		p.leave()
		return p.finishDict(base)
	}
	// a set
	if err := p.countItem(); err != nil {
		return nil, err
	}
	p.stack = append(p.stack, k)
	for {
		p.skip()
		if p.pos >= len(p.data) {
			return nil, p.unexpected("',' or '}'")
		}
		c := p.data[p.pos]
		if c == '}' {
			p.pos++
			break
		}
		if c != ',' {
			return nil, p.unexpected("',' or '}'")
		}
		p.pos++
		p.skip()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			break
		}
		m, err := p.parseKey()
		if err != nil {
			return nil, err
		}
		if err := p.countItem(); err != nil {
			return nil, err
		}
		p.stack = append(p.stack, m)
	}
	p.leave()
	n := len(p.stack) - base
	s := py.NewSet(n, false)
	for _, m := range p.stack[base:] {
		if err := s.Add(m); err != nil {
			return nil, p.errAt(p.pos, err.Error())
		}
	}
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return s, nil
}

// parseDictItems parses the rest of a dict after its first key; the ':'
// is next. Keys and values are pushed in pairs.
func (p *parser) parseDictItems(k any) error {
	for {
		// at ':'
		p.pos++
		v, _, err := p.parseExpr()
		if err != nil {
			return err
		}
		if err := p.countItem(); err != nil {
			return err
		}
		p.stack = append(p.stack, k, v)
		p.skip()
		if p.pos >= len(p.data) {
			return p.unexpected("',' or '}'")
		}
		switch p.data[p.pos] {
		case '}':
			p.pos++
			return nil
		case ',':
			p.pos++
		default:
			return p.unexpected("',' or '}'")
		}
		p.skip()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return nil
		}
		if k, err = p.parseKey(); err != nil {
			return err
		}
		p.skip()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.unexpected("':'")
		}
	}
}

// finishDict builds the dict from the key/value pairs pushed since base
// and runs the hook.
func (p *parser) finishDict(base int) (any, error) {
	kv := p.stack[base:]
	d := py.NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			return nil, p.errAt(p.pos, err.Error())
		}
	}
	clear(kv)
	p.stack = p.stack[:base]
	p.dicts++
	if p.hook != nil {
		return p.hook(d)
	}
	return d, nil
}
