// Package pygen generates random values of pyrogo's Python value model (see
// package py) for property tests with pgregory.net/rapid.
//
// The zero Options generate the whole model: None, bool, int64 and
// *big.Int, float64 (NaN, ±Inf and -0.0 included), complex128, str (any
// valid UTF-8), bytes, py.Tuple, []any lists, *py.Dict with keys of every
// hashable type, and *py.Set (sets and frozensets). Options switch off what
// a wire format cannot carry. Typical settings (check them against the
// format you test; they describe Pyro4's Python behaviour):
//
//	json:    NoBytes, NoSets, NoFrozenSets, NoComplex, NoTuples, StringKeys
//	msgpack: NoSets, NoFrozenSets, NoTuples (tuple/set → list)
//	serpent: NoBytes (bytes travel as a base64 dict), NoFrozenSets and
//	         NoEmptySets (frozenset → set, empty set → ())
//	marshal: the zero Options
//
// Generated values are well-formed model values: ints that fit in int64
// are int64 (never a small *big.Int), strings are valid UTF-8, dict keys
// and set members are hashable, and no dict has a "__class__" key (Python
// would try to restore such a dict as an object, see protocol §3.7). Compare
// round-tripped values with py.Same, which treats NaN as equal to NaN and
// ignores dict and set order.
package pygen
