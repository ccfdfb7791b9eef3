package py

import (
	"fmt"
	"math/big"
)

// Tuple is a Python tuple. A Python list is a plain []any.
type Tuple []any

// ClassDicter is implemented by Go values that Pyro serializes as a dict
// with a '__class__' key (URIs, proxies, exceptions). Every encoder in
// pyrogo writes the returned dict in place of the value.
type ClassDicter interface {
	PyroClassDict() *Dict
}

// ClassDictFunc writes a Pyro class value (a ClassDicter, *Exception
// among them) as the dict a peer of one protocol expects. Every encoder
// in pyrogo has a ClassDict field of this type; when it is nil the
// encoder writes PyroClassDict() (Pyro4's forms), otherwise it writes
// what the function returns. Package codec sets it for Pyro5, whose
// class names and proxy state differ.
type ClassDictFunc func(ClassDicter) *Dict

// Dict returns f(v), or v.PyroClassDict() when f is nil.
func (f ClassDictFunc) Dict(v ClassDicter) *Dict {
	if f == nil {
		return v.PyroClassDict()
	}
	return f(v)
}

// TypeName returns the Python type name of a model value, as Python's
// type(v).__name__ would print it ("int", "str", "NoneType", ...). Values
// outside the model are described by their Go type.
func TypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case complex128:
		return "complex"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case Tuple:
		return "tuple"
	case []any:
		return "list"
	case *Dict:
		return "dict"
	case *Set:
		if v != nil && v.Frozen {
			return "frozenset"
		}
		return "set"
	case *Exception:
		return "exception"
	default:
		return fmt.Sprintf("Go %T", v)
	}
}

// NormalizeInt returns b as an int64 when it fits, otherwise b itself.
// Decoders call it so that small integers are always int64.
func NormalizeInt(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}
