package pyre

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Error is a pattern Python would refuse, one this translation does not
// support, or one over a Limits bound. Its text is what follows
// "invalid regex: " in the name server's NamingError: Python's wording,
// "message at position N" where the position is known.
type Error struct {
	Msg string
	Pos int // character position, -1 when unknown
}

// Error returns Python's wording: "message at position N".
func (e *Error) Error() string {
	if e.Pos < 0 {
		return e.Msg
	}
	return e.Msg + " at position " + strconv.Itoa(e.Pos)
}

// translate turns a Python re pattern into RE2 syntax for Go's regexp,
// such that the RE2 pattern, anchored at the start, has the semantics of
// Python's re.match: the match must start at the beginning of the string
// but need not reach its end. Constructs RE2 cannot do (backreferences,
// lookaround, conditionals, atomic groups, possessive quantifiers) are
// refused.
//
// Supported: literals and escapes (\n \t \xhh \uhhhh \Uhhhhhhhh octal),
// ., ^, $, \A, \Z, \b, \B, classes [...] with ranges and negation, \d \D
// \w \W \s \S (Unicode by default, ASCII under the a flag), groups (...),
// (?:...), (?P<name>...), (?#...), alternation, the quantifiers * + ? {m}
// {m,} {,n} {m,n} and their lazy forms, and the flags a i m s u x (global
// at the start, or scoped (?i:...)). Differences from Python that remain:
// \b and \B use ASCII word characters, \W is refused inside a class
// unless the a flag is on, repeat counts above 1000 are refused,
// case-insensitive matching uses Unicode simple folding even under a, and
// a $ (without the m flag) consumes the newline that may end the string,
// so a pattern that goes on to match that newline itself (a$\n) fails.
func translate(src []rune) (string, error) {
	tr := &reTranslator{src: src}
	return tr.translate()
}

// reFlags are the Python flags that change the translation.
type reFlags struct {
	ascii, ignoreCase, multiline, dotAll, verbose bool
}

// reTranslator turns a Python pattern into RE2 syntax.
type reTranslator struct {
	src    []rune
	pos    int
	out    strings.Builder
	flags  reFlags
	stack  []reFlags // flags to restore at each open group's ")"
	starts []int     // positions of the open groups' "("
	names  map[string]bool
	groups int
	// last says what the previous item was, for quantifier checks:
	// 0 nothing (start, after "(" or "|"), 1 an atom, 2 an anchor,
	// 3 a quantifier.
	last int
}

const (
	lastNone = iota
	lastAtom
	lastAnchor
	lastRepeat
)

func (t *reTranslator) errf(pos int, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Pos: pos}
}

func (t *reTranslator) peek() (rune, bool) {
	if t.pos < len(t.src) {
		return t.src[t.pos], true
	}
	return 0, false
}

func (t *reTranslator) startsWith(s string) bool {
	r := []rune(s)
	if t.pos+len(r) > len(t.src) {
		return false
	}
	for i, c := range r {
		if t.src[t.pos+i] != c {
			return false
		}
	}
	return true
}

