package pyro

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// rawClient is a hand-driven client (rawpyro.Conn); auth_internal_test.go adds
// the steps of the passphrase exchange as methods.
type rawClient struct{ *rawpyro.Conn }

// dialRaw connects to the daemon of u over TCP.
func dialRaw(t *testing.T, u URI) *rawClient {
	t.Helper()
	return &rawClient{rawpyro.Dial(t, "tcp", u.Location())}
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
			c.NC.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
			m, err := c.Recv()
			if err != nil || rawpyro.ConnectFailReason(t, m) != wire.MsgBadVersion {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"bad checksum", func(t *testing.T, c *rawClient) {
			h := header(wire.MsgConnect, 0)
			h[23] ^= 0xff
			c.NC.Write(h)
			m, err := c.Recv()
			if err != nil || rawpyro.ConnectFailReason(t, m) != wire.MsgChecksum {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"wrong version", func(t *testing.T, c *rawClient) {
			h := header(wire.MsgConnect, 0)
			h[5] = 47
			c.NC.Write(h)
			m, err := c.Recv()
			if err != nil || rawpyro.ConnectFailReason(t, m) != wire.MsgBadVersion {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"invoke before connect", func(t *testing.T, c *rawClient) {
			c.Send(rawpyro.Invoke(1, 1, "thing", "echo", 1))
			m, err := c.Recv()
			if err != nil || rawpyro.ConnectFailReason(t, m) != "invalid msg type 4 received" {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"second connect", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.ConnectMessage("thing"))
			if !c.Closed() {
				t.Error("connection not closed")
			}
		}},
		{"header claiming 2 GiB", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.NC.Write(append(header(wire.MsgInvoke, 1<<31-1), "0123456789"...))
			if !c.Closed() {
				t.Error("connection not closed")
			}
		}},
		{"slow drip past COMMTIMEOUT", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			raw, _ := wire.AppendMessage(nil, rawpyro.Invoke(1, 1, "thing", "echo", 1), nil)
			start := time.Now()
			for i := 0; i < len(raw); i++ {
				if _, err := c.NC.Write(raw[i : i+1]); err != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
				if time.Since(start) > 3*time.Second {
					break
				}
			}
			if !c.Closed() {
				t.Error("slow client not dropped")
			}
		}},
		{"unknown object", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "nope", "echo", 1))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "Pyro4.errors.DaemonError" || e.Message() != "unknown object" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"unknown method", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "nosuch"))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.AttributeError" || e.Message() != "'Thing' object has no attribute 'nosuch'" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"private method", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "_private"))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Message() != "attempt to access private attribute '_private'" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"reserved dunder", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "__class__"))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Message() != "attempt to access private attribute '__class__'" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"unexported Go method", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "pyroExpose"))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.AttributeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"hook method not exposed", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "pyro_expose"))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.AttributeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"dotted name with DOTTEDNAMES off", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "get_child.name"))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Message() != "'Thing' object has no attribute 'get_child.name'" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"pickle serializer id", func(t *testing.T, c *rawClient) {
			m := rawpyro.ConnectMessage("thing")
			m.SerializerID = 4
			c.Send(m)
			r, err := c.Recv()
			if err != nil || rawpyro.ConnectFailReason(t, r) != "message used serializer that is not accepted: 4" {
				t.Errorf("got %v %v", r, err)
			}
		}},
		{"pickle id after connect", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			m := rawpyro.Invoke(1, 1, "thing", "echo", 1)
			m.SerializerID = 4
			c.Send(m)
			if !c.Closed() {
				t.Error("not closed")
			}
		}},
		{"wrong argument types", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "add", "a", py.Tuple{1}))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.TypeError" || e.Message() != "arg 1: cannot convert str to int" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"too many arguments", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "add", 1, 2, 3))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.TypeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"method that panics", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke(1, 1, "thing", "panic"))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.RuntimeError" {
				t.Errorf("got %s", py.Repr(e))
			}
			c.Send(rawpyro.Invoke(1, 2, "thing", "echo", "still here"))
			if m, err := c.Recv(); err != nil || m.Flags&wire.FlagException != 0 {
				t.Errorf("after panic: %v %v", m, err)
			}
		}},
		{"malformed serpent", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: 1, Data: []byte("# serpent\n('thing','echo',(1,")})
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "Pyro4.errors.SerializeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"deep nesting", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			deep := bytes.Repeat([]byte("["), 1_000_000)
			c.Send(&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: 1, Data: append([]byte("('thing','echo',("), deep...)})
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "Pyro4.errors.SerializeError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"unknown serializer id", func(t *testing.T, c *rawClient) {
			m := rawpyro.ConnectMessage("thing")
			m.SerializerID = 99
			c.Send(m)
			r, err := c.Recv()
			if err != nil || rawpyro.ConnectFailReason(t, r) != "message used serializer that is not accepted: 99" {
				t.Errorf("got %v %v", r, err)
			}
		}},
		{"connect to unknown object", func(t *testing.T, c *rawClient) {
			c.Send(rawpyro.ConnectMessage("nope"))
			r, err := c.Recv()
			if err != nil || rawpyro.ConnectFailReason(t, r) != "unknown object" {
				t.Errorf("got %v %v", r, err)
			}
		}},
		{"silent client", func(t *testing.T, c *rawClient) {
			if !c.Closed() {
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
