package pygen

import (
	"math"
	"math/big"
	"unicode"

	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// Options selects which parts of the model Value generates. The zero value
// generates everything, nested at most 3 deep with at most 4 elements per
// container.
type Options struct {
	// MaxDepth is the deepest container nesting (a list of lists has depth
	// 2). Zero means 3; a negative value means scalars only.
	MaxDepth int
	// MaxLen is the largest number of elements in one container (entries
	// in a dict). Zero means 4.
	MaxLen int

	NoBytes      bool // no bytes values (anywhere, keys included)
	NoSets       bool // no mutable sets
	NoFrozenSets bool // no frozensets (anywhere, keys included)
	NoEmptySets  bool // sets and frozensets have at least one member
	NoComplex    bool // no complex numbers
	NoBigInts    bool // every int fits in int64
	NoNaN        bool // no float NaN (NaN is never generated as a dict key or set member anyway)
	NoInf        bool // no ±Inf floats
	NoNegZero    bool // no -0.0 float
	NoTuples     bool // lists where tuples would be; no tuple dict keys
	NoNone       bool // no None values
	StringKeys   bool // every dict key is a str (as json requires)
	ASCII        bool // strings hold printable ASCII only (0x20..0x7e)
	NoNonBMP     bool // no code points above U+FFFF in strings
	// NoUnprintable keeps strings to code points Python's str.isprintable
	// accepts (py.IsPrintable), so repr() writes them unescaped.
	NoUnprintable bool
	// Exceptions adds *py.Exception values (with str/int/float/None args
	// and sometimes a _pyroTraceback attribute) to the mix.
	Exceptions bool
}

func (o Options) depth() int {
	switch {
	case o.MaxDepth == 0:
		return 3
	case o.MaxDepth < 0:
		return 0
	}
	return o.MaxDepth
}

func (o Options) maxLen() int {
	if o.MaxLen <= 0 {
		return 4
	}
	return o.MaxLen
}

// Value returns a generator of model values obeying opts.
func Value(opts Options) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		return value(t, &opts, opts.depth())
	})
}

// Scalar returns a generator of non-container model values (None, bool,
// int, float, complex, str, bytes) obeying opts.
func Scalar(opts Options) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		return scalar(t, &opts)
	})
}

// Key returns a generator of hashable model values that may be dict keys
// under opts (only str when StringKeys is set). It never generates NaN.
func Key(opts Options) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		return key(t, &opts, opts.depth(), opts.StringKeys)
	})
}

// String returns a generator of str values obeying the string options
// (ASCII, NoNonBMP, NoUnprintable).
func String(opts Options) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		return str(t, &opts)
	})
}

const (
	kNone = iota
	kBool
	kInt
	kBigInt
	kFloat
	kComplex
	kStr
	kBytes
	kTuple
	kList
	kDict
	kSet
	kFrozenSet
	kException
)

func (o *Options) allowed(k int) bool {
	switch k {
	case kNone:
		return !o.NoNone
	case kBigInt:
		return !o.NoBigInts
	case kComplex:
		return !o.NoComplex
	case kBytes:
		return !o.NoBytes
	case kTuple:
		return !o.NoTuples
	case kSet:
		return !o.NoSets
	case kFrozenSet:
		return !o.NoFrozenSets
	case kException:
		return o.Exceptions
	}
	return true
}

var scalarKinds = []int{kNone, kBool, kInt, kBigInt, kFloat, kComplex, kStr, kBytes}
var containerKinds = []int{kTuple, kList, kDict, kSet, kFrozenSet, kException}

func kinds(o *Options, list []int) []int {
	out := make([]int, 0, len(list))
	for _, k := range list {
		if o.allowed(k) {
			out = append(out, k)
		}
	}
	return out
}

func value(t *rapid.T, o *Options, depth int) any {
	if depth <= 0 || rapid.IntRange(0, 2).Draw(t, "scalar?") == 0 {
		return scalar(t, o)
	}
	ks := kinds(o, containerKinds)
	n := o.maxLen()
	switch ks[rapid.IntRange(0, len(ks)-1).Draw(t, "container")] {
	case kTuple:
		return py.Tuple(elems(t, o, depth-1, n))
	case kList:
		return elems(t, o, depth-1, n)
	case kDict:
		return dict(t, o, depth, n)
	case kSet:
		return set(t, o, depth, n, false)
	case kFrozenSet:
		return set(t, o, depth, n, true)
	default:
		return exception(t, o)
	}
}

