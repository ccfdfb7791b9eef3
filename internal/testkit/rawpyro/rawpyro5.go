package rawpyro

import (
	"crypto/rand"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// The 502 (Pyro5) mode: messages as a Pyro5 proxy sends them. Send writes
// a Message in its Version; Recv reads either protocol.

// codecOf is the codec of a received message: its serializer id in the
// message's protocol.
func codecOf(t testing.TB, m *wire.Message) codec.Codec {
	t.Helper()
	p := codec.Pyro4
	if m.Version == wire.Protocol502 {
		p = codec.Pyro5
	}
	cd := codec.DefaultFor(p, int(m.SerializerID))
	if cd == nil {
		t.Fatalf("rawpyro: message with serializer %d of %v", m.SerializerID, p)
	}
	return cd
}

// NewCorrID returns a fresh random correlation id.
func NewCorrID() []byte {
	b := make([]byte, wire.CorrIDSize)
	_, _ = rand.Read(b)
	return b
}

// ConnectMessage5 is the CONNECT of a default Pyro5 proxy for object:
// serpent (Pyro5's id 1), the handshake "hello", a correlation id.
func ConnectMessage5(object string) *wire.Message {
	data, _ := codec.DefaultFor(codec.Pyro5, codec.ID5Serpent).Marshal(py.DictOf("handshake", "hello", "object", object))
	return &wire.Message{Version: wire.Protocol502, Type: wire.MsgConnect, SerializerID: codec.ID5Serpent, Data: data, CorrID: NewCorrID()}
}

// Connect5 sends ConnectMessage5(object) and fails the test unless the
// answer is a 502 CONNECTOK.
func (c *Conn) Connect5(object string) {
	c.T.Helper()
	c.Send(ConnectMessage5(object))
	if m, err := c.Recv(); err != nil || m.Type != wire.MsgConnectOK || m.Version != wire.Protocol502 {
		c.T.Fatalf("rawpyro: connect (502): %v %v", m, err)
	}
}

// Invoke5 is the 502 INVOKE of method(args...) on obj with serializer ser
// (a Pyro5 id) and sequence number seq, with a correlation id and no
// keyword arguments.
func Invoke5(ser int, seq uint16, obj, method string, args ...any) *wire.Message {
	data, err := codec.DefaultFor(codec.Pyro5, ser).MarshalCall(&codec.Call{Object: obj, Method: method, Args: args, Kwargs: py.NewDict(0)})
	if err != nil {
		panic("rawpyro: " + err.Error())
	}
	return &wire.Message{Version: wire.Protocol502, Type: wire.MsgInvoke, Seq: seq, SerializerID: uint16(ser), Data: data, CorrID: NewCorrID()}
}

// Result returns the value of a RESULT that is not an exception, decoded
// with the codec of its protocol, and fails the test otherwise.
func Result(t testing.TB, m *wire.Message) any {
	t.Helper()
	if m.Type != wire.MsgResult || m.Flags&wire.FlagException != 0 {
		t.Fatalf("got %v flags %#x, want a RESULT", m.Type, m.Flags)
	}
	v, err := codecOf(t, m).Unmarshal(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
