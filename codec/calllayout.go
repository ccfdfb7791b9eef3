package codec

import "github.com/pyrogo/pyro/py"

// callLayout is how a serializer lays out the (objectId, method, vargs,
// kwargs) of an INVOKE payload (protocol §2.4), as Pyro4's dumpsCall
// writes it. Decoding accepts the 4-sequence in every sequence layout,
// with vargs a tuple or a list, as Pyro4's loadsCall does.
type callLayout uint8

const (
	// callTuple is a 4-tuple with vargs a tuple: serpent, and msgpack,
	// which writes tuples and lists alike as arrays.
	callTuple callLayout = iota
	// callTupleVargsList is a 4-tuple with vargs a list: marshal
	// (Pyro4's MarshalSerializer sends list(vargs)).
	callTupleVargsList
	// callObject is json's object {"object": ..., "method": ...,
	// "params": [...], "kwargs": {...}}.
	callObject
)

// value returns what the serializer encodes for c.
func (l callLayout) value(c *Call) any {
	switch l {
	case callObject:
		d := py.NewDict(4)
		d.SetString("object", c.Object)
		d.SetString("method", c.Method)
		d.SetString("params", c.argsOrEmpty())
		d.SetString("kwargs", kwargsValue(c.Kwargs))
		return d
	case callTupleVargsList:
		return py.Tuple{c.Object, c.Method, c.argsOrEmpty(), kwargsValue(c.Kwargs)}
	}
	return py.Tuple{c.Object, c.Method, py.Tuple(c.argsOrEmpty()), kwargsValue(c.Kwargs)}
}

// call reads a decoded payload v as a call; format names the serializer
// in errors.
func (l callLayout) call(format string, v any) (*Call, error) {
	if l == callObject {
		return callFromObject(format, v)
	}
	return callFromSequence(format, v)
}

// callFromSequence reads the 4-tuple (or list) forms.
func callFromSequence(format string, v any) (*Call, error) {
	items, ok := sequence(v)
	if !ok {
		return nil, callShapeError(format, "the call is %s, not a 4-tuple", py.TypeName(v))
	}
	if len(items) != 4 {
		return nil, callShapeError(format, "the call has %d items, not 4", len(items))
	}
	return buildCall(format, items[0], items[1], items[2], items[3])
}

// callFromObject reads json's object form. Keys beyond the four are
// ignored, as Pyro4's loadsCall does.
func callFromObject(format string, v any) (*Call, error) {
	d, ok := v.(*py.Dict)
	if !ok {
		return nil, callShapeError(format, "the call is %s, not an object", py.TypeName(v))
	}
	get := func(k string) any {
		x, found := d.GetString(k)
		if !found {
			x = missing{}
		}
		return x
	}
	return buildCall(format, get("object"), get("method"), get("params"), get("kwargs"))
}