func (t *reTranslator) translate() (string, error) {
	if err := t.leadingFlags(); err != nil {
		return "", err
	}
	for t.pos < len(t.src) {
		c := t.src[t.pos]
		if t.flags.verbose {
			if isPyWhitespace(c) {
				t.pos++
				continue
			}
			if c == '#' {
				for t.pos < len(t.src) && t.src[t.pos] != '\n' {
					t.pos++
				}
				continue
			}
		}
		var err error
		switch c {
		case '\\':
			err = t.escape()
		case '[':
			err = t.class()
		case '(':
			start, depth := t.pos, len(t.stack)
			err = t.group()
			if len(t.stack) > depth {
				t.starts = append(t.starts, start)
			}
		case ')':
			if len(t.stack) == 0 {
				return "", t.errf(t.pos, "unbalanced parenthesis")
			}
			t.flags = t.stack[len(t.stack)-1]
			t.stack = t.stack[:len(t.stack)-1]
			t.starts = t.starts[:len(t.starts)-1]
			t.out.WriteByte(')')
			t.pos++
			t.last = lastAtom
		case '|':
			t.out.WriteByte('|')
			t.pos++
			t.last = lastNone
		case '*', '+', '?', '{':
			err = t.repeat()
		case '^':
			t.out.WriteByte('^')
			t.pos++
			t.last = lastAnchor
		case '$':
			if t.flags.multiline {
				t.out.WriteByte('$')
			} else {
				// Python's $ also matches before a newline that ends
				// the string; re.match only asks whether a match exists,
				// so consuming that newline changes nothing
				t.out.WriteString(`(?:\n?\z)`)
			}
			t.pos++
			t.last = lastAnchor
		case '.':
			t.out.WriteByte('.')
			t.pos++
			t.last = lastAtom
		default:
			t.literal(c)
			t.pos++
			t.last = lastAtom
		}
		if err != nil {
			return "", err
		}
	}
	if len(t.stack) > 0 {
		return "", t.errf(t.starts[len(t.starts)-1], "missing ), unterminated subpattern")
	}
	return t.out.String(), nil
}

// leadingFlags handles global flag groups "(?aiLmsux)" at the start.
func (t *reTranslator) leadingFlags() error {
	for t.startsWith("(?") {
		j := t.pos + 2
		for j < len(t.src) && strings.ContainsRune("aiLmsux", t.src[j]) {
			j++
		}
		if j == t.pos+2 || j >= len(t.src) || t.src[j] != ')' {
			return nil // not a global flag group
		}
		f := t.flags
		seen := map[rune]bool{}
		for _, c := range t.src[t.pos+2 : j] {
			seen[c] = true
			if err := applyFlag(&f, c, true, j); err != nil {
				return err
			}
		}
		if seen['L'] {
			return t.errf(j, "bad inline flags: cannot use 'L' flag with a str pattern")
		}
		if seen['a'] && seen['u'] {
			return t.errf(j, "bad inline flags: flags 'a', 'u' and 'L' are incompatible")
		}
		t.flags = f
		t.pos = j + 1
	}
	var go_ string
	if t.flags.ignoreCase {
		go_ += "i"
	}
	if t.flags.multiline {
		go_ += "m"
	}
	if t.flags.dotAll {
		go_ += "s"
	}
	if go_ != "" {
		t.out.WriteString("(?" + go_ + ")")
	}
	return nil
}

func applyFlag(f *reFlags, c rune, on bool, pos int) error {
	switch c {
	case 'a':
		f.ascii = on
	case 'u':
		f.ascii = false
	case 'i':
		f.ignoreCase = on
	case 'm':
		f.multiline = on
	case 's':
		f.dotAll = on
	case 'x':
		f.verbose = on
	case 'L':
		return &Error{Msg: "bad inline flags: cannot use 'L' flag with a str pattern", Pos: pos}
	}
	return nil
}

// literal writes one literal character in a form RE2 reads literally.
func (t *reTranslator) literal(c rune) {
	t.out.WriteString(literalRE(c))
}

func literalRE(c rune) string {
	if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
		return string(c)
	}
	return `\x{` + strconv.FormatInt(int64(c), 16) + `}`
}

func isPyWhitespace(c rune) bool { return strings.ContainsRune(" \t\n\r\v\f", c) }

func isOctal(c rune) bool { return c >= '0' && c <= '7' }

func isDigit(c rune) bool { return c >= '0' && c <= '9' }

