package marshal

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

const formatName = "marshal"

// Type codes of marshal version 4 (CPython's Python/marshal.c).
const (
	typeNull          = '0'
	typeNone          = 'N'
	typeFalse         = 'F'
	typeTrue          = 'T'
	typeStopIter      = 'S'
	typeEllipsis      = '.'
	typeInt           = 'i'
	typeInt64         = 'I'
	typeFloat         = 'f'
	typeBinaryFloat   = 'g'
	typeComplex       = 'x'
	typeBinaryComplex = 'y'
	typeLong          = 'l'
	typeString        = 's'
	typeInterned      = 't'
	typeRef           = 'r'
	typeTuple         = '('
	typeList          = '['
	typeDict          = '{'
	typeCode          = 'c'
	typeUnicode       = 'u'
	typeSet           = '<'
	typeFrozenSet     = '>'
	typeASCII         = 'a'
	typeASCIIInterned = 'A'
	typeSmallTuple    = ')'
	typeShortASCII    = 'z'
	typeShortASCIIInt = 'Z'

	flagRef = 0x80
)

// Decoder reads marshal data. The zero value decodes with py's default
// limits. A Decoder holds no state between calls and may be used by many
// goroutines at once as long as its fields are not changed.
type Decoder struct {
	// Limits bounds what one Decode may build; zero fields take py's
	// defaults (see the package doc for how references are charged).
	Limits py.Limits
	// DictHook, when set, is called with every dict once all its entries
	// are decoded (innermost first); its result replaces the dict in the
	// decoded value and in the reference table. An error from the hook
	// ends decoding and is returned unchanged. nil keeps dicts as they are.
	DictHook func(d *py.Dict) (any, error)
}

// Unmarshal decodes one marshal value that must fill all of data, with
// the default limits and no dict hook.
func Unmarshal(data []byte) (any, error) {
	var d Decoder
	return d.Decode(data)
}

// Decode decodes one marshal value that must fill all of data. Malformed
// or truncated input, and trailing bytes, give a *py.SyntaxError (matched
// by errors.Is(err, py.ErrSyntax)); a bound of d.Limits gives a
// *py.LimitError (py.ErrLimit). Decode never panics; the memory it uses
// is proportional to len(data), and its work is bounded by the limits
// (see the package doc on references).
func (d *Decoder) Decode(data []byte) (any, error) {
	s := state{data: data, lim: d.Limits.Resolved(), hook: d.DictHook}
	s.digitBudget = s.lim.MaxIntDigits * bigDigitWorkFactor
	if s.digitBudget/bigDigitWorkFactor != s.lim.MaxIntDigits {
		s.digitBudget = int(^uint(0) >> 1) // overflow: no limit
	}
	v, err := s.value()
	if err != nil {
		return nil, err
	}
	if s.pos != len(data) {
		return nil, s.syntax(s.pos, "%d bytes of trailing data after the value", len(data)-s.pos)
	}
	return v, nil
}

// cost measures the work of walking a value with its references expanded
// (what an encoder, a comparison or a conversion of the value will do).
type cost struct {
	items  int // container elements (a dict entry counts once)
	bytes  int // str and bytes payload
	digits int // decimal digits of ints beyond int64 (an upper bound)
}

func (c cost) minus(o cost) cost {
	return cost{c.items - o.items, c.bytes - o.bytes, c.digits - o.digits}
}

// refSlot is one entry of the reference table.
type refSlot struct {
	v       any
	cost    cost // of v
	height  int  // nesting levels of v (0 for a scalar, 1 for a flat list)
	pending bool // reserved by a container that is still being decoded
}

// bigDigitWorkFactor sets the budget for big-int digits reached through
// references or hashed again as parts of keys: that many times
// MaxIntDigits. Converting a big int to decimal (which every text encoder
// does) costs more than linear time, so references to one huge int must
// not let a later encoder repeat it without bound.
const bigDigitWorkFactor = 1000