func elems(t *rapid.T, o *Options, depth, n int) []any {
	l := rapid.IntRange(0, n).Draw(t, "len")
	out := make([]any, l)
	for i := range out {
		out[i] = value(t, o, depth)
	}
	return out
}

func dict(t *rapid.T, o *Options, depth, n int) *py.Dict {
	l := rapid.IntRange(0, n).Draw(t, "len")
	d := py.NewDict(l)
	for range l {
		k := key(t, o, depth-1, o.StringKeys)
		if k == "__class__" {
			continue
		}
		if err := d.Set(k, value(t, o, depth-1)); err != nil {
			panic("pygen: unhashable key generated: " + err.Error())
		}
	}
	return d
}

func set(t *rapid.T, o *Options, depth, n int, frozen bool) *py.Set {
	min := 0
	if o.NoEmptySets {
		min = 1
	}
	l := rapid.IntRange(min, max(n, min)).Draw(t, "len")
	s := py.NewSet(l, frozen)
	for range l {
		if err := s.Add(key(t, o, depth-1, false)); err != nil {
			panic("pygen: unhashable member generated: " + err.Error())
		}
	}
	return s
}

var exceptionClasses = []string{
	"builtins.ValueError", "builtins.TypeError", "builtins.KeyError",
	"builtins.ZeroDivisionError", "Pyro4.errors.NamingError",
	"Pyro4.errors.CommunicationError",
}

func exception(t *rapid.T, o *Options) *py.Exception {
	e := &py.Exception{Class: rapid.SampledFrom(exceptionClasses).Draw(t, "class")}
	l := rapid.IntRange(0, 2).Draw(t, "nargs")
	e.Args = make(py.Tuple, l)
	for i := range e.Args {
		switch rapid.IntRange(0, 3).Draw(t, "arg") {
		case 0:
			e.Args[i] = str(t, o)
		case 1:
			e.Args[i] = rapid.Int64().Draw(t, "int")
		case 2:
			e.Args[i] = float(t, o, false)
		default:
			if o.NoNone {
				e.Args[i] = str(t, o)
			}
		}
	}
	e.Attributes = py.NewDict(1)
	if rapid.Bool().Draw(t, "traceback?") {
		e.Attributes.SetString("_pyroTraceback", []any{"Traceback (most recent call last):\n", str(t, o) + "\n"})
	}
	return e
}

func scalar(t *rapid.T, o *Options) any {
	ks := kinds(o, scalarKinds)
	switch ks[rapid.IntRange(0, len(ks)-1).Draw(t, "scalar")] {
	case kNone:
		return nil
	case kBool:
		return rapid.Bool().Draw(t, "bool")
	case kInt:
		return integer(t)
	case kBigInt:
		return bigInt(t)
	case kFloat:
		return float(t, o, false)
	case kComplex:
		return complex(float(t, o, false), float(t, o, false))
	case kStr:
		return str(t, o)
	default:
		return rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, "bytes")
	}
}

// key draws a hashable value; nested frozensets and tuples use depth.
func key(t *rapid.T, o *Options, depth int, stringOnly bool) any {
	if stringOnly {
		return str(t, o)
	}
	const (
		kkStr = iota
		kkInt
		kkBig
		kkFloat
		kkBool
		kkNone
		kkBytes
		kkComplex
		kkTuple
		kkFrozen
	)
	ks := []int{kkStr, kkInt, kkFloat, kkBool}
	if !o.NoNone {
		ks = append(ks, kkNone)
	}
	if !o.NoBigInts {
		ks = append(ks, kkBig)
	}
	if !o.NoBytes {
		ks = append(ks, kkBytes)
	}
	if !o.NoComplex {
		ks = append(ks, kkComplex)
	}
	if depth > 0 && !o.NoTuples {
		ks = append(ks, kkTuple)
	}
	if depth > 0 && !o.NoFrozenSets {
		ks = append(ks, kkFrozen)
	}
	switch ks[rapid.IntRange(0, len(ks)-1).Draw(t, "key")] {
	case kkStr:
		return str(t, o)
	case kkInt:
		return integer(t)
	case kkBig:
		return bigInt(t)
	case kkFloat:
		return float(t, o, true)
	case kkBool:
		return rapid.Bool().Draw(t, "bool")
	case kkNone:
		return nil
	case kkBytes:
		return rapid.SliceOfN(rapid.Byte(), 0, 6).Draw(t, "bytes")
	case kkComplex:
		return complex(float(t, o, true), float(t, o, true))
	case kkTuple:
		l := rapid.IntRange(0, min(o.maxLen(), 3)).Draw(t, "len")
		tu := make(py.Tuple, l)
		for i := range tu {
			tu[i] = key(t, o, depth-1, false)
		}
		return tu
	default:
		min := 0
		if o.NoEmptySets {
			min = 1
		}
		l := rapid.IntRange(min, max(min, 3)).Draw(t, "len")
		s := py.NewSet(l, true)
		for range l {
			_ = s.Add(key(t, o, depth-1, false))
		}
		return s
	}
}