// Class contents for \d \w \s in Unicode and ASCII mode, as RE2 class
// items (without brackets), and their complements where expressible.
const (
	uniDigit   = `\p{Nd}`
	uniNoDigit = `\P{Nd}`
	uniWord    = `\p{L}\p{N}_`
	uniSpace   = `\t\n\v\f\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`
	uniNoSpace = `\x{0}-\x{8}\x{e}-\x{1b}\x{21}-\x{84}\x{86}-\x{9f}\x{a1}-\x{167f}\x{1681}-\x{1fff}\x{200b}-\x{2027}\x{202a}-\x{202e}\x{2030}-\x{205e}\x{2060}-\x{2fff}\x{3001}-\x{10ffff}`
	ascDigit   = `0-9`
	ascNoDigit = `\x{0}-\x{2f}\x{3a}-\x{10ffff}`
	ascWord    = `0-9A-Za-z_`
	ascNoWord  = `\x{0}-\x{2f}\x{3a}-\x{40}\x{5b}-\x{5e}\x{60}\x{7b}-\x{10ffff}`
	ascSpace   = `\t\n\v\f\r `
	ascNoSpace = `\x{0}-\x{8}\x{e}-\x{1f}\x{21}-\x{10ffff}`
)

// categoryRE returns the RE2 form of \d \D \w \W \s \S: inClass gives
// class items, otherwise a complete atom. ok is false when the category
// cannot be written inside a class (Unicode \W).
func (t *reTranslator) categoryRE(c rune, inClass bool) (string, bool) {
	var items string
	neg := false
	a := t.flags.ascii
	switch c {
	case 'd':
		items = pickStr(a, ascDigit, uniDigit)
	case 'D':
		items = pickStr(a, ascNoDigit, uniNoDigit)
	case 'w':
		items = pickStr(a, ascWord, uniWord)
	case 'W':
		if a {
			items = ascNoWord
		} else {
			items, neg = uniWord, true
		}
	case 's':
		items = pickStr(a, ascSpace, uniSpace)
	case 'S':
		items = pickStr(a, ascNoSpace, uniNoSpace)
	}
	if inClass {
		return items, !neg
	}
	if neg {
		return "[^" + items + "]", true
	}
	return "[" + items + "]", true
}

func pickStr(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// escape handles a backslash sequence outside a class.
func (t *reTranslator) escape() error {
	start := t.pos
	t.pos++
	c, ok := t.peek()
	if !ok {
		return t.errf(start, "bad escape (end of pattern)")
	}
	t.pos++
	switch c {
	case 'd', 'D', 'w', 'W', 's', 'S':
		s, _ := t.categoryRE(c, false)
		t.out.WriteString(s)
		t.last = lastAtom
		return nil
	case 'A':
		t.out.WriteString(`\A`)
		t.last = lastAnchor
		return nil
	case 'Z':
		t.out.WriteString(`\z`)
		t.last = lastAnchor
		return nil
	case 'b':
		t.out.WriteString(`\b`)
		t.last = lastAnchor
		return nil
	case 'B':
		t.out.WriteString(`\B`)
		t.last = lastAnchor
		return nil
	}
	if isDigit(c) && c != '0' {
		// octal escape *or* group reference, by Python's rule
		if n, ok := t.peek(); ok && isDigit(n) {
			if n2 := t.pos + 1; isOctal(c) && isOctal(n) && n2 < len(t.src) && isOctal(t.src[n2]) {
				v, _ := strconv.ParseInt(string([]rune{c, n, t.src[n2]}), 8, 32)
				t.pos += 2
				if v > 0o377 {
					return t.errf(start, "octal escape value \\%s outside of range 0-0o377", string([]rune{c, n, t.src[n2]}))
				}
				t.literal(rune(v))
				t.last = lastAtom
				return nil
			}
		}
		return t.errf(start, "backreferences (\\%c) are not supported", c)
	}
	r, err := t.charEscape(c, start, false)
	if err != nil {
		return err
	}
	t.literal(r)
	t.last = lastAtom
	return nil
}

// charEscape reads an escape that stands for one character (after the
// backslash and c were consumed).
func (t *reTranslator) charEscape(c rune, start int, inClass bool) (rune, error) {
	switch c {
	case 'a':
		return '\a', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'v':
		return '\v', nil
	case 'b':
		if inClass {
			return '\b', nil
		}
	case 'x', 'u', 'U':
		n := map[rune]int{'x': 2, 'u': 4, 'U': 8}[c]
		if t.pos+n > len(t.src) {
			return 0, t.errf(start, "incomplete escape \\%c%s", c, string(t.src[t.pos:]))
		}
		digits := string(t.src[t.pos : t.pos+n])
		v, err := strconv.ParseUint(digits, 16, 32)
		if err != nil || strings.ContainsAny(digits, "+-") {
			return 0, t.errf(start, "incomplete escape \\%c%s", c, digits)
		}
		t.pos += n
		if v > unicode.MaxRune {
			return 0, t.errf(start, "bad escape \\%c%s", c, digits)
		}
		return rune(v), nil
	case 'N':
		return 0, t.errf(start, "named unicode escapes (\\N{...}) are not supported")
	case '0':
		// up to two more octal digits
		v := 0
		for i := 0; i < 2; i++ {
			n, ok := t.peek()
			if !ok || !isOctal(n) {
				break
			}
			v = v*8 + int(n-'0')
			t.pos++
		}
		return rune(v), nil
	}
	if inClass && isOctal(c) {
		v := int(c - '0')
		for i := 0; i < 2; i++ {
			n, ok := t.peek()
			if !ok || !isOctal(n) {
				break
			}
			v = v*8 + int(n-'0')
			t.pos++
		}
		if v > 0o377 {
			return 0, t.errf(start, "octal escape value \\%o outside of range 0-0o377", v)
		}
		return rune(v), nil
	}
	if c < 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
		return 0, t.errf(start, "bad escape \\%c", c)
	}
	return c, nil // escaped punctuation, space or non-ASCII: itself
}

