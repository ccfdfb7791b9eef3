package codec

import (
	"errors"
	"fmt"

	"github.com/pyrogo/pyro/internal/pyjson"
	"github.com/pyrogo/pyro/internal/pymsgpack"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/serpent"
)

// Serializer ids as they appear in the Pyro message header.
const (
	IDSerpent     = 1
	IDJSON        = 2
	IDMarshal     = 3
	IDPickle      = 4
	IDDill        = 5
	IDMsgpack     = 6
	IDCloudpickle = 7
)

// Codec encodes and decodes Pyro payloads for one serializer. A Codec is
// safe for concurrent use.
type Codec interface {
	// ID is the serializer id carried in the message header.
	ID() int
	// Name is Pyro's name for the serializer ("serpent", "json", ...).
	Name() string
	// Marshal encodes a value: a call result, an exception, a handshake.
	Marshal(v any) ([]byte, error)
	// AppendMarshal is Marshal appending to dst (reusing its capacity).
	AppendMarshal(dst []byte, v any) ([]byte, error)
	// Unmarshal decodes a value, restoring Pyro's class dicts.
	Unmarshal(data []byte) (any, error)
	// MarshalCall encodes an INVOKE request in this serializer's shape.
	// A nil call or a keyword argument name that is not a str fails with
	// an error matching ErrCallShape.
	MarshalCall(c *Call) ([]byte, error)
	// AppendCall is MarshalCall appending to dst.
	AppendCall(dst []byte, c *Call) ([]byte, error)
	// UnmarshalCall decodes an INVOKE request.
	UnmarshalCall(data []byte) (*Call, error)
}

// Options configures the codecs made by ForID and ForName.
type Options struct {
	// Limits bounds every decode; zero fields mean py's defaults.
	Limits py.Limits
}

// ErrRefused is matched (errors.Is) by the error for a serializer that
// pyrogo refuses to decode (pickle, dill, cloudpickle).
var ErrRefused = errors.New("serializer refused")

// ErrUnknown is matched by the error for a serializer id or name that Pyro
// does not define.
var ErrUnknown = errors.New("unknown serializer")

// SerializerError explains why no codec is available for an id or name.
type SerializerError struct {
	ID     int    // the id asked for, or -1 when asked by name
	Name   string // the name, when known
	Reason string
	err    error // ErrRefused or ErrUnknown
}

func (e *SerializerError) Error() string {
	if e.ID < 0 {
		return fmt.Sprintf("serializer %q %s", e.Name, e.Reason)
	}
	if e.Name != "" {
		return fmt.Sprintf("serializer %q (id %d) %s", e.Name, e.ID, e.Reason)
	}
	return fmt.Sprintf("serializer id %d %s", e.ID, e.Reason)
}

// Unwrap returns ErrRefused or ErrUnknown.
func (e *SerializerError) Unwrap() error { return e.err }

const codeExecution = "is refused: decoding it can execute arbitrary code chosen by the sender, so pyrogo has no decoder for it"

var refused = map[int]string{IDPickle: "pickle", IDDill: "dill", IDCloudpickle: "cloudpickle"}

var names = map[string]int{"serpent": IDSerpent, "json": IDJSON, "marshal": IDMarshal, "msgpack": IDMsgpack,
	"pickle": IDPickle, "dill": IDDill, "cloudpickle": IDCloudpickle}

// NameOf returns Pyro's name for a serializer id, or "" for an unknown id.
func NameOf(id int) string {
	for n, i := range names {
		if i == id {
			return n
		}
	}
	return ""
}

// IDOf returns the serializer id for a Pyro serializer name.
func IDOf(name string) (int, bool) {
	id, ok := names[name]
	return id, ok
}

// ForID returns the codec for a serializer id. Pickle, dill and
// cloudpickle are refused (ErrRefused), other unknown ids too (ErrUnknown).
func ForID(id int, opts Options) (Codec, error) {
	lim := opts.Limits.Resolved()
	switch id {
	case IDSerpent:
		return newSerpent(lim), nil
	case IDJSON:
		return newJSON(lim), nil
	case IDMarshal:
		return newMarshal(lim), nil
	case IDMsgpack:
		return newMsgpack(lim), nil
	}
	if name, ok := refused[id]; ok {
		return nil, &SerializerError{ID: id, Name: name, Reason: codeExecution, err: ErrRefused}
	}
	return nil, &SerializerError{ID: id, Reason: "is not a Pyro serializer", err: ErrUnknown}
}

// ForName returns the codec for a Pyro serializer name ("serpent", "json",
// "marshal", "msgpack"); pickle, dill and cloudpickle are refused.
func ForName(name string, opts Options) (Codec, error) {
	id, ok := names[name]
	if !ok {
		return nil, &SerializerError{ID: -1, Name: name, Reason: "is unknown or not available", err: ErrUnknown}
	}
	return ForID(id, opts)
}

// defaults holds one codec per supported id with default limits.
var defaults = func() map[int]Codec {
	m := map[int]Codec{}
	for _, id := range []int{IDSerpent, IDJSON, IDMarshal, IDMsgpack} {
		c, _ := ForID(id, Options{})
		m[id] = c
	}
	return m
}()

// Default returns the shared codec with default limits for id, or nil when
// the id is refused or unknown.
func Default(id int) Codec { return defaults[id] }

// ---- serpent

type serpentCodec struct {
	dec serpent.Decoder
	enc serpent.Encoder
}

func newSerpent(lim py.Limits) *serpentCodec {
	return &serpentCodec{dec: serpent.Decoder{Limits: lim, DictHook: restoreClass}}
}

func (*serpentCodec) ID() int                                           { return IDSerpent }
func (*serpentCodec) Name() string                                      { return "serpent" }
func (c *serpentCodec) AppendMarshal(dst []byte, v any) ([]byte, error) { return c.enc.Append(dst, v) }
func (c *serpentCodec) Marshal(v any) ([]byte, error)                   { return c.enc.Append(nil, v) }
func (c *serpentCodec) Unmarshal(b []byte) (any, error)                 { return c.dec.Decode(b) }
func (c *serpentCodec) MarshalCall(call *Call) ([]byte, error)          { return c.AppendCall(nil, call) }
func (c *serpentCodec) AppendCall(dst []byte, call *Call) ([]byte, error) {
	if err := call.validate("serpent"); err != nil {
		return nil, err
	}
	return c.enc.Append(dst, py.Tuple{call.Object, call.Method, py.Tuple(call.argsOrEmpty()), kwargsValue(call.Kwargs)})
}
func (c *serpentCodec) UnmarshalCall(b []byte) (*Call, error) {
	v, err := c.dec.Decode(b)
	if err != nil {
		return nil, err
	}
	return callFromSequence("serpent", v)
}

// ---- marshal

type marshalCodec struct {
	dec marshal.Decoder
	enc marshal.Encoder
}

func newMarshal(lim py.Limits) *marshalCodec {
	return &marshalCodec{dec: marshal.Decoder{Limits: lim, DictHook: restoreClass}}
}

func (*marshalCodec) ID() int                                           { return IDMarshal }
func (*marshalCodec) Name() string                                      { return "marshal" }
func (c *marshalCodec) AppendMarshal(dst []byte, v any) ([]byte, error) { return c.enc.Append(dst, v) }
func (c *marshalCodec) Marshal(v any) ([]byte, error)                   { return c.enc.Append(nil, v) }
func (c *marshalCodec) Unmarshal(b []byte) (any, error)                 { return c.dec.Decode(b) }
func (c *marshalCodec) MarshalCall(call *Call) ([]byte, error)          { return c.AppendCall(nil, call) }
func (c *marshalCodec) AppendCall(dst []byte, call *Call) ([]byte, error) {
	if err := call.validate("marshal"); err != nil {
		return nil, err
	}
	return c.enc.Append(dst, py.Tuple{call.Object, call.Method, call.argsOrEmpty(), kwargsValue(call.Kwargs)})
}
func (c *marshalCodec) UnmarshalCall(b []byte) (*Call, error) {
	v, err := c.dec.Decode(b)
	if err != nil {
		return nil, err
	}
	return callFromSequence("marshal", v)
}

