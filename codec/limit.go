package codec

import "github.com/pyrogo/pyro/py"

// The bounded encoders (Codec.AppendMarshalLimit).

func (c *serpentCodec) AppendMarshalLimit(dst []byte, v any, lim *py.SizeLimit) ([]byte, error) {
	return c.enc.AppendLimit(dst, v, lim)
}

func (c *marshalCodec) AppendMarshalLimit(dst []byte, v any, lim *py.SizeLimit) ([]byte, error) {
	return c.enc.AppendLimit(dst, v, lim)
}

func (c *jsonCodec) AppendMarshalLimit(dst []byte, v any, lim *py.SizeLimit) ([]byte, error) {
	return c.enc.AppendLimit(dst, v, lim)
}

func (c *msgpackCodec) AppendMarshalLimit(dst []byte, v any, lim *py.SizeLimit) ([]byte, error) {
	return c.enc.AppendLimit(dst, v, lim)
}
