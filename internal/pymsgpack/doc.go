// Package pymsgpack implements Pyro4's msgpack serializer (serializer id 6)
// at the value level: model values (package py) are written exactly as
// Python's msgpack.packb(value, use_bin_type=True) does with Pyro's default
// hook, and msgpack bytes are read back into model values.
//
// The msgpack framing (type codes, length headers, big-endian numbers) is
// read and written with the low-level Encoder/Decoder primitives of
// github.com/vmihailenco/msgpack/v5 (PeekCode, DecodeArrayLen,
// DecodeMapLen, DecodeExtHeader, EncodeArrayLen, EncodeExtHeader, ...).
// That library was chosen because it is maintained, the most widely used
// msgpack implementation for Go, and exposes those primitives, so this
// package decides every type mapping, limit and extension code itself and
// never lets the library decode into interface{} by reflection.
//
// # Encoding
//
//   - None, bool; ints in the smallest form msgpack-python picks (positive
//     fixint, uint8/16/32/64 for non-negative values, negative fixint,
//     int8/16/32/64 for negative ones); ints outside int64 and uint64 →
//     extension 0x31 holding the ASCII decimal digits, like Pyro;
//   - float64 → always float 64 (0xcb), as Python floats are doubles;
//   - str → str (fixstr/str8/str16/str32), []byte → bin;
//   - py.Tuple, []any and *py.Set → array (they all come back as lists);
//     a frozenset is refused, as by Pyro ("don't know how to serialize
//     class <class 'frozenset'> using serializer MsgpackSerializer. ...");
//   - *py.Dict → map with its keys as they are (note: msgpack-python ≥ 1.0
//     unpacks with strict_map_key=True, so a Python peer refuses maps
//     with keys other than str or bytes — "int is not allowed for map key
//     when strict_map_key=True");
//   - complex128 → extension 0x30, two little-endian float64;
//   - *py.Exception and every py.ClassDicter → their PyroClassDict();
//   - time.Time → extension 0x32 (datetime), or 0x33 (date) for a time in
//     UTC at midnight exactly, when Encoder.TimeExt is set (see below);
//     plain Go integers are written directly; every other value outside the
//     model goes through py.FromGo first;
//   - a nil *big.Int, *py.Exception or other nil-pointer ClassDicter is
//     written as nil; a nil *py.Dict or *py.Set as an empty container;
//   - NaN keeps its bit pattern (Go's math.NaN() differs from CPython's
//     float('nan') in one payload bit; both read as nan);
//   - strings must be valid UTF-8; nesting deeper than Encoder.MaxDepth
//     (a self-referencing value, say) is refused.
//
// # Decoding
//
// Every msgpack type is accepted: nil, bool, all int widths (a uint64
// above MaxInt64 becomes a *big.Int, everything else int64), float 32
// (widened to float64) and float 64, str (must be valid UTF-8), bin →
// []byte, array → []any, map → *py.Dict (keys of any hashable type; an
// array or map as a key is an error, as in Python), and these extension
// types:
//
//	code  Pyro meaning         Go value
//	0x30  complex              complex128 (16 bytes: two LE float64)
//	0x31  int beyond 64 bits   int64 or *big.Int (ASCII "-?[0-9]+", at
//	                           most Limits.MaxIntDigits digits)
//	0x32  naive datetime       time.Time in time.Local (8 bytes: LE float64
//	                           POSIX timestamp, rounded to microseconds
//	                           half-even like Python's fromtimestamp;
//	                           years 1..9999 only)
//	0x33  date                 time.Time at 00:00 UTC of that day (8 bytes:
//	                           LE int64 proleptic Gregorian ordinal,
//	                           0001-01-01 = 1, up to 9999-12-31)
//	-1    msgpack timestamp    time.Time in UTC (4, 8 or 12 bytes, per the
//	                           msgpack spec)
//
// Any other extension code is an error like Pyro's "invalid ext code for
// msgpack: N". Go has no date-only type, so a date is recognisable only by
// its UTC location and zero clock; a datetime carries the local zone, as
// Python's naive datetimes mean local time.
//
// With Encoder.TimeExt set, a time.Time is written as Pyro writes
// datetimes and dates, so that what the decoder made of a Python value is
// written back as the same Python type: a time in UTC at midnight exactly
// (what ext 0x33 decodes to) as extension 0x33 with its ordinal, any other
// time as extension 0x32, the timestamp of its instant with microsecond
// precision, which a Python peer turns into a naive datetime in its own
// local time. Years outside 1..9999 are refused. Pyro decodes extension
// types only in results, not in call arguments (a Python server passes
// them to the method as raw msgpack.ExtType objects), so TimeExt is off by
// default, and the codec package sets it for results only: a time.Time in
// a call then goes through py.FromGo like in the other serializers.
//
// Array, map, str, bin and ext lengths are checked against the bytes that
// remain (every element takes at least one byte) and against py.Limits
// before anything is allocated, so a header announcing 2^32-1 elements
// fails at once. Trailing bytes after the value are an error. Errors are
// *py.SyntaxError (errors.Is py.ErrSyntax) or *py.LimitError (py.ErrLimit),
// except errors returned by a DictHook, which are passed on unchanged.
// DictHook is applied to every decoded map once it is complete, like
// Pyro's object_hook (protocol §3.7).
package pymsgpack
