package py

import (
	"errors"
	"fmt"
)

// Limits bounds what a decoder builds from untrusted input. The zero value
// of a field means "use the default"; a negative value means "no limit"
// (only sensible for trusted input).
type Limits struct {
	// MaxDepth is the deepest nesting of containers (tuple, list, dict,
	// set) allowed. Default 1000, about what CPython's own parser and
	// recursion limit allow.
	MaxDepth int
	// MaxItems is the total number of container elements (dict entries
	// count once) in one decoded value. Default 10,000,000.
	MaxItems int
	// MaxStringLen is the largest str or bytes value, in bytes, after
	// decoding. Default 256 MiB.
	MaxStringLen int
	// MaxIntDigits is the largest number of decimal digits of an integer
	// literal. Default 4300, CPython 3.11's int_max_str_digits, which
	// bounds the quadratic cost of converting decimal text.
	MaxIntDigits int
}

// Default limit values used where a Limits field is zero.
const (
	DefaultMaxDepth     = 1000
	DefaultMaxItems     = 10_000_000
	DefaultMaxStringLen = 256 << 20
	DefaultMaxIntDigits = 4300
)

// DefaultLimits returns the limits every decoder uses unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:     DefaultMaxDepth,
		MaxItems:     DefaultMaxItems,
		MaxStringLen: DefaultMaxStringLen,
		MaxIntDigits: DefaultMaxIntDigits,
	}
}

// Resolved returns l with zero fields replaced by the defaults and negative
// fields by the largest int, so decoders can compare without special cases.
func (l Limits) Resolved() Limits {
	fix := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return int(^uint(0) >> 1)
		}
		return v
	}
	return Limits{
		MaxDepth:     fix(l.MaxDepth, DefaultMaxDepth),
		MaxItems:     fix(l.MaxItems, DefaultMaxItems),
		MaxStringLen: fix(l.MaxStringLen, DefaultMaxStringLen),
		MaxIntDigits: fix(l.MaxIntDigits, DefaultMaxIntDigits),
	}
}

// ErrLimit is matched (errors.Is) by every error a decoder returns because a
// Limits bound was exceeded.
var ErrLimit = errors.New("decoder limit exceeded")

// LimitError reports which limit a decoder hit.
type LimitError struct {
	Format string // "serpent", "marshal", "json", "msgpack"
	Limit  string // "depth", "items", "string length", "int digits"
	Max    int    // the bound in force
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: %s limit of %d exceeded", e.Format, e.Limit, e.Max)
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// ErrSyntax is matched (errors.Is) by every error a decoder returns because
// its input is malformed or truncated.
var ErrSyntax = errors.New("malformed input")

// SyntaxError reports malformed input and where it was found.
type SyntaxError struct {
	Format string // "serpent", "marshal", "json", "msgpack"
	Offset int    // byte offset in the input where the problem was found
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s: %s at byte %d", e.Format, e.Msg, e.Offset)
}

// Is makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// ErrUnsupported is matched by errors for values a format cannot represent
// (bytes in json, a frozenset in msgpack, a Go channel anywhere).
var ErrUnsupported = errors.New("value not representable")

// UnsupportedError reports a value that a format or the model cannot carry.
type UnsupportedError struct {
	Format string // the format, or "py" for the Go conversion
	Type   string // Python or Go type name of the value
	Reason string // optional detail
}

func (e *UnsupportedError) Error() string {
	s := fmt.Sprintf("%s: cannot serialize %s", e.Format, e.Type)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }
