package codec_test

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/py"
)

// randomPerFormat is how many generated values TestGoToPython sends to
// Pyro4 per serializer, on top of the fixed corpus.
const randomPerFormat = 150

// pythonOptions are the pygen settings for values a Python Pyro4 peer can
// read in each format. They differ from formatOptions (Go to Go) where
// Pyro4 is more limited: msgpack 1.0 only reads str (and bytes) map keys.
var pythonOptions = map[string]pygen.Options{
	"serpent": {NoBytes: true, NoFrozenSets: true, Exceptions: true},
	"json":    {NoBytes: true, NoSets: true, NoFrozenSets: true, NoComplex: true, NoTuples: true, StringKeys: true, Exceptions: true},
	"marshal": {Exceptions: true},
	"msgpack": {NoSets: true, NoFrozenSets: true, NoTuples: true, StringKeys: true, Exceptions: true},
}

// randomValues returns n deterministic pseudo-random values for ser that
// the Go encoder accepts.
func randomValues(ser string, n int) []any {
	gen := pygen.Value(pythonOptions[ser])
	out := make([]any, 0, n)
	for seed := 0; len(out) < n; seed++ {
		v := gen.Example(seed)
		if ser == "serpent" && serpentRefuses(v) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// pythonView is the value a Python peer gets for v sent with ser: degrade,
// and for serpent the complex arithmetic Python does when it evaluates
// "(re+imj)" / "(re-imj)": re + 0.0 and 0.0 - |im| lose the sign of a
// zero part.
func pythonView(ser string, v any) any {
	v = degrade(ser, v)
	if ser != "serpent" {
		return v
	}
	return fixComplex(v)
}

func fixComplex(v any) any {
	switch x := v.(type) {
	case complex128:
		re, im := real(x), imag(x)
		if math.Signbit(im) {
			// "(re-|im|j)": re - 0.0 keeps re's sign, 0.0 - 0.0 is +0.0.
			if im == 0 {
				im = 0
			}
		} else if re == 0 {
			re = 0 // "(re+imj)": -0.0 + 0.0 is +0.0
		}
		return complex(re, im)
	case py.Tuple:
		out := make(py.Tuple, len(x))
		for i, e := range x {
			out[i] = fixComplex(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fixComplex(e)
		}
		return out
	case *py.Dict:
		d := py.NewDict(x.Len())
		for k, e := range x.All() {
			_ = d.Set(fixComplex(k), fixComplex(e))
		}
		return d
	case *py.Set:
		s := py.NewSet(x.Len(), x.Frozen)
		for _, e := range x.Items() {
			_ = s.Add(fixComplex(e))
		}
		return s
	case *py.Exception:
		e := &py.Exception{Class: x.Class, Args: fixComplex(x.Args).(py.Tuple)}
		if x.Attributes != nil {
			e.Attributes = fixComplex(x.Attributes).(*py.Dict)
		}
		return e
	}
	return v
}

// pythonHolds is the value the Python peer ends up with: pythonView, and
// for serpent NaN inside an exception stays the float class dict, because
// Pyro4 restores classes in an exception's args and attributes only for
// the exception itself, not within them (Pyro4's make_exception).
func pythonHolds(ser string, v any) any {
	v = pythonView(ser, v)
	if ser != "serpent" {
		return v
	}
	return mapExceptionContents(v, false)
}

func mapExceptionContents(v any, inside bool) any {
	switch x := v.(type) {
	case float64:
		if inside && math.IsNaN(x) {
			return py.DictOf("__class__", "float", "value", "nan")
		}
	case py.Tuple:
		out := make(py.Tuple, len(x))
		for i, e := range x {
			out[i] = mapExceptionContents(e, inside)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mapExceptionContents(e, inside)
		}
		return out
	case *py.Dict:
		d := py.NewDict(x.Len())
		for k, e := range x.All() {
			_ = d.Set(k, mapExceptionContents(e, inside))
		}
		return d
	case *py.Exception:
		e := &py.Exception{Class: x.Class, Args: mapExceptionContents(x.Args, true).(py.Tuple)}
		if x.Attributes != nil {
			e.Attributes = mapExceptionContents(x.Attributes, true).(*py.Dict)
		}
		return e
	}
	return v
}

// pyExpr writes v as a Python expression that evaluates to exactly that
// value (with the names pyro_interop.py provides: nan, inf, exc, errors).
func pyExpr(v any) string {
	var b strings.Builder
	writePyExpr(&b, v)
	return b.String()
}

func writePyExpr(b *strings.Builder, v any) {
	seq := func(open, close string, items []any, trailingComma bool) {
		b.WriteString(open)
		for i, it := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			writePyExpr(b, it)
		}
		if trailingComma && len(items) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(close)
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString("(" + strconv.FormatInt(x, 10) + ")")
	case *big.Int:
		b.WriteString("(" + x.String() + ")")
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("nan")
		case math.IsInf(x, 1):
			b.WriteString("inf")
		case math.IsInf(x, -1):
			b.WriteString("(-inf)")
		default:
			b.WriteString("(" + py.FormatFloat(x) + ")")
		}
	case complex128:
		b.WriteString("complex(")
		writePyExpr(b, real(x))
		b.WriteByte(',')
		writePyExpr(b, imag(x))
		b.WriteByte(')')
	case string:
		b.WriteString(pyStr(x))
	case []byte:
		b.WriteString(pyBytes(x))
	case py.Tuple:
		seq("(", ")", x, true)
	case []any:
		seq("[", "]", x, false)
	case *py.Dict:
		b.WriteByte('{')
		for i := range x.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			writePyExpr(b, x.Key(i))
			b.WriteByte(':')
			writePyExpr(b, x.Value(i))
		}
		b.WriteByte('}')
	case *py.Set:
		switch {
		case x.Len() == 0 && x.Frozen:
			b.WriteString("frozenset()")
		case x.Len() == 0:
			b.WriteString("set()")
		case x.Frozen:
			seq("frozenset({", "})", x.Items(), false)
		default:
			seq("{", "}", x.Items(), false)
		}
	case *py.Exception:
		cls := x.Class
		if rest, ok := strings.CutPrefix(cls, "Pyro4.errors."); ok {
			cls = "errors." + rest
		} else {
			cls = strings.TrimPrefix(cls, "builtins.")
		}
		b.WriteString("exc(" + cls + ",*")
		writePyExpr(b, x.Args)
		if x.Attributes != nil {
			b.WriteString(",**")
			writePyExpr(b, x.Attributes)
		}
		b.WriteByte(')')
	default:
		panic("pyExpr: unsupported " + py.TypeName(v))
	}
}
