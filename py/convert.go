package py

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// This file holds the exported API of the Go <-> model reflection rules;
// fromgo.go implements FromGo, togo.go implements Convert, fields.go the
// struct field tables shared by both.

// Marshaler is implemented by Go types that choose their own Python form.
// FromGo calls PyroValue and converts its result in turn (so it may return
// structs, maps and other Go values, not only model values). A type that
// returns itself loops until the nesting limit stops it with an error.
type Marshaler interface {
	PyroValue() (any, error)
}

// Unmarshaler is implemented (normally on a pointer receiver) by Go types
// that build themselves from a model value. Convert calls FromPyro with the
// model value unchanged, None included (except that a None converted into a
// *T sets the pointer to nil without calling FromPyro). An error is
// reported as a *ConvertError whose Err is the returned error.
type Unmarshaler interface {
	FromPyro(v any) error
}

// FromGo converts an ordinary Go value into the model (see the package
// doc). Values already in the model are returned unchanged, without
// allocating; a list, tuple or dict is only rebuilt when one of its
// elements needs converting. The rules, in the order they are tried:
//
//   - nil, nil pointers, nil interfaces, nil *big.Int and nil *Exception
//     become None. A nil slice or nil map becomes an empty list
//     or dict (like encoding/json v2), a nil *Dict an empty dict, a nil
//     *Set an empty set; nil []byte, []any and Tuple are already the empty
//     bytes, list and tuple of the model and are returned as they are.
//   - A Marshaler's PyroValue result, converted in turn.
//   - A ClassDicter (URIs, proxies, *Exception) is returned unchanged;
//     every encoder writes its PyroClassDict.
//   - time.Time becomes a str as Python's datetime.isoformat() writes it:
//     "2024-01-02T03:04:05+00:00", with ".ffffff" microseconds only when
//     they are not zero (nanoseconds are truncated to microseconds) and
//     always the UTC offset of the time's location ("+00:00" for UTC,
//     "+05:30", "-03:00:30" for offsets with seconds). A Go time is an
//     instant, so it is never sent naive. Years outside 1..9999, which
//     Python's datetime cannot hold, are an error.
//   - time.Duration becomes float seconds (what Pyro sends for timedelta).
//   - *big.Int and big.Int become int (int64 when the value fits);
//     *big.Float and big.Float become the nearest float.
//   - Types implementing encoding.TextMarshaler (net.IP, UUID types, ...)
//     become the str MarshalText returns.
//   - bool, all int and uint widths (an unsigned value above MaxInt64
//     becomes a *big.Int), float32/64, complex64/128 and string kinds,
//     named types included. Strings are passed on as they are, without
//     checking that they are valid UTF-8.
//   - []byte and [N]byte (any byte-kinded element type) become bytes; other
//     slices and arrays become lists, except that arrays used as map keys
//     become tuples (so that they stay hashable).
//   - Maps become a *Dict. Keys are converted like values (arrays to
//     tuples) and must be hashable in Python; the entries are sorted by key
//     for a deterministic order (str keys by bytes, numbers numerically,
//     mixed key types grouped None < bool < numbers < complex < str <
//     bytes < tuple < frozenset).
//   - Structs become a *Dict of their exported fields in declaration
//     order. The key is the name in a `pyro:"name"` tag or else the Go field
//     name; `pyro:"-"` skips a field; the options ",omitempty" (skip false,
//     0, "", nil, and empty slices, maps and arrays, like encoding/json) and
//     ",omitzero" (skip the zero value, or when an IsZero() bool method says
//     so) may follow the name. Embedded structs (and pointers to them)
//     without a tag name have their fields promoted, with encoding/json's
//     rules for name conflicts (the shallower field wins, then the tagged
//     one; otherwise all are dropped); embedded types with their own
//     conversion (Marshaler, time.Time, ...) are ordinary fields named
//     after the type. Beware that Go promotes the methods of embedded
//     types: a struct embedding time.Time is itself a TextMarshaler and
//     converts as one, as with encoding/json.
//   - Pointers become their pointee, interfaces their dynamic value.
//   - Channels, funcs and unsafe pointers fail with an *UnsupportedError
//     (Format "py"); so does nesting deeper than DefaultMaxDepth, which is
//     how a cycle through pointers, slices or maps ends. The Reason of the
//     error names the path to the value.
//
// Errors from PyroValue and MarshalText are returned wrapped, with the path
// to the value in the message.
func FromGo(v any) (any, error) {
	out, _, err := fromAny(v, 0)
	if err != nil {
		return nil, finishFromGoError(err)
	}
	return out, nil
}

