package pyro

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// rawClient is a hand-driven connection for hostile tests.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, u URI) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", u.Location())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawClient) send(m *wire.Message) {
	c.t.Helper()
	if err := wire.WriteMessage(c.nc, m, nil); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) recv() (*wire.Message, error) {
	return wire.ReadMessage(c.br, nil)
}

// closed reports whether the server closed the connection without a
// reply: the read ends in EOF or a reset, not in our read timeout and not
// with data.
func (c *rawClient) closed() bool {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.br.ReadByte()
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

func serpentConnect(obj string) *wire.Message {
	cd := codec.Default(codec.IDSerpent)
	data, _ := cd.Marshal(py.DictOf("handshake", "hello", "object", obj))
	return &wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: 1, Data: data}
}

func invoke(id int, seq uint16, obj, method string, args ...any) *wire.Message {
	cd := codec.Default(id)
	data, _ := cd.MarshalCall(&codec.Call{Object: obj, Method: method, Args: args, Kwargs: py.NewDict(0)})
	return &wire.Message{Type: wire.MsgInvoke, Seq: seq, SerializerID: uint16(id), Data: data}
}

func (c *rawClient) connect() {
	c.t.Helper()
	c.send(serpentConnect("thing"))
	m, err := c.recv()
	if err != nil || m.Type != wire.MsgConnectOK {
		c.t.Fatalf("connect: %v %v", m, err)
	}
}