// class translates a character class [...].
func (t *reTranslator) class() error {
	start := t.pos
	t.pos++
	var b strings.Builder
	b.WriteByte('[')
	if c, ok := t.peek(); ok && c == '^' {
		b.WriteByte('^')
		t.pos++
	}
	first := true
	for {
		c, ok := t.peek()
		if !ok {
			return t.errf(start, "unterminated character set")
		}
		if c == ']' && !first {
			t.pos++
			break
		}
		first = false
		itemStart := t.pos
		lo, isChar, items, err := t.classItem()
		if err != nil {
			return err
		}
		// a range a-b, unless "-" is last
		if n, ok := t.peek(); ok && n == '-' && t.pos+1 < len(t.src) && t.src[t.pos+1] != ']' {
			t.pos++
			hi, hiChar, _, err := t.classItem()
			if err != nil {
				return err
			}
			if !isChar || !hiChar {
				return t.errf(itemStart, "bad character range %s", string(t.src[itemStart:t.pos]))
			}
			if hi < lo {
				return t.errf(itemStart, "bad character range %s", string(t.src[itemStart:t.pos]))
			}
			b.WriteString(literalRE(lo) + "-" + literalRE(hi))
			continue
		}
		if isChar {
			b.WriteString(literalRE(lo))
		} else {
			b.WriteString(items)
		}
	}
	b.WriteByte(']')
	t.out.WriteString(b.String())
	t.last = lastAtom
	return nil
}

// classItem reads one element of a class: a character (isChar) or a
// category's items.
func (t *reTranslator) classItem() (r rune, isChar bool, items string, err error) {
	c := t.src[t.pos]
	if c != '\\' {
		t.pos++
		return c, true, "", nil
	}
	start := t.pos
	t.pos++
	e, ok := t.peek()
	if !ok {
		return 0, false, "", t.errf(start, "bad escape (end of pattern)")
	}
	t.pos++
	switch e {
	case 'd', 'D', 'w', 'W', 's', 'S':
		s, ok := t.categoryRE(e, true)
		if !ok {
			return 0, false, "", t.errf(start, "\\%c inside a character class is only supported with the ASCII flag", e)
		}
		return 0, false, s, nil
	}
	if isDigit(e) && !isOctal(e) {
		return 0, false, "", t.errf(start, "bad escape \\%c", e)
	}
	r, err = t.charEscape(e, start, true)
	return r, err == nil, "", err
}