// Convert stores the model value src into the Go value that dst points to.
// dst must be a non-nil pointer. It is ConvertValue on the pointee; see
// there for the rules.
func Convert(dst any, src any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &ConvertError{Msg: fmt.Sprintf("py.Convert needs a non-nil pointer, got %s", goTypeName(rv))}
	}
	return ConvertValue(rv.Elem(), src)
}

// ConvertValue stores the model value src into dst, which must be
// settable; the daemon uses it to fill method parameters. Errors are
// *ConvertError and name the path to the offending element. The rules, by
// the type of dst:
//
//   - A value whose type is exactly the dst type is assigned as it is (so
//     model values and ClassDicter objects pass through unchanged).
//   - any (empty interface): src is stored as it is. Other interfaces
//     accept None (the nil interface) and values that implement them.
//   - *T: None makes a nil pointer; anything else is converted into the
//     pointee, allocated if the pointer is nil (an existing pointee is
//     reused, like encoding/json).
//   - Types whose pointer implements Unmarshaler: FromPyro(src).
//   - Slices and maps accept None as nil.
//   - bool: bool only.
//   - Integers of every width: int, and bool (Python's bool is an int
//     subclass, so True is accepted as 1), and a float with an integral
//     value; the value must fit ("int 300 overflows int8", "float 1.5 is
//     not an integer").
//   - float32/64: float, bool and int, the latter only when exactly
//     representable; float32 rounds, but a finite float beyond its range is
//     an overflow. complex64/128: complex, float, bool and int likewise.
//   - string: str only (not bytes). *big.Int, big.Int: int and bool, and
//     integral floats. *big.Float, big.Float: int, float and bool.
//   - time.Time: a str in the forms Python's isoformat and str() write
//     ("2024-01-02", "2024-01-02T03:04:05", ".ffffff" fractions of any
//     length, " " instead of "T", offsets "Z", "+01", "+0100", "+01:00",
//     "+01:00:30.5", and a bare time "03:04:05" on date 0001-01-01). A
//     naive time is taken as UTC (as Go's time.Parse does); an offset of
//     zero gives time.UTC, other offsets a fixed zone without a name. An
//     int or float is a POSIX timestamp, giving a UTC time; it must lie in
//     Python's datetime range (years 1..9999).
//   - time.Duration: int or float seconds (to the nearest nanosecond).
//   - Types whose pointer implements encoding.TextUnmarshaler: a str goes
//     to UnmarshalText; other values follow the rules of the type's kind.
//   - []byte (and [N]byte of exactly N bytes): bytes; the dict serpent
//     sends for bytes, {'data': '<base64>', 'encoding': 'base64'}; or a
//     list of ints 0..255 (the only way json can carry bytes).
//   - Other slices: list, tuple or set, element by element. Tuple and
//     []any take list, tuple and set without converting the elements.
//   - [N]T: a list or tuple of exactly N elements.
//   - map[K]V: a dict, keys and values converted. A str key converts to an
//     integer or float K by decimal parsing, because json turns int keys
//     into strings, and to a bool K from "true" and "false". A key Go
//     cannot use (a tuple or bytes for an interface key type) is an error.
//     map[K]struct{} and map[K]bool also take a set, or a list or tuple of
//     hashable members (json and msgpack send sets as lists); the members
//     become keys, the values struct{}{} and true.
//   - *Dict: a dict, or the class dict of a ClassDicter. *Set: a set or
//     frozenset. *Exception: an exception, or a dict in Pyro's exception
//     form.
//   - Structs: a dict (or the class dict of a ClassDicter). A str key
//     matches a field by the field's Python name (tag or Go name), then by
//     its exact Go name, then case- and underscore-insensitively (FoldName:
//     "list_contents" matches ListContents). Unknown and non-str keys are
//     ignored (ConvertOptions.DisallowUnknownKeys makes them errors, as the
//     daemon does for method arguments); fields without a key keep their
//     value.
//   - Everything else is a *ConvertError: "cannot convert str to int".
//
// src must not nest deeper than DefaultMaxDepth. The result may share
// memory with src: bytes, lists, tuples, dicts and sets are not copied
// where the target type can hold them as they are. After an error, dst
// may be partly filled.
func ConvertValue(dst reflect.Value, src any) error {
	if !dst.CanSet() {
		return &ConvertError{Msg: fmt.Sprintf("py.ConvertValue needs a settable value, got %s", goTypeName(dst))}
	}
	return decoderFor(dst.Type(), modeDefault)(dst, src, 0)
}

