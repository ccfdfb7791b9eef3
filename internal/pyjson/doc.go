// Package pyjson implements Pyro4's json serializer (serializer id 2) at the
// value level: it turns model values (package py) into the exact bytes
// Python's json.dumps writes with Pyro's settings, and parses such bytes
// back into model values.
//
// # Encoding
//
// Encoder.Append writes what Pyro4 4.82's JsonSerializer.dumps writes,
// i.e. json.dumps(value, ensure_ascii=False) encoded as UTF-8:
//
//   - separators ", " and ": ", dict keys in insertion order;
//   - non-ASCII text written raw (UTF-8); only '"', '\\' and the control
//     characters below U+0020 are escaped ("\b", "\f", "\n", "\r", "\t",
//     others as "\u00xx" with lowercase hex); U+007F and U+2028 are raw;
//   - ints of any size as decimal digits; floats as Python's repr
//     (py.FormatFloat: "1.0", "1e+22", "-0.0"); NaN and ±inf as the bare
//     tokens NaN, Infinity and -Infinity (not strict JSON; Python reads
//     them back);
//   - py.Tuple, []any and *py.Set → array (Pyro turns sets into tuples);
//   - *py.Dict → object; keys that are not str are converted like Python
//     does: int → "1", float → its repr ("1.5", "NaN", "Infinity"),
//     True/False → "true"/"false", None → "null". Any other key type
//     (tuple, bytes, frozenset, complex) fails like Python's TypeError
//     "keys must be str, int, float, bool or None, not tuple";
//   - *py.Exception and every py.ClassDicter → their PyroClassDict();
//   - bytes, frozenset and complex are not representable: the error is a
//     *py.UnsupportedError whose Reason is Pyro's own SerializeError text
//     ("don't know how to serialize class <class 'bytes'> using serializer
//     JsonSerializer. Give it vars() or an appropriate __getstate__");
//   - a nil *big.Int, *py.Exception or other nil-pointer ClassDicter is
//     written as null; a nil *py.Dict or *py.Set as an empty container;
//   - plain Go integers (int, uint8, ...) are written directly; every other
//     value outside the model goes through py.FromGo first (time.Time thus
//     becomes an ISO 8601 string, as Pyro writes datetimes);
//   - strings must be valid UTF-8; nesting deeper than Encoder.MaxDepth
//     (a self-referencing value, say) is refused.
//
// # Decoding
//
// Decoder.Decode is a hand-written parser over the byte slice (the
// standard library's encoding/json can neither read NaN tokens nor keep
// object order nor big integers exactly). It follows Python's json.loads:
//
//   - objects → *py.Dict in document order; a repeated key keeps its first
//     position and takes the last value, as a Python dict does;
//   - arrays → []any (json has no tuples or sets);
//   - a number with a fraction or exponent is a float64 (1e400 → +Inf like
//     Python's float()), otherwise an int: int64, or *big.Int beyond 64 bits
//     ("-0" is the int 0);
//   - NaN, Infinity and -Infinity tokens are accepted;
//   - strings support every JSON escape including surrogate pairs. Python
//     accepts a lone surrogate escape ("\ud800") into a str, but such a
//     string has no UTF-8 form (Pyro itself could not send it back), so it
//     is refused with a *py.SyntaxError;
//   - the input must be strict UTF-8; a UTF-8 byte order mark, control
//     characters inside strings, trailing commas, leading zeros and
//     trailing data are errors, as in Python.
//
// py.Limits bounds depth, total container items, string length and integer
// digits; every limit is checked before the corresponding allocation.
// Errors are *py.SyntaxError (errors.Is py.ErrSyntax) or *py.LimitError
// (py.ErrLimit), except errors returned by a DictHook, which are passed on
// unchanged. The parser never panics and runs in time linear in the input
// (big integers are bounded by MaxIntDigits).
//
// DictHook, when set, is called on every decoded object once it is
// complete and its result replaces the object; the protocol layer uses it
// to restore Pyro's class dicts (exceptions, URIs), see protocol §3.7.
package pyjson