var intEdges = []int64{0, 1, -1, 127, 128, 255, 256, -128, -129, 32767, -32768, 65535,
	math.MaxInt32, math.MinInt32, math.MaxUint32, math.MaxInt64, math.MinInt64,
	1 << 53, (1 << 53) + 1, -(1 << 53) - 1}

func integer(t *rapid.T) int64 {
	switch rapid.IntRange(0, 2).Draw(t, "intkind") {
	case 0:
		return rapid.Int64Range(-1000, 1000).Draw(t, "int")
	case 1:
		return rapid.SampledFrom(intEdges).Draw(t, "int")
	}
	return rapid.Int64().Draw(t, "int")
}

// bigInt draws an integer outside the int64 range.
func bigInt(t *rapid.T) *big.Int {
	mag := rapid.SliceOfN(rapid.Byte(), 8, 24).Draw(t, "bigmag")
	b := new(big.Int).SetBytes(mag)
	b.Add(b, new(big.Int).Lsh(big.NewInt(1), 63)) // |b| >= 2^63
	if rapid.Bool().Draw(t, "neg") {
		b.Neg(b)
		if b.IsInt64() { // exactly -2^63
			b.Sub(b, big.NewInt(1))
		}
	}
	return b
}

var floatEdges = []float64{0, 1, -1, 0.5, 1.5, 0.1, 1e16, 1e15, 1e-4, 1e-5, 1e22, 1e-7,
	1.2345678901234568e+17, 123456789.125, 5e-324, math.MaxFloat64, -math.MaxFloat64,
	math.SmallestNonzeroFloat64, 9007199254740993, 1 << 63, -(1 << 63), 3.0, 100.0}

// float draws a float64; asKey excludes NaN.
func float(t *rapid.T, o *Options, asKey bool) float64 {
	var f float64
	switch rapid.IntRange(0, 3).Draw(t, "floatkind") {
	case 0:
		f = rapid.SampledFrom(floatEdges).Draw(t, "float")
	case 1:
		f = float64(rapid.IntRange(-1000, 1000).Draw(t, "float")) / 8
	case 2:
		specials := []float64{math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN()}
		f = rapid.SampledFrom(specials).Draw(t, "float")
	default:
		f = rapid.Float64().Draw(t, "float")
	}
	switch {
	case math.IsNaN(f) && (o.NoNaN || asKey):
		return 0.25
	case math.IsInf(f, 0) && o.NoInf:
		return math.Copysign(math.MaxFloat64, f)
	case f == 0 && math.Signbit(f) && o.NoNegZero:
		return 0
	}
	return f
}

var safeRunes = []rune{'a', 'Z', '0', ' ', '_', 'é', 'ß', '€', '中', 'я', '~', '\'', '"', '\\'}

func str(t *rapid.T, o *Options) string {
	rg := rapid.Rune()
	if o.ASCII {
		rg = rapid.RuneFrom(nil, &asciiPrintable)
	}
	l := rapid.IntRange(0, 10).Draw(t, "strlen")
	rs := make([]rune, l)
	for i := range rs {
		r := rg.Draw(t, "rune")
		if (o.NoNonBMP && r > 0xffff) || (o.NoUnprintable && !py.IsPrintable(r)) {
			r = rapid.SampledFrom(safeRunes).Draw(t, "safe rune")
		}
		rs[i] = r
	}
	return string(rs)
}

var asciiPrintable = unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x20, Hi: 0x7e, Stride: 1}}, LatinOffset: 1}
