package codec

import (
	"errors"
	"fmt"

	"github.com/pyrogo/pyro/py"
)

// Call is the logical content of an INVOKE request: Pyro's
// (objectId, method, vargs, kwargs).
type Call struct {
	Object string
	Method string
	// Args are the positional arguments (Pyro's vargs).
	Args []any
	// Kwargs are the keyword arguments, str keys only. nil is sent as
	// None, which Pyro itself uses for attribute access and batches; a
	// normal call should carry an empty dict.
	Kwargs *py.Dict
}

func (c *Call) argsOrEmpty() []any {
	if c.Args == nil {
		return []any{}
	}
	return c.Args
}

func kwargsValue(d *py.Dict) any {
	if d == nil {
		return nil
	}
	return d
}

// ErrCallShape is matched (errors.Is) by errors for a decoded INVOKE
// payload that is valid data but not a Pyro call, and by MarshalCall's
// error for a call that Pyro could not receive (a nil call, a keyword
// argument name that is not a str).
var ErrCallShape = errors.New("malformed Pyro call")

type callError struct{ msg string }

func (e *callError) Error() string        { return e.msg }
func (e *callError) Is(target error) bool { return target == ErrCallShape }

func callShapeError(format, msg string, args ...any) error {
	return &callError{msg: format + ": " + fmt.Sprintf(msg, args...)}
}

// validate reports what makes c unsendable: a Python server rejects
// keyword names that are not str, and this package's own UnmarshalCall
// would refuse them as well.
func (c *Call) validate(format string) error {
	if c == nil {
		return callShapeError(format, "nil call")
	}
	return checkKwargNames(format, c.Kwargs)
}

// checkKwargNames refuses a keyword argument name that is not a str.
func checkKwargNames(format string, kw *py.Dict) error {
	for i := 0; i < kw.Len(); i++ {
		if _, ok := kw.Key(i).(string); !ok {
			return callShapeError(format, "keyword argument name is %s, not str", typeName(kw.Key(i)))
		}
	}
	return nil
}

// buildCall checks the four parts of a decoded call.
func buildCall(format string, object, method, args, kwargs any) (*Call, error) {
	c := &Call{}
	var ok bool
	if c.Object, ok = object.(string); !ok {
		return nil, callShapeError(format, "object id is %s, not str", typeName(object))
	}
	if c.Method, ok = method.(string); !ok {
		return nil, callShapeError(format, "method name is %s, not str", typeName(method))
	}
	if c.Args, ok = sequence(args); !ok {
		return nil, callShapeError(format, "positional arguments are %s, not a tuple or list", typeName(args))
	}
	switch k := kwargs.(type) {
	case nil:
	case *py.Dict:
		if err := checkKwargNames(format, k); err != nil {
			return nil, err
		}
		c.Kwargs = k
	default:
		return nil, callShapeError(format, "keyword arguments are %s, not a dict", typeName(kwargs))
	}
	return c, nil
}

// sequence returns the items of a tuple or a list.
func sequence(v any) ([]any, bool) {
	switch s := v.(type) {
	case py.Tuple:
		return s, true
	case []any:
		return s, true
	}
	return nil, false
}

// missing stands for a json call key that is not there.
type missing struct{}

func typeName(v any) string {
	if _, ok := v.(missing); ok {
		return "missing"
	}
	return py.TypeName(v)
}