// ---- json

type jsonCodec struct {
	dec pyjson.Decoder
	enc pyjson.Encoder
}

func newJSON(lim py.Limits) *jsonCodec {
	return &jsonCodec{dec: pyjson.Decoder{Limits: lim, DictHook: restoreClass}}
}

func (*jsonCodec) ID() int                                           { return IDJSON }
func (*jsonCodec) Name() string                                      { return "json" }
func (c *jsonCodec) AppendMarshal(dst []byte, v any) ([]byte, error) { return c.enc.Append(dst, v) }
func (c *jsonCodec) Marshal(v any) ([]byte, error)                   { return c.enc.Append(nil, v) }
func (c *jsonCodec) Unmarshal(b []byte) (any, error)                 { return c.dec.Decode(b) }
func (c *jsonCodec) MarshalCall(call *Call) ([]byte, error)          { return c.AppendCall(nil, call) }
func (c *jsonCodec) AppendCall(dst []byte, call *Call) ([]byte, error) {
	if err := call.validate("json"); err != nil {
		return nil, err
	}
	d := py.NewDict(4)
	d.SetString("object", call.Object)
	d.SetString("method", call.Method)
	d.SetString("params", call.argsOrEmpty())
	d.SetString("kwargs", kwargsValue(call.Kwargs))
	return c.enc.Append(dst, d)
}
func (c *jsonCodec) UnmarshalCall(b []byte) (*Call, error) {
	v, err := c.dec.Decode(b)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*py.Dict)
	if !ok {
		return nil, callShapeError("json", "the call is %s, not an object", py.TypeName(v))
	}
	get := func(k string) any {
		x, found := d.GetString(k)
		if !found {
			x = missing{}
		}
		return x
	}
	return buildCall("json", get("object"), get("method"), get("params"), get("kwargs"))
}

// ---- msgpack

// msgpackCodec writes values (results, handshakes, exceptions) as Pyro4's
// dumps does, with times as its datetime and date extension types, so that
// a Python client gets back the type it sent; calls are written with times
// as ISO strings, because a Python server passes extension types to its
// methods undecoded (pymsgpack's package documentation).
type msgpackCodec struct {
	dec     pymsgpack.Decoder
	enc     pymsgpack.Encoder // values: TimeExt
	callEnc pymsgpack.Encoder // calls
}

func newMsgpack(lim py.Limits) *msgpackCodec {
	return &msgpackCodec{dec: pymsgpack.Decoder{Limits: lim, DictHook: restoreClass}, enc: pymsgpack.Encoder{TimeExt: true}}
}

func (*msgpackCodec) ID() int                                           { return IDMsgpack }
func (*msgpackCodec) Name() string                                      { return "msgpack" }
func (c *msgpackCodec) AppendMarshal(dst []byte, v any) ([]byte, error) { return c.enc.Append(dst, v) }
func (c *msgpackCodec) Marshal(v any) ([]byte, error)                   { return c.enc.Append(nil, v) }
func (c *msgpackCodec) Unmarshal(b []byte) (any, error)                 { return c.dec.Decode(b) }
func (c *msgpackCodec) MarshalCall(call *Call) ([]byte, error)          { return c.AppendCall(nil, call) }
func (c *msgpackCodec) AppendCall(dst []byte, call *Call) ([]byte, error) {
	if err := call.validate("msgpack"); err != nil {
		return nil, err
	}
	return c.callEnc.Append(dst, []any{call.Object, call.Method, call.argsOrEmpty(), kwargsValue(call.Kwargs)})
}
func (c *msgpackCodec) UnmarshalCall(b []byte) (*Call, error) {
	v, err := c.dec.Decode(b)
	if err != nil {
		return nil, err
	}
	return callFromSequence("msgpack", v)
}