// state is the per-call decoding state.
type state struct {
	data []byte
	pos  int
	lim  py.Limits
	hook func(*py.Dict) (any, error)
	// depth is the nesting level being decoded (1 inside a top-level
	// container); deepest is the deepest level reached in the current
	// container, references expanded.
	depth, deepest int
	// total is the cost of everything decoded so far, references
	// expanded; total.items is bounded by MaxItems.
	total cost
	// refBytes counts the str/bytes bytes reached through references
	// (bounded by MaxStringLen).
	refBytes int
	// hashItems and hashBytes count the work of hashing dict keys and set
	// members that are containers: py canonicalises such a key in full
	// each time it is inserted, so a frozenset nested in a frozenset is
	// walked once per enclosing level. Bounded by MaxItems and
	// MaxStringLen.
	hashItems, hashBytes int
	// digitWork counts big-int digits reached through references or
	// hashed inside container keys, bounded by digitBudget.
	digitWork, digitBudget int
	refs                   []refSlot
}

func (s *state) syntax(off int, format string, args ...any) error {
	return &py.SyntaxError{Format: formatName, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (s *state) limit(what string, max int) error {
	return &py.LimitError{Format: formatName, Limit: what, Max: max}
}

// eof reports input that ends inside the object whose type byte is at off.
func (s *state) eof(off int, what string) error {
	return s.syntax(len(s.data), "input ends inside %s that starts at byte %d", what, off)
}

func codeName(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("0x%02x (%q)", c, rune(c))
	}
	return fmt.Sprintf("0x%02x", c)
}

// need checks that n more bytes are available.
func (s *state) need(n int) bool { return len(s.data)-s.pos >= n }

func (s *state) int32At() int32 {
	v := int32(binary.LittleEndian.Uint32(s.data[s.pos:]))
	s.pos += 4
	return v
}

// register records a finished, flagged scalar in the reference table.
func (s *state) register(v any, c cost) {
	if s.refs == nil {
		s.refs = make([]refSlot, 0, 8)
	}
	s.refs = append(s.refs, refSlot{v: v, cost: c})
}

// reserve takes a reference slot for a container about to be decoded, if
// it is flagged; it returns the slot's index or -1.
func (s *state) reserve(flag bool) int {
	if !flag {
		return -1
	}
	if s.refs == nil {
		s.refs = make([]refSlot, 0, 8)
	}
	s.refs = append(s.refs, refSlot{pending: true})
	return len(s.refs) - 1
}

// enter checks and increments the nesting depth at the start of a
// container; it returns the deepest level seen outside the container, for
// leave.
func (s *state) enter() (int, error) {
	if s.depth >= s.lim.MaxDepth {
		return 0, s.limit("depth", s.lim.MaxDepth)
	}
	s.depth++
	saved := s.deepest
	s.deepest = s.depth
	return saved, nil
}

// leave ends a container; it returns the container's height.
func (s *state) leave(saved int) int {
	height := s.deepest - s.depth + 1
	s.depth--
	if saved > s.deepest {
		s.deepest = saved
	}
	return height
}

// fill completes a reserved slot; total0 is s.total at the container's
// start.
func (s *state) fill(idx int, v any, total0 cost, height int) {
	if idx >= 0 {
		s.refs[idx] = refSlot{v: v, cost: s.total.minus(total0), height: height}
	}
}

func (s *state) value() (any, error) {
	if s.pos >= len(s.data) {
		return nil, s.syntax(s.pos, "input ends where a value is expected")
	}
	off := s.pos
	code := s.data[off]
	s.pos++
	typ := code &^ flagRef
	// Scalars set out (boxed once) and c and break out of the switch;
	// containers, references and errors return directly.
	var out any
	var c cost
	switch typ {
	case typeNone:
		return nil, nil
	case typeTrue:
		return true, nil
	case typeFalse:
		return false, nil
	case typeStopIter:
		return StopIteration, nil
	case typeEllipsis:
		return Ellipsis, nil
	case typeNull:
		return nil, s.syntax(off, "NULL (type '0') where a value is expected")
	case typeInt:
		if !s.need(4) {
			return nil, s.eof(off, "an int")
		}
		out = int64(s.int32At())
	case typeInt64:
		if !s.need(8) {
			return nil, s.eof(off, "an int64")
		}
		out = int64(binary.LittleEndian.Uint64(s.data[s.pos:]))
		s.pos += 8
	case typeLong:
		v, digits, err := s.long(off)
		if err != nil {
			return nil, err
		}
		s.total.digits += digits
		out, c.digits = v, digits
	case typeBinaryFloat:
		if !s.need(8) {
			return nil, s.eof(off, "a float")
		}
		out = math.Float64frombits(binary.LittleEndian.Uint64(s.data[s.pos:]))
		s.pos += 8
	case typeBinaryComplex:
		if !s.need(16) {
			return nil, s.eof(off, "a complex")
		}
		re := math.Float64frombits(binary.LittleEndian.Uint64(s.data[s.pos:]))
		im := math.Float64frombits(binary.LittleEndian.Uint64(s.data[s.pos+8:]))
		s.pos += 16
		out = complex(re, im)
	case typeFloat:
		f, err := s.textFloat(off)
		if err != nil {
			return nil, err
		}
		out = f
	case typeComplex:
		re, err := s.textFloat(off)
		if err != nil {
			return nil, err
		}
		im, err := s.textFloat(off)
		if err != nil {
			return nil, err
		}
		out = complex(re, im)
	case typeString:
		b, err := s.payload(off, false, "bytes")
		if err != nil {
			return nil, err
		}
		out, c.bytes = append([]byte{}, b...), len(b)
	case typeUnicode, typeInterned:
		b, err := s.payload(off, false, "a str")
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			return nil, s.badUTF8(off, b)
		}
		out, c.bytes = string(b), len(b)
	case typeASCII, typeASCIIInterned, typeShortASCII, typeShortASCIIInt:
		b, err := s.payload(off, typ == typeShortASCII || typ == typeShortASCIIInt, "an ASCII str")
		if err != nil {
			return nil, err
		}
		if i := nonASCII(b); i >= 0 {
			return nil, s.syntax(s.pos-len(b)+i, "byte 0x%02x in an ASCII str (type %s)", b[i], codeName(typ))
		}
		out, c.bytes = string(b), len(b)
	case typeTuple, typeList, typeSet, typeFrozenSet:
		if !s.need(4) {
			return nil, s.eof(off, "a container size")
		}
		n := s.int32At()
		if n < 0 {
			return nil, s.syntax(off, "negative size %d", n)
		}
		return s.sequence(off, typ, int(n), code&flagRef != 0)
	case typeSmallTuple:
		if !s.need(1) {
			return nil, s.eof(off, "a tuple size")
		}
		n := int(s.data[s.pos])
		s.pos++
		return s.sequence(off, typeTuple, n, code&flagRef != 0)
	case typeDict:
		return s.dict(off, code&flagRef != 0)
	case typeRef:
		if !s.need(4) {
			return nil, s.eof(off, "a reference")
		}
		return s.ref(off)
	case typeCode:
		return nil, s.syntax(off, "code objects (type 'c') are not supported")
	default:
		return nil, s.syntax(off, "unknown type code %s", codeName(code))
	}
	if code&flagRef != 0 {
		s.register(out, c)
	}
	return out, nil
}

