package serpent

import (
	"encoding/base64"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

// Header is the first line Python serpent writes (and Pyro4 sends) before
// the literal.
const Header = "# serpent utf-8 python3.2\n"

// Encoder writes serpent payloads. The zero value writes what Pyro4's
// serpent serializer writes (header line, bytes as the base64 dict). An
// Encoder is safe for concurrent use.
type Encoder struct {
	// NoHeader leaves out the "# serpent utf-8 python3.2" first line.
	// Python does not need it (it is a comment), but always writes it.
	NoHeader bool

	// BytesRepr writes []byte values as b'...' literals, as Python
	// serpent's bytes_repr=True does, instead of the base64 dict
	// {'data': '...', 'encoding': 'base64'}. A Python peer then receives
	// real bytes; Pyro4 itself never sets this option.
	BytesRepr bool

	// ClassDict writes Pyro class values (*py.Exception and every
	// py.ClassDicter); nil writes their PyroClassDict(), Pyro4's forms.
	ClassDict py.ClassDictFunc

	// MaxDepth is the deepest container nesting written; deeper values
	// (and cyclic ones) fail with a *py.LimitError. Zero means
	// py.DefaultMaxDepth (1000); negative values and values above 100000
	// mean 100000. Note that
	// CPython 3.11's parser refuses literals nested more than 200 deep,
	// and Python serpent itself refuses to write more than about 200
	// levels with the default recursion limit.
	MaxDepth int
}

// Marshal encodes v with a zero Encoder: the Pyro4 serpent payload of v.
func Marshal(v any) ([]byte, error) {
	var e Encoder
	return e.Append(make([]byte, 0, 128), v)
}

// Append appends the serpent encoding of v (header line included unless
// NoHeader) to b. Values of the py model are written directly,
// *py.Exception and py.ClassDicter values as their Pyro class dict, and
// anything else is first converted with py.FromGo. On error b is
// returned unchanged (same length) with a *py.UnsupportedError or
// *py.LimitError.
func (e *Encoder) Append(b []byte, v any) ([]byte, error) {
	return e.AppendLimit(b, v, nil)
}

// AppendLimit is Append with the output bounded by lim (nil: no bound):
// once the appended bytes would pass lim.Max, and lim.Grow grants no more
// room, encoding stops with a *py.SizeError (py.ErrTooLarge) or Grow's
// error, and b is returned unchanged in length.
func (e *Encoder) AppendLimit(b []byte, v any, lim *py.SizeLimit) ([]byte, error) {
	n := len(b)
	max := e.MaxDepth
	switch {
	case max == 0:
		max = py.DefaultMaxDepth
	case max < 0 || max > hardMaxDepth:
		max = hardMaxDepth
	}
	st := encoder{bytesRepr: e.BytesRepr, classDict: e.ClassDict, maxDepth: max, bound: py.NewOutputBound(lim, n)}
	if !e.NoHeader {
		b = append(b, Header...)
	}
	out, err := st.value(b, v, 0)
	if err != nil {
		return b[:n], err
	}
	return out, nil
}

type encoder struct {
	bytesRepr bool
	classDict py.ClassDictFunc
	maxDepth  int
	bound     py.OutputBound
}

// room makes sure n more bytes may be appended (see py.OutputBound).
func (e *encoder) room(b []byte, n int) ([]byte, error) {
	return e.bound.Room(b, n, formatName)
}

func unsupported(typ, reason string) error {
	return &py.UnsupportedError{Format: formatName, Type: typ, Reason: reason}
}

// enter checks the nesting depth of a container about to be written at
// depth (the number of enclosing containers).
func (e *encoder) enter(depth int) error {
	if depth+1 > e.maxDepth {
		return &py.LimitError{Format: formatName, Limit: "depth", Max: e.maxDepth}
	}
	return nil
}

func (e *encoder) value(b []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "None"...), nil
	case bool:
		if x {
			return append(b, "True"...), nil
		}
		return append(b, "False"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case *big.Int:
		if x == nil {
			return nil, unsupported("int", "nil *big.Int")
		}
		b, err := e.room(b, x.BitLen()/3+2)
		if err != nil {
			return nil, err
		}
		return x.Append(b, 10), nil
	case float64:
		return appendFloat(b, x), nil
	case complex128:
		return appendComplex(b, x)
	case string:
		return e.str(b, x)
	case []byte:
		if e.bytesRepr {
			q := py.QuoteBytes(x)
			b, err := e.room(b, len(q))
			if err != nil {
				return nil, err
			}
			return append(b, q...), nil
		}
		b, err := e.room(b, base64.StdEncoding.EncodedLen(len(x))+len(base64Head)+len(base64Tail))
		if err != nil {
			return nil, err
		}
		return appendBase64(b, x), nil
	case py.Tuple:
		if err := e.enter(depth); err != nil {
			return nil, err
		}
		b = append(b, '(')
		for i, it := range x {
			var err error
			if b, err = e.value(b, it, depth+1); err != nil {
				return nil, err
			}
			if i < len(x)-1 || len(x) == 1 {
				b = append(b, ',')
			}
			if b, err = e.room(b, 0); err != nil {
				return nil, err
			}
		}
		return append(b, ')'), nil
	case []any:
		if err := e.enter(depth); err != nil {
			return nil, err
		}
		b = append(b, '[')
		for i, it := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.value(b, it, depth+1); err != nil {
				return nil, err
			}
			if b, err = e.room(b, 0); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case *py.Dict:
		return e.dict(b, x, depth)
	case *py.Set:
		if x.Len() == 0 {
			// there is no literal for an empty set
			return append(b, '(', ')'), nil
		}
		if err := e.enter(depth); err != nil {
			return nil, err
		}
		b = append(b, '{')
		for i, it := range x.Items() {
			if i > 0 {
				b = append(b, ',')
			}
			if err := e.checkKey(it, "set member", true); err != nil {
				return nil, err
			}
			var err error
			if b, err = e.value(b, it, depth+1); err != nil {
				return nil, err
			}
			if b, err = e.room(b, 0); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case *py.Exception:
		if x == nil {
			return nil, unsupported("exception", "nil *py.Exception")
		}
		return e.dict(b, e.classDict.Dict(x), depth)
	case py.ClassDicter:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, unsupported(py.TypeName(v), "nil pointer")
		}
		return e.dict(b, e.classDict.Dict(x), depth)
	}
	conv, err := py.FromGo(v)
	if err != nil {
		return nil, err
	}
	if !isModel(conv) {
		return nil, unsupported(py.TypeName(v), "not a value of the py model and py.FromGo cannot convert it")
	}
	return e.value(b, conv, depth)
}

