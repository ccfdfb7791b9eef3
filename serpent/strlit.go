package serpent

import (
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

// strStop and bytesStop mark the bytes at which the string scanner must
// look closer: quotes, backslash, line ends, and for bytes literals every
// non-ASCII byte.
var strStop, bytesStop [256]bool

func init() {
	for _, c := range []byte{'\'', '"', '\\', '\n', '\r'} {
		strStop[c] = true
		bytesStop[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		bytesStop[c] = true
	}
}

// strLit is one scanned str or bytes literal.
type strLit struct {
	start  int // offset of the prefix (or opening quote)
	cs, ce int // content span, quotes excluded
	bytes  bool
	raw    bool
	clean  bool // the content is the value: no escapes to process, no CR
}

func isPrefixLetter(c byte) bool {
	switch c | 0x20 {
	case 'r', 'b', 'u', 'f':
		return true
	}
	return false
}

// atString reports whether a str or bytes literal starts at p.pos.
func (p *parser) atString() bool {
	d := p.data
	i := p.pos
	for k := 0; k < 3 && i < len(d); k++ {
		c := d[i]
		if c == '\'' || c == '"' {
			return true
		}
		if k == 2 || !isPrefixLetter(c) {
			return false
		}
		i++
	}
	return false
}

// scanLiteral scans the literal at p.pos (prefix included) into l and
// moves past it.
func (p *parser) scanLiteral(l *strLit) error {
	d := p.data
	i := p.pos
	*l = strLit{start: i}
	var seen [4]bool // r b u f
	for i < len(d) && d[i] != '\'' && d[i] != '"' {
		var k int
		switch d[i] | 0x20 {
		case 'r':
			k = 0
		case 'b':
			k = 1
		case 'u':
			k = 2
		case 'f':
			k = 3
		default:
			return p.errAt(l.start, "invalid string prefix")
		}
		if seen[k] {
			return p.errAt(l.start, "invalid string prefix")
		}
		seen[k] = true
		i++
	}
	if seen[3] {
		return p.errAt(l.start, "f-strings are not literals")
	}
	if seen[2] && (seen[0] || seen[1]) {
		return p.errAt(l.start, "invalid string prefix")
	}
	l.raw, l.bytes = seen[0], seen[1]
	if i >= len(d) {
		return p.errAt(l.start, "unterminated string literal")
	}
	q := d[i]
	triple := i+2 < len(d) && d[i+1] == q && d[i+2] == q
	if triple {
		i += 3
	} else {
		i++
	}
	l.cs = i
	stop := &strStop
	if l.bytes {
		stop = &bytesStop
	}
	esc, cr := false, false
	for {
		for i < len(d) && !stop[d[i]] {
			i++
		}
		if i >= len(d) {
			return p.errAt(l.start, "unterminated string literal")
		}
		switch c := d[i]; {
		case c == q:
			if !triple {
				l.ce = i
				p.pos = i + 1
				l.clean = !cr && (l.raw || !esc)
				return nil
			}
			if i+2 < len(d) && d[i+1] == q && d[i+2] == q {
				l.ce = i
				p.pos = i + 3
				l.clean = !cr && (l.raw || !esc)
				return nil
			}
			i++
		case c == '\\':
			esc = true
			i++
			if i >= len(d) {
				return p.errAt(l.start, "unterminated string literal")
			}
			if d[i] == '\r' {
				cr = true
				if i+1 < len(d) && d[i+1] == '\n' {
					i++
				}
			}
			if l.bytes && d[i] >= utf8.RuneSelf {
				return p.errAt(i, "bytes can only contain ASCII literal characters")
			}
			i++
		case c == '\n' || c == '\r':
			if !triple {
				return p.errAt(l.start, "unterminated string literal (line end inside a single-quoted string)")
			}
			if c == '\r' {
				cr = true
			}
			i++
		case c >= utf8.RuneSelf:
			return p.errAt(i, "bytes can only contain ASCII literal characters")
		default: // the other quote character
			i++
		}
	}
}

// parseStrings parses one literal or several adjacent ones (which Python
// concatenates).
func (p *parser) parseStrings() (any, error) {
	max := p.lim.MaxStringLen
	var first strLit
	if err := p.scanLiteral(&first); err != nil {
		return nil, err
	}
	p.skip()
	if first.clean && !p.atString() {
		content := p.data[first.cs:first.ce]
		if len(content) > max {
			return nil, &py.LimitError{Format: formatName, Limit: "string length", Max: max}
		}
		if first.bytes {
			return append(make([]byte, 0, len(content)), content...), nil
		}
		if len(content) <= maxInterned {
			if v, ok := interned[string(content)]; ok {
				return v, nil
			}
		}
		return string(content), nil
	}
	b, err := p.appendLit(p.buf[:0], &first)
	if err != nil {
		return nil, err
	}
	for p.atString() {
		var l strLit
		if err := p.scanLiteral(&l); err != nil {
			return nil, err
		}
		if l.bytes != first.bytes {
			return nil, p.errAt(l.start, "cannot mix bytes and nonbytes literals")
		}
		if b, err = p.appendLit(b, &l); err != nil {
			return nil, err
		}
		p.skip()
	}
	p.buf = b[:0]
	if first.bytes {
		return append(make([]byte, 0, len(b)), b...), nil
	}
	return string(b), nil
}

// appendLit appends the decoded content of l to b.
func (p *parser) appendLit(b []byte, l *strLit) ([]byte, error) {
	max := p.lim.MaxStringLen
	d := p.data
	if l.clean {
		if len(b)+(l.ce-l.cs) > max {
			return nil, &py.LimitError{Format: formatName, Limit: "string length", Max: max}
		}
		return append(b, d[l.cs:l.ce]...), nil
	}
	i := l.cs
	for i < l.ce {
		j := i
		for j < l.ce && d[j] != '\\' && d[j] != '\r' {
			j++
		}
		b = append(b, d[i:j]...)
		if len(b) > max {
			return nil, &py.LimitError{Format: formatName, Limit: "string length", Max: max}
		}
		if j >= l.ce {
			break
		}
		if d[j] == '\r' { // source line ends read as "\n"
			b = append(b, '\n')
			j++
			if j < l.ce && d[j] == '\n' {
				j++
			}
			i = j
			continue
		}
		if l.raw { // the backslash stays; what follows is plain text
			b = append(b, '\\')
			i = j + 1
			continue
		}
		var err error
		if i, b, err = p.escape(b, l, j); err != nil {
			return nil, err
		}
	}
	if len(b) > max {
		return nil, &py.LimitError{Format: formatName, Limit: "string length", Max: max}
	}
	return b, nil
}

// hexValue parses exactly n hex digits at d[i:]; ok is false if there are
// fewer.
func hexValue(d []byte, i, end, n int) (v rune, ok bool) {
	if end-i < n {
		return 0, false
	}
	for k := i; k < i+n; k++ {
		x := digitValue(d[k])
		if x >= 16 {
			return 0, false
		}
		v = v<<4 | rune(x)
	}
	return v, true
}

// escape decodes the backslash escape at d[j] and returns the offset after
// it.
func (p *parser) escape(b []byte, l *strLit, j int) (int, []byte, error) {
	d := p.data
	e := d[j+1]
	switch e {
	case '\n':
		return j + 2, b, nil
	case '\r':
		k := j + 2
		if k < l.ce && d[k] == '\n' {
			k++
		}
		return k, b, nil
	case '\\', '\'', '"':
		return j + 2, append(b, e), nil
	case 'a':
		return j + 2, append(b, 7), nil
	case 'b':
		return j + 2, append(b, 8), nil
	case 'f':
		return j + 2, append(b, 12), nil
	case 'n':
		return j + 2, append(b, '\n'), nil
	case 'r':
		return j + 2, append(b, '\r'), nil
	case 't':
		return j + 2, append(b, '\t'), nil
	case 'v':
		return j + 2, append(b, 11), nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		k := j + 1
		v := rune(0)
		for k < l.ce && k < j+4 && d[k] >= '0' && d[k] <= '7' {
			v = v*8 + rune(d[k]-'0')
			k++
		}
		if l.bytes {
			return k, append(b, byte(v)), nil
		}
		return k, utf8.AppendRune(b, v), nil
	case 'x':
		v, ok := hexValue(d, j+2, l.ce, 2)
		if !ok {
			return 0, nil, p.errAt(j, `truncated \xXX escape`)
		}
		if l.bytes {
			return j + 4, append(b, byte(v)), nil
		}
		return j + 4, utf8.AppendRune(b, v), nil
	}
	if !l.bytes {
		switch e {
		case 'u', 'U':
			n := 4
			if e == 'U' {
				n = 8
			}
			v, ok := hexValue(d, j+2, l.ce, n)
			if !ok {
				return 0, nil, p.errAt(j, `truncated \`+string(e)+` escape`)
			}
			if v > utf8.MaxRune || v < 0 {
				return 0, nil, p.errAt(j, "illegal Unicode character "+string(d[j:j+2+n]))
			}
			if v >= 0xd800 && v <= 0xdfff {
				return 0, nil, p.errAt(j, "lone surrogate "+string(d[j:j+2+n])+" cannot be represented in UTF-8")
			}
			return j + 2 + n, utf8.AppendRune(b, v), nil
		case 'N':
			return 0, nil, p.errAt(j, `\N{...} escapes are not supported; send the character itself or a \u escape`)
		}
	}
	// unknown escape: Python keeps the backslash and the character
	return j + 1, append(b, '\\'), nil
}

// interned holds the strings that occur in almost every Pyro payload,
// boxed once, so that decoding them allocates nothing.
var interned = map[string]any{}

const maxInterned = 24

func init() {
	for _, s := range []string{
		"__class__", "__exception__", "args", "attributes", "_pyroTraceback",
		"state", "handshake", "object", "meta", "methods", "oneway", "attrs",
		"value", "float", "nan", "data", "encoding", "base64", "items",
		"exception", "hello", "PYRO", "Pyro.NameServer", "Pyro.Daemon",
		"Pyro4.core.URI", "Pyro4.core.Proxy", "builtins.ValueError",
		"builtins.StopIteration", "__getattr__", "__setattr__", "<batch>",
	} {
		if len(s) > maxInterned {
			panic("serpent: interned string too long: " + s)
		}
		interned[s] = s
	}
}