// payload reads a length (1 byte if short, else int32) and that many bytes.
func (s *state) payload(off int, short bool, what string) ([]byte, error) {
	var n int
	if short {
		if !s.need(1) {
			return nil, s.eof(off, what)
		}
		n = int(s.data[s.pos])
		s.pos++
	} else {
		if !s.need(4) {
			return nil, s.eof(off, what)
		}
		n32 := s.int32At()
		if n32 < 0 {
			return nil, s.syntax(off, "negative length %d for %s", n32, what)
		}
		n = int(n32)
	}
	if n > s.lim.MaxStringLen {
		return nil, s.limit("string length", s.lim.MaxStringLen)
	}
	if !s.need(n) {
		return nil, s.syntax(off, "%s of %d bytes but only %d bytes left", what, n, len(s.data)-s.pos)
	}
	b := s.data[s.pos : s.pos+n : s.pos+n]
	s.pos += n
	s.total.bytes += n
	return b, nil
}

// badUTF8 explains why b (the payload of the str at off) is not valid.
func (s *state) badUTF8(off int, b []byte) error {
	start := s.pos - len(b)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			if b[i] == 0xed && i+2 < len(b) && b[i+1] >= 0xa0 && b[i+1] <= 0xbf && b[i+2]&0xc0 == 0x80 {
				cp := rune(b[i]&0x0f)<<12 | rune(b[i+1]&0x3f)<<6 | rune(b[i+2]&0x3f)
				return s.syntax(start+i, "str contains the lone surrogate U+%04X (CPython's surrogatepass), which a Go string cannot hold", cp)
			}
			return s.syntax(start+i, "invalid UTF-8 in str (type byte at %d)", off)
		}
		i += size
	}
	return s.syntax(off, "invalid UTF-8 in str")
}

