package pyro

import (
	"fmt"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// Serialized blobs: Pyro's SerializedBlob (Pyro4 and Pyro5 alike).
//
// A client that passes a SerializedBlob as the only argument of a call
// sends the call with the KEEPSERIALIZED flag and a BLBI annotation that
// holds, in Python's marshal format, the tuple (info, object id, method
// name). The daemon reads the object and the method from that annotation,
// leaves the message body serialized and calls the method with one
// argument: a blob holding the body. A gateway can pass the blob on to
// another server without decoding it (the body goes out as it came in),
// and whoever needs the arguments decodes them on demand.
//
// In Go, a method takes a *SerializedBlob parameter (or any) to receive
// one; a proxy sends one when a *SerializedBlob is the only argument of
// Call (kwargs are refused, as in Pyro).
//
// Limits: the body is bounded by MAX_MESSAGE_SIZE like any request and is
// held undecoded (it stays charged to the connection's memory budget for
// as long as the call runs, as decoded arguments would be); the BLBI
// annotation is bounded by the wire's annotation limit and decoded by the
// marshal package under its default depth and size limits, and must be a
// 3-tuple of info, a str object id and a str method name, or the call is
// refused with a SerializeError. Deserialized decodes the body with the
// codec of the connection it arrived on, whose depth and size limits hold.

// SerializedBlob is a call argument that stays serialized: Pyro's
// SerializedBlob. Make one with NewSerializedBlob to send arguments that
// the receiving method gets undecoded; a method with a *SerializedBlob
// parameter receives one from a client that sent one.
type SerializedBlob struct {
	// Info is small descriptive data about the blob (an id, a name). It
	// travels in Python's marshal format, so it must be marshallable:
	// None, bool, int, float, complex, str, bytes, and tuples, lists,
	// dicts and sets of those.
	Info any
	// Args are the arguments of a blob made with NewSerializedBlob, which
	// a proxy serializes when it sends the blob; nil in a received blob.
	Args []any

	data []byte      // a received blob: the serialized call
	cd   codec.Codec // a received blob: the codec of data
}

// NewSerializedBlob returns a blob with info that carries args to the
// method it is passed to.
func NewSerializedBlob(info any, args ...any) *SerializedBlob {
	return &SerializedBlob{Info: info, Args: args}
}

// Data returns the still-serialized message body of a received blob (a
// whole Pyro call: object, method, arguments, keyword arguments), or nil
// for a blob made with NewSerializedBlob. The caller must not change it.
func (b *SerializedBlob) Data() []byte { return b.data }

// Serializer returns the name of the serializer of Data ("" for a blob
// made with NewSerializedBlob).
func (b *SerializedBlob) Serializer() string {
	if b.cd == nil {
		return ""
	}
	return b.cd.Name()
}

// Deserialized returns the blob's arguments: Args for a blob made with
// NewSerializedBlob, else those decoded from Data (Pyro's
// SerializedBlob.deserialized()).
func (b *SerializedBlob) Deserialized() ([]any, error) {
	if b.cd == nil {
		return b.Args, nil
	}
	call, err := b.cd.UnmarshalCall(b.data)
	if err != nil {
		return nil, wrapError(ErrSerialize, "cannot decode serialized blob: "+err.Error(), err)
	}
	return call.Args, nil
}

// String describes the blob (not its contents).
func (b *SerializedBlob) String() string {
	if b.cd == nil {
		return fmt.Sprintf("<SerializedBlob %s: %d args>", py.Repr(b.Info), len(b.Args))
	}
	return fmt.Sprintf("<SerializedBlob %s: %d bytes of %s>", py.Repr(b.Info), len(b.data), b.cd.Name())
}

// blobCall turns a request with the KEEPSERIALIZED flag into the call of
// its method with one *SerializedBlob argument, from the BLBI annotation.
// data is the undecoded body; cd its codec.
func blobCall(msg *wire.Message, cd codec.Codec, data []byte) (*codec.Call, error) {
	if msg.Flags&wire.FlagBatch != 0 {
		return nil, NewError(ErrSerialize, "a batch cannot carry a serialized blob")
	}
	ann, ok := msg.Annotation(wire.AnnBlob)
	if !ok {
		return nil, NewError(ErrSerialize, "serialized blob call without a BLBI annotation")
	}
	v, err := marshal.Unmarshal(ann)
	if err != nil {
		return nil, wrapError(ErrSerialize, "bad BLBI annotation: "+err.Error(), err)
	}
	var t []any
	switch x := v.(type) {
	case py.Tuple:
		t = x
	case []any:
		t = x
	}
	if len(t) != 3 {
		return nil, NewError(ErrSerialize, "bad BLBI annotation: want (info, object id, method name), got "+py.TypeName(v))
	}
	object, ok1 := t[1].(string)
	method, ok2 := t[2].(string)
	if !ok1 || !ok2 {
		return nil, NewError(ErrSerialize, "bad BLBI annotation: object id and method name must be str")
	}
	blob := &SerializedBlob{Info: t[0], data: data, cd: cd}
	return &codec.Call{Object: object, Method: method, Args: []any{blob}, Kwargs: py.NewDict(0)}, nil
}

// blobRequest prepares a proxy's call of a blob: the body to send (the
// received body as it is when its serializer and protocol are the
// proxy's, else the
// blob's arguments serialized with cd) and the BLBI annotation.
func blobRequest(cd codec.Codec, buf []byte, call *codec.Call, b *SerializedBlob) (data []byte, blbi []byte, err error) {
	if call.Kwargs.Len() > 0 || len(call.Args) != 1 {
		return nil, nil, NewError(ErrSerialize, "if SerializedBlob is used, it must be the only argument")
	}
	blbi, err = marshal.Marshal(py.Tuple{b.Info, call.Object, call.Method})
	if err != nil {
		return nil, nil, wrapError(ErrSerialize, "blob info is not marshallable: "+err.Error(), err)
	}
	if len(blbi) > maxBlobInfo {
		return nil, nil, NewError(ErrSerialize, "blob info is too large for an annotation")
	}
	if b.cd != nil && b.cd.Name() == cd.Name() && b.cd.Protocol() == cd.Protocol() {
		return b.data, blbi, nil // passed on as it came in
	}
	args, err := b.Deserialized()
	if err != nil {
		return nil, nil, err
	}
	data, err = cd.AppendCall(buf, &codec.Call{Object: call.Object, Method: call.Method, Args: args, Kwargs: py.NewDict(0)})
	if err != nil {
		return nil, nil, wrapError(ErrSerialize, err.Error(), err)
	}
	return data, blbi, nil
}

// maxBlobInfo bounds a BLBI annotation a proxy sends, leaving room in
// the annotations for the others (CORR, HMAC).
const maxBlobInfo = wire.MaxAnnotations - 256

// blobArg returns the blob when it is the first argument of a call.
func blobArg(call *codec.Call) *SerializedBlob {
	if len(call.Args) == 0 {
		return nil
	}
	b, _ := call.Args[0].(*SerializedBlob)
	return b
}