// group translates an opening parenthesis and its extension syntax.
func (t *reTranslator) group() error {
	start := t.pos
	t.pos++
	push := func(f reFlags) {
		t.stack = append(t.stack, t.flags)
		t.flags = f
		t.last = lastNone
	}
	if c, ok := t.peek(); !ok || c != '?' {
		t.groups++
		push(t.flags)
		t.out.WriteString("(?:")
		return nil
	}
	t.pos++
	c, ok := t.peek()
	if !ok {
		return t.errf(t.pos, "unexpected end of pattern")
	}
	switch {
	case c == ':':
		t.pos++
		push(t.flags)
		t.out.WriteString("(?:")
		return nil
	case c == '#':
		for t.pos < len(t.src) && t.src[t.pos] != ')' {
			t.pos++
		}
		if t.pos >= len(t.src) {
			return t.errf(start, "missing ), unterminated comment")
		}
		t.pos++
		return nil
	case c == 'P':
		t.pos++
		n, ok := t.peek()
		switch {
		case ok && n == '<':
			t.pos++
			end := t.pos
			for end < len(t.src) && t.src[end] != '>' {
				end++
			}
			if end >= len(t.src) {
				return t.errf(t.pos, "missing >, unterminated name")
			}
			name := string(t.src[t.pos:end])
			if name == "" {
				return t.errf(t.pos, "missing group name")
			}
			if !isIdentifier(name) {
				return t.errf(t.pos, "bad character in group name %s", strconv.Quote(name))
			}
			if t.names == nil {
				t.names = map[string]bool{}
			}
			if t.names[name] {
				return t.errf(t.pos, "redefinition of group name %s as group %d; was group %d", strconv.Quote(name), t.groups+1, 0)
			}
			t.names[name] = true
			t.groups++
			t.pos = end + 1
			push(t.flags)
			t.out.WriteString("(?:")
			return nil
		case ok && n == '=':
			return t.errf(start, "backreferences ((?P=name)) are not supported")
		case ok:
			return t.errf(t.pos, "unknown extension ?P%c", n)
		}
		return t.errf(t.pos, "unexpected end of pattern")
	case c == '=' || c == '!':
		return t.errf(start, "lookahead assertions are not supported")
	case c == '<':
		if t.pos+1 < len(t.src) && (t.src[t.pos+1] == '=' || t.src[t.pos+1] == '!') {
			return t.errf(start, "lookbehind assertions are not supported")
		}
		if t.pos+1 < len(t.src) {
			return t.errf(t.pos-1, "unknown extension ?<%c", t.src[t.pos+1])
		}
		return t.errf(t.pos, "unexpected end of pattern")
	case c == '(':
		return t.errf(start, "conditional groups are not supported")
	case c == '>':
		return t.errf(start, "atomic groups are not supported")
	case strings.ContainsRune("aiLmsux-", c):
		return t.scopedFlags(start)
	}
	return t.errf(t.pos-1, "unknown extension ?%c", c)
}

