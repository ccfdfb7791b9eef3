package serpent

import (
	"math"

	"github.com/pyrogo/pyro/py"
)

// Shorthands for model values in test tables.

func tup(items ...any) py.Tuple { return py.Tuple(items) }

func list(items ...any) []any {
	if items == nil {
		return []any{}
	}
	return items
}

func dict(kv ...any) *py.Dict { return py.DictOf(kv...) }

func set(items ...any) *py.Set { return py.SetOf(items...) }

func frozen(items ...any) *py.Set {
	s := py.SetOf(items...)
	s.Frozen = true
	return s
}

var (
	inf    = math.Inf(1)
	negInf = math.Inf(-1)
	negZ   = math.Copysign(0, -1)
	nan    = math.NaN()
)

// nestedEmpty returns n nested lists with an empty innermost list.
func nestedEmpty(n int) any {
	var v any = []any{}
	for i := 1; i < n; i++ {
		v = []any{v}
	}
	return v
}

// emptySetsAsTuples replaces empty sets by empty tuples, as a serpent
// round trip does.
func emptySetsAsTuples(v any) any {
	switch x := v.(type) {
	case *py.Set:
		if x.Len() == 0 {
			return py.Tuple{}
		}
		s := py.NewSet(x.Len(), x.Frozen)
		for _, it := range x.Items() {
			s.Add(emptySetsAsTuples(it))
		}
		return s
	case py.Tuple:
		out := make(py.Tuple, len(x))
		for i, it := range x {
			out[i] = emptySetsAsTuples(it)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = emptySetsAsTuples(it)
		}
		return out
	case *py.Dict:
		d := py.NewDict(x.Len())
		for k, val := range x.All() {
			d.Set(emptySetsAsTuples(k), emptySetsAsTuples(val))
		}
		return d
	}
	return v
}
