package pymsgpack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Pyro's extension type codes (protocol §3.5) and msgpack's own timestamp.
const (
	extComplex   = 0x30
	extBigInt    = 0x31
	extDatetime  = 0x32
	extDate      = 0x33
	extTimestamp = -1
)

// maxOrdinal is date(9999, 12, 31).toordinal().
const maxOrdinal = 3652059

// Decoder reads Pyro msgpack payloads into model values. The zero value is
// ready to use and applies py.DefaultLimits. A Decoder holds no state
// between calls and may be used concurrently.
type Decoder struct {
	// Limits bounds what Decode may build; the zero value means the
	// defaults (see py.Limits).
	Limits py.Limits
	// DictHook, if not nil, is applied to every decoded map once it is
	// complete; its result replaces the map. An error it returns aborts
	// decoding and is returned unchanged.
	DictHook func(d *py.Dict) (any, error)
	// StrictMapKey refuses map keys other than str and bytes with a
	// *StrictKeyError, as msgpack for Python does by default
	// (strict_map_key=True) and so Pyro5's daemon when it decodes a call.
	StrictMapKey bool
}

// StrictKeyError is a map key that StrictMapKey refuses: Python's
// ValueError with msgpack's text.
type StrictKeyError struct {
	Type   string // the key's Python type name
	Offset int
}

func (e *StrictKeyError) Error() string {
	return e.Type + " is not allowed for map key when strict_map_key=True"
}

// Is matches py.ErrSyntax: the payload is not one the decoder accepts,
// like any other malformed input.
func (e *StrictKeyError) Is(target error) bool { return target == py.ErrSyntax }

// Exception returns the error as the Python exception msgpack raises.
func (e *StrictKeyError) Exception() *py.Exception {
	return &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{e.Error()}}
}

type state struct {
	data  []byte
	r     bytes.Reader
	dec   *msgpack.Decoder
	lim   py.Limits
	items int
	hook  func(*py.Dict) (any, error)
	// strict: StrictMapKey
	strict bool
}

var statePool = sync.Pool{New: func() any { return &state{dec: msgpack.NewDecoder(nil)} }}

// Decode reads one msgpack value that must fill all of data.
func (d *Decoder) Decode(data []byte) (any, error) {
	var lim py.Limits
	var hook func(*py.Dict) (any, error)
	var strict bool
	if d != nil {
		lim, hook, strict = d.Limits, d.DictHook, d.StrictMapKey
	}
	s := statePool.Get().(*state)
	s.data, s.lim, s.hook, s.items, s.strict = data, lim.Resolved(), hook, 0, strict
	s.r.Reset(data)
	s.dec.Reset(&s.r)
	v, err := s.value(0)
	if err == nil && s.r.Len() != 0 {
		v, err = nil, s.syntax(fmt.Sprintf("%d bytes of trailing data after the value", s.r.Len()))
	}
	s.data, s.hook = nil, nil
	s.r.Reset(nil)
	s.dec.Reset(nil)
	statePool.Put(s)
	return v, err
}

// pos is the offset of the next unread byte.
func (s *state) pos() int { return len(s.data) - s.r.Len() }

func (s *state) syntax(msg string) error {
	return &py.SyntaxError{Format: "msgpack", Offset: s.pos(), Msg: msg}
}

func (s *state) limit(name string, max int) error {
	return &py.LimitError{Format: "msgpack", Limit: name, Max: max}
}

// libErr converts an error of the msgpack library. After PeekCode has
// vetted the type code, the only possible failure is running out of input.
func (s *state) libErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return s.syntax("truncated input")
	}
	return s.syntax(err.Error())
}

// take returns the next n bytes of the input (not copied) and skips them.
func (s *state) take(n int) ([]byte, error) {
	if n < 0 || n > s.r.Len() {
		return nil, s.syntax(fmt.Sprintf("truncated input: %d bytes announced, %d left", n, s.r.Len()))
	}
	p := s.pos()
	if _, err := s.r.Seek(int64(n), io.SeekCurrent); err != nil {
		return nil, s.syntax(err.Error())
	}
	return s.data[p : p+n : p+n], nil
}

// count adds n container elements to the total and checks the limit.
func (s *state) count(n int) error {
	if n > s.lim.MaxItems-s.items {
		return s.limit("items", s.lim.MaxItems)
	}
	s.items += n
	return nil
}

