package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

// pyException is an exception the gateway raises itself, as Pyro4's
// gateway does (AssertionError, AttributeError, ValueError).
type pyException struct {
	class string
	msg   string
}

func (e *pyException) Error() string { return e.class + ": " + e.msg }

// jsonCodec is Pyro4's json serializer.
var jsonCodec = func() codec.Codec {
	c, err := codec.ForName("json", codec.Options{})
	if err != nil {
		panic(err)
	}
	return c
}()

// exceptionJSON encodes err as Pyro4's gateway does for the exceptions it
// catches: json.dumps(SerializerBase.class_to_dict(x)), that is
// {"__class__": ..., "__exception__": true, "args": [...],
// "attributes": {...}} with non-ASCII characters escaped.
func exceptionJSON(err error) []byte {
	var exc *py.Exception
	var re *pyro.RemoteError
	var pe *pyro.Error
	var ge *pyException
	switch {
	case errors.As(err, &re):
		exc = re.Exception
	case errors.As(err, &ge):
		exc = &py.Exception{Class: ge.class, Args: py.Tuple{ge.msg}}
	case errors.As(err, &pe):
		exc = pe.Exception()
	default:
		exc = &py.Exception{Class: pyro.ErrPyro.PythonName(), Args: py.Tuple{err.Error()}}
	}
	if exc.Attributes == nil {
		exc = &py.Exception{Class: exc.Class, Args: exc.Args, Attributes: py.NewDict(0)}
	}
	b, mErr := jsonCodec.Marshal(exc)
	if mErr != nil {
		b, _ = jsonCodec.Marshal(&py.Exception{Class: exc.Class, Args: py.Tuple{exc.Message()}, Attributes: py.NewDict(0)})
	}
	return asciiJSON(b)
}

// metaJSON is the $meta answer: json.dumps({"methods": [...],
// "attributes": [...]}). Pyro4 writes its sets in hash order; this
// writes them sorted.
func metaJSON(methods, attrs []string) []byte {
	d := py.NewDict(2)
	d.SetString("methods", strList(sorted(methods)))
	d.SetString("attributes", strList(sorted(attrs)))
	b, err := jsonCodec.Marshal(d)
	if err != nil { // strings always encode
		panic(err)
	}
	return asciiJSON(b)
}

func strList(s []string) []any {
	l := make([]any, len(s))
	for i, x := range s {
		l[i] = x
	}
	return l
}

// asciiJSON escapes the non-ASCII characters of a JSON text as \uXXXX
// (surrogate pairs above U+FFFF), as Python's json.dumps does by default
// (ensure_ascii=True). Outside strings JSON has no non-ASCII characters,
// so escaping every one is exact.
func asciiJSON(b []byte) []byte {
	n := 0
	for _, c := range b {
		if c >= 0x80 {
			n++
		}
	}
	if n == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+6*n)
	const hexd = "0123456789abcdef"
	esc := func(r rune) {
		out = append(out, '\\', 'u', hexd[r>>12&0xf], hexd[r>>8&0xf], hexd[r>>4&0xf], hexd[r&0xf])
	}
	for len(b) > 0 {
		if b[0] < 0x80 {
			out = append(out, b[0])
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r > 0xffff {
			r -= 0x10000
			esc(0xd800 + r>>10)
			esc(0xdc00 + r&0x3ff)
			continue
		}
		esc(r)
	}
	return out
}

// errBadUUID is Python's uuid.UUID error for a malformed string.
var errBadUUID = &pyException{class: "builtins.ValueError", msg: "badly formed hexadecimal UUID string"}

// parseUUID parses a UUID as Python's uuid.UUID(hex) does: "urn:" and
// "uuid:" removed, braces stripped, hyphens ignored, 32 hex digits.
func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	s = strings.ReplaceAll(strings.ReplaceAll(s, "urn:", ""), "uuid:", "")
	s = strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	if len(s) != 32 {
		return u, errBadUUID
	}
	for i := range 16 {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return u, &pyException{class: "builtins.ValueError", msg: "invalid literal for int() with base 16: '" + s + "'"}
		}
		u[i] = byte(v)
	}
	return u, nil
}

// formatUUID is str(uuid.UUID).
func formatUUID(u [16]byte) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexd[c>>4], hexd[c&0xf])
	}
	return string(b)
}

// newUUID4 is uuid.uuid4().
func newUUID4() [16]byte {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// keyOK compares a request's key with the gateway key in constant time
// (the digests hide the length too); no gateway key accepts anything.
func (g *Gateway) keyOK(key string) bool {
	if len(g.key) == 0 {
		return true
	}
	a := sha256.Sum256([]byte(key))
	b := sha256.Sum256(g.key)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