// nonASCII returns the index of the first byte >= 0x80, or -1.
func nonASCII(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return i
		}
	}
	return -1
}

// sequence decodes the n elements of a tuple, list, set or frozenset.
func (s *state) sequence(off int, kind byte, n int, flag bool) (any, error) {
	if n > len(s.data)-s.pos {
		return nil, s.syntax(off, "container of %d elements but only %d bytes left", n, len(s.data)-s.pos)
	}
	if n > s.lim.MaxItems-s.total.items {
		return nil, s.limit("items", s.lim.MaxItems)
	}
	saved, err := s.enter()
	if err != nil {
		return nil, err
	}
	total0 := s.total
	s.total.items += n
	idx := s.reserve(flag)
	var result any
	if kind == typeSet || kind == typeFrozenSet {
		set := py.NewSet(n, kind == typeFrozenSet)
		for i := 0; i < n; i++ {
			at, before, deepest := s.pos, s.total, s.deepest
			s.deepest = s.depth
			v, err := s.value()
			if err != nil {
				return nil, err
			}
			if err := s.chargeHash(v, before, deepest); err != nil {
				return nil, err
			}
			if err := set.Add(v); err != nil {
				return nil, s.syntax(at, "unhashable set member of type %s", py.TypeName(v))
			}
		}
		result = set
	} else {
		elems := make([]any, n)
		for i := range elems {
			v, err := s.value()
			if err != nil {
				return nil, err
			}
			elems[i] = v
		}
		if kind == typeTuple {
			result = py.Tuple(elems)
		} else {
			result = elems
		}
	}
	s.fill(idx, result, total0, s.leave(saved))
	return result, nil
}

// dict decodes key/value pairs up to the '0' terminator.
func (s *state) dict(off int, flag bool) (any, error) {
	saved, err := s.enter()
	if err != nil {
		return nil, err
	}
	total0 := s.total
	idx := s.reserve(flag)
	d := py.NewDict(0)
	for {
		if !s.need(1) {
			return nil, s.syntax(s.pos, "input ends inside a dict (type byte at %d): no '0' terminator", off)
		}
		if s.data[s.pos]&^flagRef == typeNull {
			s.pos++
			break
		}
		if s.total.items >= s.lim.MaxItems {
			return nil, s.limit("items", s.lim.MaxItems)
		}
		s.total.items++
		at, before, deepest := s.pos, s.total, s.deepest
		s.deepest = s.depth
		k, err := s.value()
		if err != nil {
			return nil, err
		}
		if err := s.chargeHash(k, before, deepest); err != nil {
			return nil, err
		}
		if s.need(1) && s.data[s.pos]&^flagRef == typeNull {
			return nil, s.syntax(s.pos, "dict key without a value (terminator '0' after a key)")
		}
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		if err := d.Set(k, v); err != nil {
			return nil, s.syntax(at, "unhashable dict key of type %s", py.TypeName(k))
		}
	}
	height := s.leave(saved)
	var result any = d
	if s.hook != nil {
		r, err := s.hook(d)
		if err != nil {
			return nil, err
		}
		result = r
	}
	s.fill(idx, result, total0, height)
	return result, nil
}

