// Package py is pyrogo's model of Python values in Go.
//
// Every Pyro serializer (serpent, json, marshal, msgpack) decodes into, and
// encodes from, the same small set of Go types:
//
//	Python          Go
//	None            nil
//	bool            bool
//	int             int64, or *big.Int when the value does not fit in 64 bits
//	float           float64 (NaN, ±Inf and -0.0 included)
//	complex         complex128
//	str             string (always valid UTF-8)
//	bytes           []byte
//	tuple           Tuple
//	list            []any
//	dict            *Dict (insertion ordered, any hashable key)
//	set, frozenset  *Set (Frozen tells which)
//	exception       *Exception (Pyro's exception dict form)
//
// Decoders normalise integers: a value that fits in int64 is always an
// int64, never a *big.Int. Values of other Pyro classes (URIs, proxies) are
// represented by types of the packages that own them; they implement
// ClassDicter so that every encoder can write them.
//
// FromGo turns ordinary Go values (structs, maps, slices, numbers of any
// width, time.Time, ...) into the model, and Convert turns a model value
// into a typed Go target, with errors that name the path to the offending
// element. These two functions are the single place where the mapping
// between Go types and Python types is decided; the daemon uses them (and
// ConvertValue) to call Go methods with Python arguments. Go types can take
// part by implementing Marshaler and Unmarshaler, or
// encoding.TextMarshaler and encoding.TextUnmarshaler to travel as str.
// Snake, Camel and FoldName state how Go and Python spellings of a name
// correspond.
//
// Limits bounds what a decoder may build from untrusted input; every
// decoder in pyrogo takes one.
package py