// scopedFlags handles "(?flags-flags:" (global flags are only allowed at
// the start, as in Python 3.11).
func (t *reTranslator) scopedFlags(start int) error {
	f := t.flags
	var on, off string
	for t.pos < len(t.src) && strings.ContainsRune("aiLmsux", t.src[t.pos]) {
		c := t.src[t.pos]
		if err := applyFlag(&f, c, true, t.pos); err != nil {
			return err
		}
		on += string(c)
		t.pos++
	}
	if t.pos < len(t.src) && t.src[t.pos] == ')' {
		return t.errf(start, "global flags not at the start of the expression")
	}
	if t.pos < len(t.src) && t.src[t.pos] == '-' {
		t.pos++
		for t.pos < len(t.src) && strings.ContainsRune("aiLmsux", t.src[t.pos]) {
			c := t.src[t.pos]
			if strings.ContainsRune("auL", c) {
				return t.errf(t.pos, "bad inline flags: cannot turn off flags 'a', 'u' and 'L'")
			}
			_ = applyFlag(&f, c, false, t.pos)
			off += string(c)
			t.pos++
		}
		if off == "" {
			return t.errf(t.pos, "missing flag")
		}
	}
	if t.pos >= len(t.src) || t.src[t.pos] != ':' {
		return t.errf(t.pos, "missing :")
	}
	if strings.ContainsRune(on, 'a') && strings.ContainsRune(on, 'u') {
		return t.errf(t.pos, "bad inline flags: flags 'a', 'u' and 'L' are incompatible")
	}
	t.pos++
	goFlags := func(s string) string {
		var g string
		for _, c := range s {
			if strings.ContainsRune("ims", c) && !strings.ContainsRune(g, c) {
				g += string(c)
			}
		}
		return g
	}
	gon, goff := goFlags(on), goFlags(off)
	t.stack = append(t.stack, t.flags)
	t.flags = f
	t.last = lastNone
	switch {
	case gon == "" && goff == "":
		t.out.WriteString("(?:")
	case goff == "":
		t.out.WriteString("(?" + gon + ":")
	default:
		t.out.WriteString("(?" + gon + "-" + goff + ":")
	}
	return nil
}

func isIdentifier(s string) bool {
	for i, r := range s {
		if r == '_' || unicode.IsLetter(r) || i > 0 && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)) {
			continue
		}
		return false
	}
	return s != ""
}

// repeat translates a quantifier: * + ? {m} {m,} {,n} {m,n}, then an
// optional lazy "?".
func (t *reTranslator) repeat() error {
	start := t.pos
	c := t.src[t.pos]
	var q string
	if c == '{' {
		// Python: "{" is a quantifier only in the forms {m} {m,} {,n}
		// {m,n} (digits), otherwise a literal
		j := t.pos + 1
		lo := ""
		for j < len(t.src) && isDigit(t.src[j]) {
			lo += string(t.src[j])
			j++
		}
		hi, comma := lo, false
		if j < len(t.src) && t.src[j] == ',' {
			comma = true
			j++
			hi = ""
			for j < len(t.src) && isDigit(t.src[j]) {
				hi += string(t.src[j])
				j++
			}
		}
		if j >= len(t.src) || t.src[j] != '}' || (!comma && lo == "") {
			t.literal('{')
			t.pos++
			t.last = lastAtom
			return nil
		}
		if lo == "" {
			lo = "0"
		}
		min, err1 := strconv.Atoi(lo)
		max := -1
		var err2 error
		if hi != "" {
			max, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || min >= 1<<32-1 || max >= 1<<32-1 {
			return t.errf(start, "the repetition number is too large")
		}
		if max >= 0 && max < min {
			return t.errf(start+1, "min repeat greater than max repeat")
		}
		switch {
		case !comma:
			q = "{" + lo + "}"
		case max < 0:
			q = "{" + strconv.Itoa(min) + ",}"
		default:
			q = "{" + strconv.Itoa(min) + "," + hi + "}"
		}
		t.pos = j + 1
	} else {
		q = string(c)
		t.pos++
	}
	switch t.last {
	case lastNone, lastAnchor:
		return t.errf(start, "nothing to repeat")
	case lastRepeat:
		return t.errf(start, "multiple repeat")
	}
	if n, ok := t.peek(); ok && n == '?' {
		q += "?"
		t.pos++
	} else if ok && n == '+' {
		return t.errf(t.pos, "possessive quantifiers are not supported")
	}
	t.out.WriteString(q)
	t.last = lastRepeat
	return nil
}
