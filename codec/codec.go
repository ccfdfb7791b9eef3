package codec

import "github.com/pyrogo/pyro/py"

// Serializer ids as they appear in the Pyro4 message header (protocol 48).
const (
	IDSerpent     = 1
	IDJSON        = 2
	IDMarshal     = 3
	IDPickle      = 4
	IDDill        = 5
	IDMsgpack     = 6
	IDCloudpickle = 7
)

// Serializer ids as they appear in the Pyro5 message header (protocol
// 502): the same serializers, numbered differently.
const (
	ID5Serpent = 1
	ID5Marshal = 2
	ID5JSON    = 3
	ID5Msgpack = 4
)

// Codec encodes and decodes Pyro payloads for one serializer. A Codec is
// safe for concurrent use.
type Codec interface {
	// ID is the serializer id carried in the message header.
	ID() int
	// Name is Pyro's name for the serializer ("serpent", "json", ...).
	Name() string
	// Protocol is the Pyro generation whose conventions the codec speaks.
	Protocol() Protocol
	// Marshal encodes a value: a call result, an exception, a handshake.
	Marshal(v any) ([]byte, error)
	// AppendMarshal is Marshal appending to dst (reusing its capacity).
	AppendMarshal(dst []byte, v any) ([]byte, error)
	// AppendMarshalLimit is AppendMarshal with the output bounded by lim
	// (see py.SizeLimit): the encoder stops with an error matching
	// py.ErrTooLarge (or lim.Grow's error) once the output would pass
	// lim.Max, instead of building all of it. A daemon bounds its replies
	// this way by its MAX_MESSAGE_SIZE and memory budget.
	AppendMarshalLimit(dst []byte, v any, lim *py.SizeLimit) ([]byte, error)
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
	// Protocol chooses the serializer ids and conventions: Pyro4 (the
	// zero value) or Pyro5.
	Protocol Protocol
}