// isModel reports whether v is a py model value (or ClassDicter) that
// value writes without conversion.
func isModel(v any) bool {
	switch v.(type) {
	case nil, bool, int64, *big.Int, float64, complex128, string, []byte,
		py.Tuple, []any, *py.Dict, *py.Set, *py.Exception, py.ClassDicter:
		return true
	}
	return false
}

func (e *encoder) dict(b []byte, d *py.Dict, depth int) ([]byte, error) {
	if err := e.enter(depth); err != nil {
		return nil, err
	}
	b = append(b, '{')
	for i := 0; i < d.Len(); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		k := d.Key(i)
		var err error
		if s, ok := k.(string); ok {
			if b, err = e.str(b, s); err != nil {
				return nil, err
			}
		} else {
			if err := e.checkKey(k, "dict key", true); err != nil {
				return nil, err
			}
			if b, err = e.value(b, k, depth+1); err != nil {
				return nil, err
			}
		}
		b = append(b, ':')
		if b, err = e.value(b, d.Value(i), depth+1); err != nil {
			return nil, err
		}
		if b, err = e.room(b, 0); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// checkKey refuses dict keys and set members that Python serpent refuses
// (None, frozenset, class instances: "not of a primitive hashable type")
// and those whose serpent form Python could not hash on reading (the
// bytes base64 dict, the NaN dict, sets inside tuples). top is false for
// the elements of a tuple key, where Python serpent does not check types.
func (e *encoder) checkKey(k any, what string, top bool) error {
	switch x := k.(type) {
	case string, bool, int64, *big.Int, complex128:
		return nil
	case nil:
		if top {
			return unsupported("NoneType", what+" must be str, bytes, bool, number or tuple (Python serpent refuses None)")
		}
		return nil
	case float64:
		if math.IsNaN(x) {
			return unsupported("float", "NaN "+what+" would be written as an unhashable dict")
		}
		return nil
	case []byte:
		if e.bytesRepr {
			return nil
		}
		return unsupported("bytes", what+" would be written as an unhashable base64 dict; use Encoder.BytesRepr")
	case py.Tuple:
		for _, it := range x {
			if err := e.checkKey(it, what, false); err != nil {
				return err
			}
		}
		return nil
	}
	return unsupported(py.TypeName(k), what+" must be str, bytes, bool, number or tuple")
}

// appendFloat writes a float as serpent does: Python's repr, with the
// infinities as overflowing literals and NaN as a class dict.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "{'__class__':'float','value':'nan'}"...)
	case math.IsInf(f, 1):
		return append(b, "1e30000"...)
	case math.IsInf(f, -1):
		return append(b, "-1e30000"...)
	}
	return py.AppendFloat(b, f)
}

// appendComplex writes "(re+imj)" / "(re-imj)" with serpent's float forms.
func appendComplex(b []byte, c complex128) ([]byte, error) {
	re, im := real(c), imag(c)
	if math.IsNaN(re) || math.IsNaN(im) {
		return nil, unsupported("complex", "a complex with a NaN part has no serpent form")
	}
	b = append(b, '(')
	b = appendFloat(b, re)
	// Python serpent writes "+" for imag >= 0, giving "+-0.0j" for -0.0,
	// which ast.literal_eval refuses; "-0.0j" reads back fine.
	if im >= 0 && !math.Signbit(im) {
		b = append(b, '+')
	} else if im == 0 {
		b = append(b, '-')
		im = 0
	}
	b = appendFloat(b, im)
	return append(b, 'j', ')'), nil
}

// str appends a string within the output bound: the room for its
// unescaped form is made first, and the escaped result checked after.
func (e *encoder) str(b []byte, s string) ([]byte, error) {
	b, err := e.room(b, len(s)+2)
	if err != nil {
		return nil, err
	}
	if b, err = appendString(b, s); err != nil {
		return nil, err
	}
	return e.room(b, 0)
}

// appendString writes Python's repr of s as CPython 3.11 does: single
// quotes unless s contains ' and no ", backslash escapes for the quote,
// backslash, \t \n \r, and \xhh / \uhhhh / \Uhhhhhhhh for every other
// character that is not printable (see printable).
func appendString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\'' || c == '\\' {
			return appendQuoted(b, s)
		}
	}
	b = append(b, '\'')
	b = append(b, s...)
	return append(b, '\''), nil
}

func appendQuoted(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, unsupported("str", "invalid UTF-8")
	}
	return py.AppendQuotedString(b, s), nil
}

// appendBase64 writes bytes the way serpent does (Python's repr of a dict,
// hence the spaces).
func appendBase64(b []byte, p []byte) []byte {
	b = append(b, base64Head...)
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, base64Tail...)
}

const (
	base64Head = "{'data': '"
	base64Tail = "', 'encoding': 'base64'}"
)