// value decodes the value at the current position; depth is the number of
// containers around it.
func (s *state) value(depth int) (any, error) {
	c, err := s.dec.PeekCode()
	if err != nil {
		return nil, s.syntax("truncated input: value expected")
	}
	switch {
	case msgpcode.IsFixedNum(c):
		n, err := s.dec.DecodeInt64()
		if err != nil {
			return nil, s.libErr(err)
		}
		return n, nil
	case msgpcode.IsString(c):
		return s.str()
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		return s.array(depth + 1)
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return s.dict(depth + 1)
	case msgpcode.IsBin(c):
		return s.bin()
	case msgpcode.IsExt(c):
		return s.ext()
	}
	switch c {
	case msgpcode.Nil:
		if err := s.dec.DecodeNil(); err != nil {
			return nil, s.libErr(err)
		}
		return nil, nil
	case msgpcode.False, msgpcode.True:
		b, err := s.dec.DecodeBool()
		if err != nil {
			return nil, s.libErr(err)
		}
		return b, nil
	case msgpcode.Float, msgpcode.Double:
		f, err := s.dec.DecodeFloat64()
		if err != nil {
			return nil, s.libErr(err)
		}
		return f, nil
	case msgpcode.Uint64:
		u, err := s.dec.DecodeUint64()
		if err != nil {
			return nil, s.libErr(err)
		}
		if u > math.MaxInt64 {
			return new(big.Int).SetUint64(u), nil
		}
		return int64(u), nil
	case msgpcode.Uint8, msgpcode.Uint16, msgpcode.Uint32,
		msgpcode.Int8, msgpcode.Int16, msgpcode.Int32, msgpcode.Int64:
		n, err := s.dec.DecodeInt64()
		if err != nil {
			return nil, s.libErr(err)
		}
		return n, nil
	}
	return nil, s.syntax(fmt.Sprintf("invalid type code 0x%02x", c))
}

func (s *state) str() (any, error) {
	n, err := s.dec.DecodeBytesLen()
	if err != nil {
		return nil, s.libErr(err)
	}
	raw, err := s.take(n)
	if err != nil {
		return nil, err
	}
	if n > s.lim.MaxStringLen {
		return nil, s.limit("string length", s.lim.MaxStringLen)
	}
	if !utf8.Valid(raw) {
		return nil, &py.SyntaxError{Format: "msgpack", Offset: s.pos() - n, Msg: "invalid UTF-8 in str"}
	}
	if v, ok := wellKnown[string(raw)]; ok {
		return v, nil
	}
	return string(raw), nil
}

func (s *state) bin() (any, error) {
	n, err := s.dec.DecodeBytesLen()
	if err != nil {
		return nil, s.libErr(err)
	}
	raw, err := s.take(n)
	if err != nil {
		return nil, err
	}
	if n > s.lim.MaxStringLen {
		return nil, s.limit("string length", s.lim.MaxStringLen)
	}
	return bytes.Clone(raw[:n:n]), nil
}

// checkLen vets a container header: each element needs at least one byte.
func (s *state) checkLen(n, perElem int, depth int) error {
	if depth > s.lim.MaxDepth {
		return s.limit("depth", s.lim.MaxDepth)
	}
	if n < 0 || n > s.r.Len()/perElem {
		return s.syntax(fmt.Sprintf("truncated input: %d elements announced, %d bytes left", n, s.r.Len()))
	}
	return s.count(n)
}

