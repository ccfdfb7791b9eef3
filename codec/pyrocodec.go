package codec

import "github.com/pyrogo/pyro/py"

// valueEncoder is what a value package's Encoder offers (serpent,
// marshal, internal/pyjson, internal/pymsgpack). A nil lim is no bound:
// each package's Append is AppendLimit with a nil lim, called here
// directly to save a call on the hot path.
type valueEncoder interface {
	AppendLimit(dst []byte, v any, lim *py.SizeLimit) ([]byte, error)
}

// valueDecoder is what a value package's Decoder offers.
type valueDecoder interface {
	Decode(data []byte) (any, error)
}

// coders are what one serializer brings to its codec (formats.go): the
// encoders and decoder of its value package and the layout of its calls.
// Everything else about Pyro's message shapes is the same for all of them.
type coders struct {
	values valueEncoder // results, exceptions, handshake dicts
	calls  valueEncoder // INVOKE payloads
	dec    valueDecoder // both; its DictHook is the dialect's restore
	// callDec, when set, decodes calls instead of dec (Pyro5's msgpack
	// calls: strict map keys, as Pyro5's daemon decodes them)
	callDec valueDecoder
	layout  callLayout
}

// pyroCodec is the one implementation of Codec: Pyro's shapes (calls,
// results, exceptions, class dicts) over one serializer's coders.
type pyroCodec struct {
	id       int
	name     string
	protocol Protocol
	coders
}

func (c *pyroCodec) ID() int            { return c.id }
func (c *pyroCodec) Name() string       { return c.name }
func (c *pyroCodec) Protocol() Protocol { return c.protocol }

func (c *pyroCodec) Marshal(v any) ([]byte, error) { return c.values.AppendLimit(nil, v, nil) }

func (c *pyroCodec) AppendMarshal(dst []byte, v any) ([]byte, error) {
	return c.values.AppendLimit(dst, v, nil)
}

func (c *pyroCodec) AppendMarshalLimit(dst []byte, v any, lim *py.SizeLimit) ([]byte, error) {
	return c.values.AppendLimit(dst, v, lim)
}

func (c *pyroCodec) Unmarshal(data []byte) (any, error) { return c.dec.Decode(data) }

func (c *pyroCodec) MarshalCall(call *Call) ([]byte, error) { return c.AppendCall(nil, call) }

func (c *pyroCodec) AppendCall(dst []byte, call *Call) ([]byte, error) {
	if err := call.validate(c.name); err != nil {
		return nil, err
	}
	return c.calls.AppendLimit(dst, c.layout.value(call), nil)
}

func (c *pyroCodec) UnmarshalCall(data []byte) (*Call, error) {
	dec := c.dec
	if c.callDec != nil {
		dec = c.callDec
	}
	v, err := dec.Decode(data)
	if err != nil {
		return nil, err
	}
	return c.layout.call(c.name, v)
}
