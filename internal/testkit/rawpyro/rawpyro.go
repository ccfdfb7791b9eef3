// Package rawpyro is a Pyro4 client driven by hand, for tests that play a
// hostile or broken client: it sends exactly the messages (or bytes) a
// test gives it and shows exactly what came back, with helpers for the
// messages such tests send most (CONNECT, INVOKE) and for reading
// answers (the reason of a CONNECTFAIL, the exception of a RESULT).
// It also splits a recorded byte stream (see testkit.Relay) into
// messages.
//
// It imports wire, codec and py but not the root package, so the root
// package's internal tests use it too.
package rawpyro

import (
	"bufio"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// Conn is a client connection driven by hand. Its fields are open to
// the test: write bytes to NC, set its deadlines, read from BR.
type Conn struct {
	T  testing.TB
	NC net.Conn
	BR *bufio.Reader
}

// New wraps a connection the test made (a TLS one, say); it is closed in
// t.Cleanup. Its deadline is left as it is.
func New(t testing.TB, nc net.Conn) *Conn {
	t.Cleanup(func() { nc.Close() })
	return &Conn{T: t, NC: nc, BR: bufio.NewReader(nc)}
}

// Dial connects to addr on network ("tcp", "unix"). The connection gets
// a deadline of testkit.Bound, so that a test hangs no longer; set
// another on NC where a test needs one.
func Dial(t testing.TB, network, addr string) *Conn {
	t.Helper()
	return DialWith(t, &net.Dialer{}, network, addr)
}

// DialFrom connects to the TCP address addr from the loopback address
// local (127.0.0.x), so that a test can play several client hosts.
func DialFrom(t testing.TB, addr, local string) *Conn {
	t.Helper()
	return DialWith(t, &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}, "tcp", addr)
}

// DialWith connects with d (for socket options set in its Control), as
// Dial does.
func DialWith(t testing.TB, d *net.Dialer, network, addr string) *Conn {
	t.Helper()
	if d.Timeout == 0 {
		d.Timeout = testkit.Bound()
	}
	nc, err := d.Dial(network, addr)
	if err != nil {
		t.Fatalf("rawpyro: dial %s %s: %v", network, addr, err)
	}
	c := New(t, nc)
	nc.SetDeadline(time.Now().Add(testkit.Bound()))
	return c
}

// Send writes m (no HMAC), and fails the test if it cannot.
func (c *Conn) Send(m *wire.Message) {
	c.T.Helper()
	if err := wire.WriteMessage(c.NC, m, nil); err != nil {
		c.T.Fatal(err)
	}
}

// SendPayload writes a message of type typ whose payload is sent as it
// is: a compressed payload (flags with wire.FlagCompressed), a bomb, or
// bytes no encoder would make. It returns the write's error, so that it
// can be used off the test's goroutine.
func (c *Conn) SendPayload(typ wire.MsgType, seq uint16, ser int, flags wire.Flags, payload []byte) error {
	hd := wire.Header{Type: typ, Flags: flags, Seq: seq, PayloadLen: len(payload), SerializerID: uint16(ser)}
	_, err := c.NC.Write(append(hd.AppendHeader(nil), payload...))
	return err
}

// Recv reads one message of either protocol (48 or 502; no HMAC, the
// default size limit): Message.Version tells which.
func (c *Conn) Recv() (*wire.Message, error) {
	return wire.ReadMessage(c.BR, &wire.Options{AnyProtocol: true})
}