func (s *state) array(depth int) (any, error) {
	n, err := s.dec.DecodeArrayLen()
	if err != nil {
		return nil, s.libErr(err)
	}
	if err := s.checkLen(n, 1, depth); err != nil {
		return nil, err
	}
	list := make([]any, n)
	for i := range list {
		if list[i], err = s.value(depth); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func (s *state) dict(depth int) (any, error) {
	n, err := s.dec.DecodeMapLen()
	if err != nil {
		return nil, s.libErr(err)
	}
	if err := s.checkLen(n, 2, depth); err != nil {
		return nil, err
	}
	d := py.NewDict(n)
	for range n {
		kpos := s.pos()
		k, err := s.value(depth)
		if err != nil {
			return nil, err
		}
		if s.strict {
			switch k.(type) {
			case string, []byte:
			default:
				return nil, &StrictKeyError{Type: py.TypeName(k), Offset: kpos}
			}
		}
		v, err := s.value(depth)
		if err != nil {
			return nil, err
		}
		if err := d.Set(k, v); err != nil {
			return nil, &py.SyntaxError{Format: "msgpack", Offset: kpos,
				Msg: "map key of type " + py.TypeName(k) + " is unhashable"}
		}
	}
	if s.hook != nil {
		return s.hook(d)
	}
	return d, nil
}

func (s *state) ext() (any, error) {
	start := s.pos()
	code, n, err := s.dec.DecodeExtHeader()
	if err != nil {
		return nil, s.libErr(err)
	}
	payload, err := s.take(n)
	if err != nil {
		return nil, err
	}
	badSize := func(want string) error {
		return &py.SyntaxError{Format: "msgpack", Offset: start,
			Msg: fmt.Sprintf("ext type %d has %d data bytes, want %s", code, n, want)}
	}
	switch code {
	case extComplex:
		if n != 16 {
			return nil, badSize("16")
		}
		re := math.Float64frombits(binary.LittleEndian.Uint64(payload))
		im := math.Float64frombits(binary.LittleEndian.Uint64(payload[8:]))
		return complex(re, im), nil
	case extBigInt:
		return s.bigInt(start, payload)
	case extDatetime:
		if n != 8 {
			return nil, badSize("8")
		}
		t, ok := datetimeFromTimestamp(math.Float64frombits(binary.LittleEndian.Uint64(payload)))
		if !ok {
			return nil, &py.SyntaxError{Format: "msgpack", Offset: start, Msg: "datetime timestamp out of range"}
		}
		return t, nil
	case extDate:
		if n != 8 {
			return nil, badSize("8")
		}
		ord := int64(binary.LittleEndian.Uint64(payload))
		if ord < 1 || ord > maxOrdinal {
			return nil, &py.SyntaxError{Format: "msgpack", Offset: start,
				Msg: fmt.Sprintf("date ordinal %d out of range 1..%d", ord, maxOrdinal)}
		}
		return time.Date(1, 1, int(ord), 0, 0, 0, 0, time.UTC), nil
	case extTimestamp:
		t, ok := msgpackTimestamp(payload)
		if !ok {
			return nil, &py.SyntaxError{Format: "msgpack", Offset: start,
				Msg: fmt.Sprintf("invalid msgpack timestamp (%d bytes)", n)}
		}
		return t, nil
	}
	return nil, &py.SyntaxError{Format: "msgpack", Offset: start,
		Msg: fmt.Sprintf("invalid ext code for msgpack: %d", code)}
}

// bigInt parses Pyro's ext 0x31: an optional '-' and decimal digits.
func (s *state) bigInt(start int, digits []byte) (any, error) {
	body := digits
	if len(body) > 0 && body[0] == '-' {
		body = body[1:]
	}
	if len(body) > s.lim.MaxIntDigits {
		return nil, s.limit("int digits", s.lim.MaxIntDigits)
	}
	ok := len(body) > 0
	for _, c := range body {
		if c < '0' || c > '9' {
			ok = false
			break
		}
	}
	if !ok {
		return nil, &py.SyntaxError{Format: "msgpack", Offset: start,
			Msg: fmt.Sprintf("invalid int digits %.40q in ext 0x31", digits)}
	}
	b, _ := new(big.Int).SetString(string(digits), 10)
	return py.NormalizeInt(b), nil
}

// datetimeFromTimestamp mirrors Python's datetime.fromtimestamp(ts): the
// fraction is rounded to microseconds half-even, the result is local
// time. Only years 1..9999 (Python's range) are accepted.
func datetimeFromTimestamp(ts float64) (time.Time, bool) {
	// Python's datetime range, with a day of slack for any time zone.
	const minTS, maxTS = -62135596800 - 86400, 253402300800 + 86400
	if math.IsNaN(ts) || ts < minTS || ts > maxTS {
		return time.Time{}, false
	}
	sec, frac := math.Modf(ts)
	us := math.RoundToEven(frac * 1e6)
	if us >= 1e6 {
		us -= 1e6
		sec++
	} else if us < 0 {
		us += 1e6
		sec--
	}
	t := time.Unix(int64(sec), int64(us)*1000).In(time.Local)
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// msgpackTimestamp decodes the msgpack timestamp extension (type -1).
func msgpackTimestamp(p []byte) (time.Time, bool) {
	switch len(p) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(p)), 0).UTC(), true
	case 8:
		v := binary.BigEndian.Uint64(p)
		nsec, sec := int64(v>>34), int64(v&(1<<34-1))
		if nsec >= 1e9 {
			return time.Time{}, false
		}
		return time.Unix(sec, nsec).UTC(), true
	case 12:
		nsec := int64(binary.BigEndian.Uint32(p))
		sec := int64(binary.BigEndian.Uint64(p[4:]))
		// Beyond ±2^62 s (±1.5e11 years) time.Time's arithmetic overflows.
		if nsec >= 1e9 || sec > 1<<62 || sec < -1<<62 {
			return time.Time{}, false
		}
		return time.Unix(sec, nsec).UTC(), true
	}
	return time.Time{}, false
}

// wellKnown holds the strings of Pyro's own messages, boxed once, so that
// decoding them allocates nothing.
var wellKnown = func() map[string]any {
	m := map[string]any{}
	for _, s := range []string{"__class__", "__exception__", "args", "attributes", "_pyroTraceback", "state",
		"handshake", "object", "meta", "methods", "oneway", "attrs", "hello",
		"PYRO", "Pyro4.core.URI", "Pyro4.core.Proxy", "Pyro.NameServer", "Pyro.Daemon",
		"exception", "Pyro4.futures._ExceptionWrapper", "", "msgpack"} {
		m[s] = s
	}
	return m
}()
