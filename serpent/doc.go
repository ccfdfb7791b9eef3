// Package serpent reads and writes the serpent 1.41 format exactly as
// Pyro4 4.82 uses it (serializer id 1).
//
// A serpent payload is UTF-8 text: a comment line
//
//	# serpent utf-8 python3.2
//
// followed by a single Python literal expression, which Python reads back
// with ast.literal_eval. Values map to the py package's model:
//
//	Python                        serpent text                          Go (py model)
//	None / True / False           None True False                       nil, bool
//	int                           -5, 123456789012345678901234          int64, or *big.Int beyond 64 bits
//	float                         1.5 1e+22 -0.0, ±inf as ±1e30000      float64
//	float nan                     {'__class__':'float','value':'nan'}   *py.Dict (see below)
//	complex                       (1.0-2.0j)                            complex128
//	str                           Python repr: 'a\'b' "it's"           string
//	bytes                         {'data': 'AAH/', 'encoding': 'base64'} *py.Dict ([]byte when read from b'..')
//	tuple                         (1,2) (1,) ()                         py.Tuple
//	list                          [1,2]                                 []any
//	dict                          {'a':1,2:'b'}                         *py.Dict, insertion ordered
//	set, frozenset                {1,2}; an empty set is written ()     *py.Set
//	exception, class instances    {'__class__':'module.Name',...}       *py.Dict
//
// # Decoding
//
// Decoder (and Unmarshal) is a hand-written lexer and recursive-descent
// parser. It accepts what ast.literal_eval accepts: the header and any other
// comment lines, all Python number forms (hex/octal/binary prefixes,
// underscores, exponents, "1e30000" overflowing to +Inf, imaginary
// literals, "re+imj" / "re-imj" sums, one unary sign on a number, also
// around parentheses like "-(1)"), str and bytes literals with every prefix
// (r, u, b, rb, br in any case), single, double and triple quotes, all
// escapes except \N{name}, and implicit concatenation of adjacent literals;
// tuples (also a bare top-level "1, 2"), lists, dicts (duplicate keys keep
// the last value, like Python), sets and set().
//
// Deliberate differences from Python's reader:
//
//   - "\N{NAME}" escapes are refused (there is no Unicode name table here).
//   - Lone surrogates (\ud800 .. \udfff escapes) are refused: a Go string
//     must be valid UTF-8. Python serpent does write them (as escapes) for
//     Python strings that contain them.
//   - Ellipsis ("...") and f-strings are refused, as literal_eval does.
//   - "(0.0+-0.0j)" is accepted: Python serpent writes it for a complex
//     whose imaginary part is -0.0, although literal_eval refuses it.
//   - Complex sums keep the signs of zero parts as written: "-0.0+1j" is
//     complex(-0.0, 1) here, while CPython 3.11 arithmetic yields 1j.
//   - Indentation of the first expression line after the header comment is
//     tolerated (Python raises IndentationError).
//   - Tuples nested more than 32 deep inside a dict key or set member are
//     refused with a *py.LimitError ("key depth"): hashing them costs time
//     quadratic in their nesting.
//
// Every input is checked against py.Limits (nesting depth, total items,
// str/bytes length, integer digits) before the corresponding memory is
// allocated; errors are *py.SyntaxError (with a byte offset) or
// *py.LimitError, so errors.Is(err, py.ErrSyntax) and errors.Is(err,
// py.ErrLimit) work. The decoder never panics, runs in time roughly linear
// in the input (integer conversion of at most MaxIntDigits digits aside),
// and keeps its memory within a small factor of the input size. Nesting is
// capped at 100000 levels even when Limits.MaxDepth asks for no limit,
// because parsing is recursive.
//
// The serpent decoder does not interpret '__class__' dicts. In particular
// the NaN form {'__class__':'float','value':'nan'} and the base64 bytes
// dict stay *py.Dict values; Pyro's class restoration (done elsewhere, for
// example through Decoder.DictHook) turns the former into NaN, and Pyro4
// itself never turns the latter back into bytes.
//
// # Encoding
//
// Encoder (and Marshal) writes byte for byte what Python's
// serpent.dumps(v, module_in_classname=True) writes, which is what Pyro4
// sends: no spaces, dicts and sets in insertion order (Python only sorts
// when indenting, which Pyro never does), floats as Python's repr, ±inf as
// ±1e30000, NaN as the float class dict, bytes as the base64 dict printed
// by Python's own repr (with spaces: {'data': 'AAH/', 'encoding':
// 'base64'}), an empty set as (), *py.Exception and every py.ClassDicter
// as their Pyro class dict. Exceptions to byte equality, all where Python
// serpent's output would be unreadable:
//
//   - a complex with a -0.0 imaginary part is written "(re-0.0j)" instead of
//     Python serpent's "(re+-0.0j)", which ast.literal_eval rejects;
//   - a complex with a NaN part is refused (Python writes garbage);
//   - dict keys and set members that Python serpent refuses (None,
//     frozensets, class instances) or would write as an unhashable dict
//     (bytes without Encoder.BytesRepr, NaN) are refused.
//
// Strings are written as CPython 3.11's repr, including its Unicode 14
// notion of printable characters: the few code points that Unicode 15
// (Go's tables) added are escaped as Python 3.11 escapes them.
package serpent
