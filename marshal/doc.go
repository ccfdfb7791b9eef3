// Package marshal reads and writes CPython's marshal format, version 4, the
// way Pyro4 4.82 uses it (serializer id 3).
//
// Decoding turns marshal bytes into the value model of package py:
//
//	code          Python              Go
//	N F T         None False True     nil false true
//	i I l         int                 int64, or *big.Int beyond 64 bits
//	g f           float               float64 (f = old text form)
//	y x           complex             complex128 (x = old text form)
//	s             bytes               []byte (a copy; never aliases the input)
//	u t a A z Z   str                 string (valid UTF-8)
//	( ) [         tuple, list         py.Tuple, []any
//	{             dict                *py.Dict (or what Decoder.DictHook returns)
//	< >           set, frozenset      *py.Set (Frozen set for '>')
//	S .           StopIteration, ...  StopIteration, Ellipsis (this package)
//	r             back-reference      the referenced value (shared)
//
// Code objects ('c') and every other type code are refused with a
// *py.SyntaxError naming the code byte and its offset.
//
// # References
//
// CPython sets FLAG_REF (0x80) on the type byte of objects whose reference
// count is above one, and writes later occurrences of the same object as
// 'r' plus an index. The decoder numbers flagged objects in the order they
// start, exactly as CPython does (a container's slot is reserved before its
// elements are read), and an 'r' yields the same Go value, so referenced
// containers are shared, not copied. A reference to a container that is
// still being decoded would create a cycle; CPython builds such cyclic
// lists and tuples, but the model cannot be cyclic, so it is refused.
//
// Because references share values, a small input could describe a huge
// tree ("billion laughs": a list holding ten references to a list holding
// ten references to ...). The decoder therefore charges every reference
// with the full expanded cost of what it refers to, so that the limits
// bound the value as any later walk (an encoder, py.Same, a conversion)
// sees it, not just the input:
//   - container elements, nested ones and those reached through nested
//     references included, count against Limits.MaxItems;
//   - the bytes of str and bytes values reached through references count
//     against Limits.MaxStringLen in total (on top of the per-value bound);
//   - the decimal digits of big ints reached through references count
//     against 1000 × Limits.MaxIntDigits in total, because converting a
//     big int to decimal (every text encoder does) is slower than linear;
//   - a referenced container's nesting adds to the depth where the
//     reference appears (Limits.MaxDepth).
//
// Dict keys and set members that are tuples or frozensets are charged as
// well: py hashes them by building a canonical text of the whole key on
// every insertion, copying each element's text once per enclosing level,
// so a key costs its size times its height. That work counts against
// MaxItems, MaxStringLen and the big-int digit budget in separate totals,
// so ordinary payloads never notice it while nested-frozenset bombs stop
// early. With the default limits the worst input stops within a few
// tenths of a second of CPU.
//
// # Differences from CPython's marshal.loads
//
// The decoder is stricter than CPython, always with a clear error:
//   - trailing bytes after the value are refused (CPython ignores them);
//   - a lone surrogate in a 'u'/'t' string (which CPython writes and reads
//     with the surrogatepass error handler) is refused, since a Go string
//     in the model is valid UTF-8;
//   - a non-ASCII byte in an 'a'/'A'/'z'/'Z' string is refused (CPython
//     decodes it as Latin-1);
//   - a dict whose terminating '0' comes right after a key is refused
//     (CPython silently drops that key);
//   - cyclic references are refused (see above);
//   - dict keys and set members must be hashable in the model's sense; a
//     StopIteration or Ellipsis key is therefore refused as well.
//
// # Encoding
//
// The encoder writes version 4 data that Python's marshal.loads reads, and
// never sets FLAG_REF, so repeated values are written out in full: a small
// decoded value with many references to one large value can be huge when
// written again, which Encoder.AppendLimit bounds. For
// values without repetitions the bytes equal CPython's marshal.dumps output
// once CPython's FLAG_REF bits are cleared and its interned string codes
// (t, A, Z) are mapped to their plain forms (u, a, z): ints in the int32
// range use 'i', other ints 'l'; strs use 'z' (ASCII, shorter than 256
// bytes), 'a' (longer ASCII) or 'u' (anything else); tuples shorter than
// 256 use ')'. Set members are written in insertion order, whereas CPython
// 3.11 sorts them by their own marshal bytes.
//
// *py.Exception and every py.ClassDicter are written as the dict their
// PyroClassDict method returns; any other value outside the model goes
// through py.FromGo first and fails with a *py.UnsupportedError when that
// does not yield a model value.
//
// Pyro's marshal call payload is the 4-tuple (objectId, method, vargs,
// kwargs) in which vargs is a list, not a tuple.
package marshal