// ConvertOptions changes the rules of Convert and ConvertValue. The zero
// value gives the rules of the package functions.
type ConvertOptions struct {
	// DisallowUnknownKeys makes a dict key that matches no field of the
	// target struct an error that names the key and the struct's fields
	// ("unknown key 'colour' for main.Item (fields: name, size)"), and so
	// is a key that is not a str; by default both are ignored. The daemon
	// sets it for method arguments, so that a Python caller's typo is a
	// TypeError rather than a silently missing value.
	DisallowUnknownKeys bool
}

func (o ConvertOptions) mode() decodeMode {
	if o.DisallowUnknownKeys {
		return modeStrictKeys
	}
	return modeDefault
}

// Convert is the package's Convert with the options' rules.
func (o ConvertOptions) Convert(dst any, src any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &ConvertError{Msg: fmt.Sprintf("py.Convert needs a non-nil pointer, got %s", goTypeName(rv))}
	}
	return o.ConvertValue(rv.Elem(), src)
}

// ConvertValue is the package's ConvertValue with the options' rules.
func (o ConvertOptions) ConvertValue(dst reflect.Value, src any) error {
	if !dst.CanSet() {
		return &ConvertError{Msg: fmt.Sprintf("py.ConvertValue needs a settable value, got %s", goTypeName(dst))}
	}
	return decoderFor(dst.Type(), o.mode())(dst, src, 0)
}

// ConvertError reports a model value that cannot be converted to the Go
// type asked for. Path leads from the outermost value to the offending
// element, with elements such as "arg 2", "keyword argument 'x'", "field
// Name", "dict key 'a'", "list item 3", "tuple item 0" and "set item 1".
type ConvertError struct {
	Path []string // outermost first; empty when the top value is at fault
	Msg  string   // what is wrong, e.g. "cannot convert str to int"
	Err  error    // the underlying error (from FromPyro, UnmarshalText, ...), or nil
}

// Error returns the path and message joined by ": ", e.g.
// "field Items: list item 3: cannot convert str to int".
func (e *ConvertError) Error() string {
	if len(e.Path) == 0 {
		return e.Msg
	}
	return joinPath(e.Path) + ": " + e.Msg
}

// joinPath joins path elements with ": ", eliding the middle of very long
// paths (a value nested hundreds of levels deep).
func joinPath(path []string) string {
	const keep = 8
	if len(path) <= 2*keep+1 {
		return strings.Join(path, ": ")
	}
	return strings.Join(path[:keep], ": ") + ": ... " + strconv.Itoa(len(path)-2*keep) +
		" more ...: " + strings.Join(path[len(path)-keep:], ": ")
}

// Unwrap returns the underlying error, if any.
func (e *ConvertError) Unwrap() error { return e.Err }

// Prepend adds elem in front of the path (the daemon prefixes "arg 2" or
// "keyword argument 'x'") and returns e.
func (e *ConvertError) Prepend(elem string) *ConvertError {
	e.Path = append(e.Path, "")
	copy(e.Path[1:], e.Path)
	e.Path[0] = elem
	return e
}

func goTypeName(rv reflect.Value) string {
	if !rv.IsValid() {
		return "nil"
	}
	return rv.Type().String()
}