func connectFailReason(t *testing.T, m *wire.Message) string {
	t.Helper()
	if m.Type != wire.MsgConnectFail {
		t.Fatalf("got %v, want CONNECTFAIL", m.Type)
	}
	v, err := codec.Default(int(m.SerializerID)).Unmarshal(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return v.(string)
}

func exceptionOf(t *testing.T, m *wire.Message) *py.Exception {
	t.Helper()
	if m.Type != wire.MsgResult || m.Flags&wire.FlagException == 0 {
		t.Fatalf("got %v flags %#x, want an exception RESULT", m.Type, m.Flags)
	}
	v, err := codec.Default(int(m.SerializerID)).Unmarshal(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*py.Exception)
}

// TestHostileClients: each hostile client gets Pyro's answer (or a clear
// one), and the daemon keeps serving a well-behaved client throughout.
func TestHostileClients(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.CommTimeout = 500 * time.Millisecond
	_, u, _ := startDaemon(t, cfg)
	header := func(typ wire.MsgType, payload int) []byte {
		return wire.Header{Type: typ, PayloadLen: payload, SerializerID: 1}.AppendHeader(nil)
	}
	tests := []struct {
		name string
		run  func(t *testing.T, c *rawClient)
	}{
		{"garbage first bytes", func(t *testing.T, c *rawClient) {
			c.nc.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
			m, err := c.recv()
			if err != nil || connectFailReason(t, m) != wire.MsgBadVersion {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"bad checksum", func(t *testing.T, c *rawClient) {
			h := header(wire.MsgConnect, 0)
			h[23] ^= 0xff
			c.nc.Write(h)
			m, err := c.recv()
			if err != nil || connectFailReason(t, m) != wire.MsgChecksum {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"wrong version", func(t *testing.T, c *rawClient) {
			h := header(wire.MsgConnect, 0)
			h[5] = 47
			c.nc.Write(h)
			m, err := c.recv()
			if err != nil || connectFailReason(t, m) != wire.MsgBadVersion {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"invoke before connect", func(t *testing.T, c *rawClient) {
			c.send(invoke(1, 1, "thing", "echo", 1))
			m, err := c.recv()
			if err != nil || connectFailReason(t, m) != "invalid msg type 4 received" {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"second connect", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(serpentConnect("thing"))
			if !c.closed() {
				t.Error("connection not closed")
			}
		}},
		{"header claiming 2 GiB", func(t *testing.T, c *rawClient) {
			c.connect()
			c.nc.Write(append(header(wire.MsgInvoke, 1<<31-1), "0123456789"...))
			if !c.closed() {
				t.Error("connection not closed")
			}
		}},
		{"slow drip past COMMTIMEOUT", func(t *testing.T, c *rawClient) {
			c.connect()
			raw, _ := wire.AppendMessage(nil, invoke(1, 1, "thing", "echo", 1), nil)
			start := time.Now()
			for i := 0; i < len(raw); i++ {
				if _, err := c.nc.Write(raw[i : i+1]); err != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
				if time.Since(start) > 3*time.Second {
					break
				}
			}
			if !c.closed() {
				t.Error("slow client not dropped")
			}
		}},
		{"unknown object", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "nope", "echo", 1))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "Pyro4.errors.DaemonError" || e.Message() != "unknown object" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"unknown method", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "nosuch"))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "builtins.AttributeError" || e.Message() != "'Thing' object has no attribute 'nosuch'" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"private method", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "_private"))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Message() != "attempt to access private attribute '_private'" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"reserved dunder", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "__class__"))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Message() != "attempt to access private attribute '__class__'" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"unexported Go method", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "pyroExpose"))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "builtins.AttributeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"hook method not exposed", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "pyro_expose"))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "builtins.AttributeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"dotted name with DOTTEDNAMES off", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "get_child.name"))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Message() != "'Thing' object has no attribute 'get_child.name'" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"pickle serializer id", func(t *testing.T, c *rawClient) {
			m := serpentConnect("thing")
			m.SerializerID = 4
			c.send(m)
			r, err := c.recv()
			if err != nil || connectFailReason(t, r) != "message used serializer that is not accepted: 4" {
				t.Errorf("got %v %v", r, err)
			}
		}},
		{"pickle id after connect", func(t *testing.T, c *rawClient) {
			c.connect()
			m := invoke(1, 1, "thing", "echo", 1)
			m.SerializerID = 4
			c.send(m)
			if !c.closed() {
				t.Error("not closed")
			}
		}},
		{"wrong argument types", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "add", "a", py.Tuple{1}))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "builtins.TypeError" || e.Message() != "arg 1: cannot convert str to int" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"too many arguments", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "add", 1, 2, 3))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "builtins.TypeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"method that panics", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(invoke(1, 1, "thing", "panic"))
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "builtins.RuntimeError" {
				t.Errorf("got %s", py.Repr(e))
			}
			c.send(invoke(1, 2, "thing", "echo", "still here"))
			if m, err := c.recv(); err != nil || m.Flags&wire.FlagException != 0 {
				t.Errorf("after panic: %v %v", m, err)
			}
		}},
		{"malformed serpent", func(t *testing.T, c *rawClient) {
			c.connect()
			c.send(&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: 1, Data: []byte("# serpent\n('thing','echo',(1,")})
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "Pyro4.errors.SerializeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"deep nesting", func(t *testing.T, c *rawClient) {
			c.connect()
			deep := bytes.Repeat([]byte("["), 1_000_000)
			c.send(&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: 1, Data: append([]byte("('thing','echo',("), deep...)})
			m, _ := c.recv()
			if e := exceptionOf(t, m); e.Class != "Pyro4.errors.SerializeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"unknown serializer id", func(t *testing.T, c *rawClient) {
			m := serpentConnect("thing")
			m.SerializerID = 99
			c.send(m)
			r, err := c.recv()
			if err != nil || connectFailReason(t, r) != "message used serializer that is not accepted: 99" {
				t.Errorf("got %v %v", r, err)
			}
		}},
		{"connect to unknown object", func(t *testing.T, c *rawClient) {
			c.send(serpentConnect("nope"))
			r, err := c.recv()
			if err != nil || connectFailReason(t, r) != "unknown object" {
				t.Errorf("got %v %v", r, err)
			}
		}},
		{"silent client", func(t *testing.T, c *rawClient) {
			if !c.closed() {
				t.Error("silent client not dropped")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, dialRaw(t, u))
			// a new client each time: with COMMTIMEOUT 0.5 a pooled
			// connection idle as long as the silent client waits may be
			// dropped just as it is used
			if v, err := newProxy(t, u, nil).Call(context.Background(), "echo", "ok"); err != nil || v != "ok" {
				t.Fatalf("daemon stopped serving: %v %v", v, err)
			}
		})
	}
}

func codecFor(m *wire.Message) codec.Codec { return codec.Default(int(m.SerializerID)) }