// Closed reports whether the server closed the connection without
// sending anything more: the read ends in EOF or a reset, not with data
// and not in the read deadline (testkit.Bound from now).
func (c *Conn) Closed() bool {
	c.NC.SetReadDeadline(time.Now().Add(testkit.Bound()))
	_, err := c.BR.ReadByte()
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// Connect sends ConnectMessage(object) and fails the test unless the
// answer is a CONNECTOK.
func (c *Conn) Connect(object string) {
	c.T.Helper()
	c.Send(ConnectMessage(object))
	if m, err := c.Recv(); err != nil || m.Type != wire.MsgConnectOK {
		c.T.Fatalf("rawpyro: connect: %v %v", m, err)
	}
}

// ConnectWith sends a serpent CONNECT for object whose handshake is
// shake, asking for metadata, and returns the answer: nil when the
// server closed the connection without one.
func (c *Conn) ConnectWith(shake any, object string) *wire.Message {
	c.T.Helper()
	data, err := codec.Default(codec.IDSerpent).Marshal(py.DictOf("handshake", shake, "object", object))
	if err != nil {
		c.T.Fatal(err)
	}
	c.Send(&wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: codec.IDSerpent, Data: data})
	m, err := c.Recv()
	if err != nil {
		return nil
	}
	return m
}

// ConnectMessage is the CONNECT of a default Pyro4 proxy, serpent with
// the handshake "hello": for object, asking for its metadata; with
// object "", as a proxy that asks for none.
func ConnectMessage(object string) *wire.Message {
	cd := codec.Default(codec.IDSerpent)
	if object == "" {
		data, _ := cd.Marshal(py.DictOf("handshake", "hello"))
		return &wire.Message{Type: wire.MsgConnect, SerializerID: codec.IDSerpent, Data: data}
	}
	data, _ := cd.Marshal(py.DictOf("handshake", "hello", "object", object))
	return &wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: codec.IDSerpent, Data: data}
}

// Invoke is the INVOKE of method(args...) on obj with serializer ser
// (a codec id) and sequence number seq, without keyword arguments.
func Invoke(ser int, seq uint16, obj, method string, args ...any) *wire.Message {
	data, err := codec.Default(ser).MarshalCall(&codec.Call{Object: obj, Method: method, Args: args, Kwargs: py.NewDict(0)})
	if err != nil {
		panic("rawpyro: " + err.Error())
	}
	return &wire.Message{Type: wire.MsgInvoke, Seq: seq, SerializerID: uint16(ser), Data: data}
}

// ConnectFailReason returns the reason of a CONNECTFAIL, and fails the
// test if m is not one.
func ConnectFailReason(t testing.TB, m *wire.Message) string {
	t.Helper()
	if m.Type != wire.MsgConnectFail {
		t.Fatalf("got %v, want CONNECTFAIL", m.Type)
	}
	v, err := codecOf(t, m).Unmarshal(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("CONNECTFAIL carries %s, not a reason", py.Repr(v))
	}
	return s
}

// ExceptionOf returns the exception a RESULT carries, and fails the test
// if m is not an exception RESULT.
func ExceptionOf(t testing.TB, m *wire.Message) *py.Exception {
	t.Helper()
	if m.Type != wire.MsgResult || m.Flags&wire.FlagException == 0 {
		t.Fatalf("got %v flags %#x, want an exception RESULT", m.Type, m.Flags)
	}
	v, err := codecOf(t, m).Unmarshal(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := v.(*py.Exception)
	if !ok {
		t.Fatalf("exception RESULT carries %s", py.Repr(v))
	}
	return e
}

// Split cuts a recorded stream of messages (one direction of a
// testkit.Relay) into whole messages, each its raw bytes; an unfinished
// last message is left out. It fails the test on a header that does not
// parse.
func Split(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) >= wire.HeaderSize {
		hd, err := wire.ParseHeader(b[:wire.HeaderSize])
		if err != nil {
			t.Fatalf("rawpyro: recorded stream: %v", err)
		}
		n := wire.HeaderSize + hd.AnnotationsLen + hd.PayloadLen
		if n > len(b) {
			break
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// Headers returns the headers of the whole messages of a recorded
// stream (see Split).
func Headers(t testing.TB, b []byte) []wire.Header {
	t.Helper()
	var out []wire.Header
	for _, m := range Split(t, b) {
		hd, _ := wire.ParseHeader(m[:wire.HeaderSize])
		out = append(out, hd)
	}
	return out
}