// chargeHash accounts for hashing the key or member v, decoded since
// s.total was before; the caller set s.deepest to s.depth before decoding
// v and passes the previous s.deepest, which chargeHash restores.
//
// Only containers need it: py hashes a str or an int directly, but builds
// a canonical text of a tuple or frozenset, every time it is inserted, and
// copies each element's text once per enclosing level. So the work is
// bounded by the key's cost times its height, and that is what is charged
// (big-int digits count as bytes, and once more against the digit budget).
func (s *state) chargeHash(v any, before cost, saved int) error {
	height := s.deepest - s.depth
	if saved > s.deepest {
		s.deepest = saved
	}
	switch v.(type) {
	case py.Tuple, *py.Set:
	default:
		return nil
	}
	c := s.total.minus(before)
	items, ok1 := mulBounded(c.items, height)
	nbytes, ok2 := mulBounded(c.bytes+c.digits, height)
	switch {
	case !ok1 || items > s.lim.MaxItems-s.hashItems:
		return s.limit("items", s.lim.MaxItems)
	case !ok2 || nbytes > s.lim.MaxStringLen-s.hashBytes:
		return s.limit("string length", s.lim.MaxStringLen)
	case c.digits > s.digitBudget-s.digitWork:
		return s.limit("int digits", s.lim.MaxIntDigits)
	}
	s.hashItems += items
	s.hashBytes += nbytes
	s.digitWork += c.digits
	return nil
}

// mulBounded returns a*b for non-negative a, b, and false on overflow.
func mulBounded(a, b int) (int, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if a > int(^uint(0)>>1)/b {
		return 0, false
	}
	return a * b, true
}

// ref resolves an 'r' back-reference (type byte at off, index next). The
// referenced value's whole cost is charged again (see the package doc).
func (s *state) ref(off int) (any, error) {
	n := s.int32At()
	if n < 0 || int(n) >= len(s.refs) {
		return nil, s.syntax(off, "invalid reference %d (%d objects flagged so far)", n, len(s.refs))
	}
	slot := &s.refs[n]
	if slot.pending {
		return nil, s.syntax(off, "reference %d to a container that is still being decoded (a cycle)", n)
	}
	if slot.height > s.lim.MaxDepth-s.depth {
		return nil, s.limit("depth", s.lim.MaxDepth)
	}
	c := slot.cost
	if c.items > s.lim.MaxItems-s.total.items {
		return nil, s.limit("items", s.lim.MaxItems)
	}
	if c.bytes > s.lim.MaxStringLen-s.refBytes {
		return nil, s.limit("string length", s.lim.MaxStringLen)
	}
	if c.digits > s.digitBudget-s.digitWork {
		return nil, s.limit("int digits", s.lim.MaxIntDigits)
	}
	if d := s.depth + slot.height; d > s.deepest {
		s.deepest = d
	}
	s.total.items += c.items
	s.total.bytes += c.bytes
	s.total.digits += c.digits
	s.refBytes += c.bytes
	s.digitWork += c.digits
	return slot.v, nil
}

// textFloat reads the old text form of a float: 1-byte length + text.
func (s *state) textFloat(off int) (float64, error) {
	if !s.need(1) {
		return 0, s.eof(off, "a text float")
	}
	n := int(s.data[s.pos])
	s.pos++
	if !s.need(n) {
		return 0, s.eof(off, "a text float")
	}
	txt := s.data[s.pos : s.pos+n]
	s.pos += n
	f, ok := parseFloatText(txt)
	if !ok {
		return 0, s.syntax(off, "invalid float text %q", txt)
	}
	return f, nil
}

