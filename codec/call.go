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
	for i := 0; i < c.Kwargs.Len(); i++ {
		if _, ok := c.Kwargs.Key(i).(string); !ok {
			return callShapeError(format, "keyword argument name is %s, not str", typeName(c.Kwargs.Key(i)))
		}
	}
	return nil
}

type missing struct{}

// callFromSequence accepts the 4-item tuple/list forms of serpent,
// marshal and msgpack.
func callFromSequence(format string, v any) (*Call, error) {
	var items []any
	switch s := v.(type) {
	case py.Tuple:
		items = s
	case []any:
		items = s
	default:
		return nil, callShapeError(format, "the call is %s, not a 4-tuple", py.TypeName(v))
	}
	if len(items) != 4 {
		return nil, callShapeError(format, "the call has %d items, not 4", len(items))
	}
	return buildCall(format, items[0], items[1], items[2], items[3])
}

func buildCall(format string, object, method, args, kwargs any) (*Call, error) {
	c := &Call{}
	var ok bool
	if c.Object, ok = object.(string); !ok {
		return nil, callShapeError(format, "object id is %s, not str", typeName(object))
	}
	if c.Method, ok = method.(string); !ok {
		return nil, callShapeError(format, "method name is %s, not str", typeName(method))
	}
	switch a := args.(type) {
	case py.Tuple:
		c.Args = a
	case []any:
		c.Args = a
	default:
		return nil, callShapeError(format, "positional arguments are %s, not a tuple or list", typeName(args))
	}
	switch k := kwargs.(type) {
	case nil:
	case *py.Dict:
		for i := 0; i < k.Len(); i++ {
			if _, ok := k.Key(i).(string); !ok {
				return nil, callShapeError(format, "keyword argument name is %s, not str", typeName(k.Key(i)))
			}
		}
		c.Kwargs = k
	default:
		return nil, callShapeError(format, "keyword arguments are %s, not a dict", typeName(kwargs))
	}
	return c, nil
}

func typeName(v any) string {
	if _, ok := v.(missing); ok {
		return "missing"
	}
	return py.TypeName(v)
}
