package marshal

import "github.com/pyrogo/pyro/py"

// Singleton is one of the two Python singletons that marshal can carry but
// the py model has no type for: StopIteration (the exception class itself,
// type code 'S') and Ellipsis (type code '.'). Compare with ==:
//
//	if v == marshal.Ellipsis { ... }
//
// The zero Singleton is neither and cannot be encoded.
//
// A Singleton is a py.ClassDicter so that py.Same and py.Repr handle it and
// other encoders can write it; its dict form names the Python class
// ({'__class__': 'builtins.ellipsis'} or 'builtins.StopIteration'), which
// a Python peer cannot turn back into the singleton. Only this package
// writes the real thing.
type Singleton struct {
	code byte
}

// The singleton values the decoder returns for type codes 'S' and '.'.
var (
	// StopIteration is Python's StopIteration exception class ('S').
	StopIteration = Singleton{code: typeStopIter}
	// Ellipsis is Python's Ellipsis, written ... in Python code ('.').
	Ellipsis = Singleton{code: typeEllipsis}
)

// String returns the Python name: "StopIteration", "Ellipsis" (or
// "Singleton(invalid)" for the zero value).
func (s Singleton) String() string {
	switch s.code {
	case typeStopIter:
		return "StopIteration"
	case typeEllipsis:
		return "Ellipsis"
	}
	return "Singleton(invalid)"
}

// PyroClassDict returns {'__class__': 'builtins.StopIteration'} or
// {'__class__': 'builtins.ellipsis'}: the class-dict form other pyrogo
// encoders write for the value.
func (s Singleton) PyroClassDict() *py.Dict {
	d := py.NewDict(1)
	switch s.code {
	case typeStopIter:
		d.SetString("__class__", "builtins.StopIteration")
	case typeEllipsis:
		d.SetString("__class__", "builtins.ellipsis")
	default:
		d.SetString("__class__", "marshal.Singleton")
	}
	return d
}