// parseFloatText accepts what CPython's PyOS_string_to_double accepts for
// a whole string: an optional sign, then decimal digits with an optional
// point and exponent, or (case-insensitively) nan, inf or infinity. No
// spaces, underscores or hexadecimal. Overflow gives ±Inf, like CPython.
func parseFloatText(txt []byte) (float64, bool) {
	i := 0
	neg := false
	if i < len(txt) && (txt[i] == '+' || txt[i] == '-') {
		neg = txt[i] == '-'
		i++
	}
	rest := txt[i:]
	sign := 1.0
	if neg {
		sign = -1
	}
	switch {
	case equalFold(rest, "nan"):
		return math.Copysign(math.NaN(), sign), true
	case equalFold(rest, "inf"), equalFold(rest, "infinity"):
		return math.Inf(int(sign)), true
	}
	digits := 0
	for i < len(txt) && txt[i] >= '0' && txt[i] <= '9' {
		i++
		digits++
	}
	if i < len(txt) && txt[i] == '.' {
		i++
		for i < len(txt) && txt[i] >= '0' && txt[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(txt) && (txt[i] == 'e' || txt[i] == 'E') {
		i++
		if i < len(txt) && (txt[i] == '+' || txt[i] == '-') {
			i++
		}
		expDigits := 0
		for i < len(txt) && txt[i] >= '0' && txt[i] <= '9' {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return 0, false
		}
	}
	if i != len(txt) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(txt), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // ±Inf on overflow, 0 on underflow: as CPython
		}
		return 0, false
	}
	return f, true
}

func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Decimal-digit bounds of an integer with n 15-bit digits (top one
// nonzero): 2^(15(n-1)) <= |v| < 2^(15n). log10(2) = 0.30102999566...
const (
	log10of2Low  = 30102999 // / 1e8, rounded down
	log10of2High = 30103000 // / 1e8, rounded up
)

// long reads a 'l' integer: int32 digit count (its sign is the number's),
// then that many 15-bit digits as uint16, least significant first.
// It also returns an upper bound of the decimal digits of a result that
// does not fit int64 (0 otherwise).
func (s *state) long(off int) (any, int, error) {
	if !s.need(4) {
		return nil, 0, s.eof(off, "an int")
	}
	n := int64(s.int32At())
	if n == 0 {
		return int64(0), 0, nil
	}
	neg := n < 0
	if neg {
		n = -n
	}
	if n > int64(len(s.data)-s.pos)/2 {
		return nil, 0, s.syntax(off, "int of %d digits but only %d bytes left", n, len(s.data)-s.pos)
	}
	maxDigits := int64(s.lim.MaxIntDigits)
	if lower := 15*(n-1)*log10of2Low/100000000 + 1; lower > maxDigits {
		return nil, 0, s.limit("int digits", s.lim.MaxIntDigits)
	}
	digits := s.data[s.pos : s.pos+int(2*n)]
	s.pos += int(2 * n)
	for i := 0; i < len(digits); i += 2 {
		if digits[i+1]&0x80 != 0 {
			return nil, 0, s.syntax(off, "int digit %d out of range (0x%04x >= 2**15)", i/2, binary.LittleEndian.Uint16(digits[i:]))
		}
	}
	if digits[len(digits)-2] == 0 && digits[len(digits)-1] == 0 {
		return nil, 0, s.syntax(off, "unnormalized int: most significant digit is zero")
	}
	if n <= 4 { // < 2^60: fits int64
		var u uint64
		for i := len(digits) - 2; i >= 0; i -= 2 {
			u = u<<15 | uint64(binary.LittleEndian.Uint16(digits[i:]))
		}
		v := int64(u)
		if neg {
			v = -v
		}
		return v, 0, nil
	}
	const w = bits.UintSize
	words := make([]big.Word, (int(n)*15+w-1)/w)
	for i := 0; i < int(n); i++ {
		d := big.Word(binary.LittleEndian.Uint16(digits[2*i:]))
		p := i * 15
		words[p/w] |= d << (p % w)
		if p%w > w-15 {
			words[p/w+1] |= d >> (w - p%w)
		}
	}
	b := new(big.Int).SetBits(words)
	upper := 15*n*log10of2High/100000000 + 1
	if upper > maxDigits {
		limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(maxDigits), nil)
		if b.Cmp(limit) >= 0 {
			return nil, 0, s.limit("int digits", s.lim.MaxIntDigits)
		}
	}
	if neg {
		b.Neg(b)
	}
	v := py.NormalizeInt(b)
	if _, small := v.(int64); small {
		return v, 0, nil
	}
	return v, int(upper), nil
}
