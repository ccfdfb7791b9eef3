package py

import (
	"fmt"
	"strings"
)

// Exception is a Python exception as Pyro serializes it:
//
//	{'__class__': 'builtins.ValueError', '__exception__': True,
//	 'args': ('bad value', 12), 'attributes': {'_pyroTraceback': [...]}}
//
// Class is the module-qualified class name ("builtins.ValueError",
// "Pyro4.errors.NamingError"). Attributes holds the instance attributes,
// including the remote traceback under "_pyroTraceback"; it may be nil.
type Exception struct {
	Class      string
	Args       Tuple
	Attributes *Dict
}

// ShortClass returns the class name without its module ("ValueError").
func (e *Exception) ShortClass() string {
	if i := strings.LastIndexByte(e.Class, '.'); i >= 0 {
		return e.Class[i+1:]
	}
	return e.Class
}

// Message returns str(exception) as Python prints it: the single argument
// when there is one, otherwise the tuple of arguments.
func (e *Exception) Message() string {
	switch len(e.Args) {
	case 0:
		return ""
	case 1:
		if s, ok := e.Args[0].(string); ok {
			return s
		}
		return Repr(e.Args[0])
	}
	return Repr(e.Args)
}

// Error returns "Class: message", e.g. "ValueError: bad value".
func (e *Exception) Error() string {
	m := e.Message()
	if m == "" {
		return e.ShortClass()
	}
	return e.ShortClass() + ": " + m
}

// Traceback returns the remote traceback lines (each ending in "\n"), or nil.
func (e *Exception) Traceback() []string {
	v, ok := e.Attributes.GetString("_pyroTraceback")
	if !ok {
		return nil
	}
	lines, ok := v.([]any)
	if !ok {
		if t, isTuple := v.(Tuple); isTuple {
			lines = t
		}
	}
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if s, ok := l.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// PyroClassDict returns the exception in Pyro's dict form.
func (e *Exception) PyroClassDict() *Dict {
	d := NewDict(4)
	d.SetString("__class__", e.Class)
	d.SetString("__exception__", true)
	args := e.Args
	if args == nil {
		args = Tuple{}
	}
	d.SetString("args", args)
	attrs := e.Attributes
	if attrs == nil {
		attrs = NewDict(0)
	}
	d.SetString("attributes", attrs)
	return d
}

// ExceptionFromDict recognises Pyro's exception dict form (a '__class__'
// str and a true '__exception__'). It returns false for any other dict.
func ExceptionFromDict(d *Dict) (*Exception, bool) {
	cls, ok := d.GetString("__class__")
	if !ok {
		return nil, false
	}
	name, ok := cls.(string)
	if !ok {
		return nil, false
	}
	flag, _ := d.GetString("__exception__")
	if b, _ := flag.(bool); !b {
		return nil, false
	}
	e := &Exception{Class: name}
	switch a := dictGet(d, "args").(type) {
	case Tuple:
		e.Args = a
	case []any:
		e.Args = Tuple(a)
	case nil:
	default:
		e.Args = Tuple{a}
	}
	if attrs, ok := dictGet(d, "attributes").(*Dict); ok {
		e.Attributes = attrs
	}
	return e, true
}

func dictGet(d *Dict, k string) any {
	v, _ := d.GetString(k)
	return v
}

// NewException builds an exception of the given class with the given
// message as its single argument and an optional traceback.
func NewException(class, msg string, traceback []string) *Exception {
	e := &Exception{Class: class, Args: Tuple{msg}, Attributes: NewDict(1)}
	if traceback != nil {
		tb := make([]any, len(traceback))
		for i, l := range traceback {
			tb[i] = l
		}
		e.Attributes.SetString("_pyroTraceback", tb)
	}
	return e
}

// GoString makes %#v readable in test failures.
func (e *Exception) GoString() string {
	return fmt.Sprintf("&py.Exception{Class:%q, Args:%s}", e.Class, Repr(e.Args))
}
