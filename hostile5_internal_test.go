package pyro

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// header502 is a 502 header of a message of type typ with the given
// lengths, serpent, with a correlation id.
func header502(typ wire.MsgType, annLen, payloadLen int) []byte {
	m := &wire.Message{Version: wire.Protocol502, Type: typ, SerializerID: codec.ID5Serpent, CorrID: rawpyro.NewCorrID()}
	b, err := wire.AppendMessage(nil, m, nil)
	if err != nil {
		panic(err)
	}
	h := b[:wire.HeaderSize502]
	binary.BigEndian.PutUint32(h[12:], uint32(payloadLen)) // see wire/header502.go
	binary.BigEndian.PutUint32(h[16:], uint32(annLen))
	return h
}

// wantRefusal reads a CONNECTFAIL in protocol proto (for 502: in marshal,
// with a correlation id) carrying the answer wire gives for the first
// bytes sent (a ProtocolError's Msg).
func wantRefusal(t *testing.T, c *rawClient, sent []byte, proto wire.Protocol) {
	t.Helper()
	_, err := wire.SniffProtocol(sent[:wire.SniffSize])
	var pe *wire.ProtocolError
	if !errors.As(err, &pe) || pe.Answer != proto {
		t.Fatalf("test bytes: %v", err)
	}
	m, err := c.Recv()
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	if m.Version != proto || rawpyro.ConnectFailReason(t, m) != pe.Msg {
		t.Errorf("got protocol %v reason %q, want %v %q", m.Version, rawpyro.ConnectFailReason(t, m), proto, pe.Msg)
	}
	if proto == wire.Protocol502 && (m.SerializerID != codec.ID5Marshal || len(m.CorrID) != wire.CorrIDSize) {
		t.Errorf("502 refusal: serializer %d, corr id %x", m.SerializerID, m.CorrID)
	}
}

// TestHostileClients502: hostile Pyro5-shaped input gets Pyro5's answer
// (or a clear one) in the protocol the client speaks, a connection keeps
// its protocol, and the daemon keeps serving Pyro4 and Pyro5 clients
// throughout.
func TestHostileClients502(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.CommTimeout = 500 * time.Millisecond
	_, u, _ := startDaemon(t, cfg)
	tests := []struct {
		name string
		run  func(t *testing.T, c *rawClient)
	}{
		{"echo and ping", func(t *testing.T, c *rawClient) {
			c.Connect5("thing")
			call := rawpyro.Invoke5(codec.ID5JSON, 7, "thing", "echo", "hi")
			c.Send(call)
			m, err := c.Recv()
			if err != nil || m.Version != wire.Protocol502 || m.Seq != 7 || !bytes.Equal(m.CorrID, call.CorrID) ||
				m.SerializerID != codec.ID5JSON || rawpyro.Result(t, m) != "hi" {
				t.Fatalf("got %+v %v", m, err)
			}
			ping := &wire.Message{Version: wire.Protocol502, Type: wire.MsgPing, Seq: 8, SerializerID: codec.ID5Serpent, CorrID: rawpyro.NewCorrID()}
			c.Send(ping)
			if m, err := c.Recv(); err != nil || m.Type != wire.MsgPing || string(m.Data) != "pong" || !bytes.Equal(m.CorrID, ping.CorrID) {
				t.Fatalf("ping: %+v %v", m, err)
			}
		}},
		{"call without correlation id gets a fresh one", func(t *testing.T, c *rawClient) {
			c.Connect5("thing")
			call := rawpyro.Invoke5(codec.ID5Serpent, 1, "thing", "fail")
			call.CorrID = nil
			c.Send(call)
			m, err := c.Recv()
			if err != nil || len(m.CorrID) != wire.CorrIDSize || m.Version != wire.Protocol502 {
				t.Fatalf("got %+v %v", m, err)
			}
			if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.ValueError" {
				t.Errorf("got %s", py.Repr(e))
			}
		}},
		{"bad magic", func(t *testing.T, c *rawClient) {
			h := header502(wire.MsgConnect, 0, 0)
			h[38] ^= 0xff
			c.NC.Write(h)
			m, err := c.Recv()
			if err != nil || m.Version != wire.Protocol502 || rawpyro.ConnectFailReason(t, m) != wire.Msg502BadHeader {
				t.Errorf("got %+v %v", m, err)
			}
		}},
		{"other 5xx version", func(t *testing.T, c *rawClient) {
			h := header502(wire.MsgConnect, 0, 0)
			h[5] = 0xf5 // 501
			c.NC.Write(h)
			wantRefusal(t, c, h, wire.Protocol502)
		}},
		{"version 47", func(t *testing.T, c *rawClient) {
			h := header502(wire.MsgConnect, 0, 0)
			h[4], h[5] = 0, 47
			c.NC.Write(h)
			wantRefusal(t, c, h, wire.Protocol48)
		}},
		{"502 connect claiming 4 GiB", func(t *testing.T, c *rawClient) {
			c.NC.Write(append(header502(wire.MsgConnect, 0, 1<<32-1), "0123456789"...))
			if !c.Closed() {
				t.Error("connection not closed")
			}
		}},
		{"502 invoke claiming 2 GiB", func(t *testing.T, c *rawClient) {
			c.Connect5("thing")
			c.NC.Write(append(header502(wire.MsgInvoke, 0, 1<<31-1), "0123456789"...))
			if !c.Closed() {
				t.Error("connection not closed")
			}
		}},
		{"502 annotations claiming 4 GiB", func(t *testing.T, c *rawClient) {
			c.NC.Write(append(header502(wire.MsgConnect, 1<<32-1, 0), "0123456789"...))
			if !c.Closed() {
				t.Error("connection not closed")
			}
		}},
		{"502 annotations over the bound", func(t *testing.T, c *rawClient) {
			n := wire.MaxAnnotations502 + 8
			c.NC.Write(header502(wire.MsgConnect, n, 0))
			c.NC.Write(make([]byte, n))
			m, err := c.Recv()
			if err == nil {
				if r := rawpyro.ConnectFailReason(t, m); m.Version != wire.Protocol502 || r == "" {
					t.Errorf("got protocol %v reason %q", m.Version, r)
				}
			} else if !c.Closed() {
				t.Error("neither answered nor closed")
			}
		}},
		{"48 message on a 502 connection", func(t *testing.T, c *rawClient) {
			c.Connect5("thing")
			c.Send(rawpyro.Invoke(codec.IDSerpent, 1, "thing", "echo", 1))
			m, err := c.Recv()
			if err != nil || m.Version != wire.Protocol502 || rawpyro.ConnectFailReason(t, m) != wire.Msg502BadVersion(48) {
				t.Errorf("got %+v %v", m, err)
			}
			if !c.Closed() {
				t.Error("connection not closed")
			}
		}},
		{"502 message on a 48 connection", func(t *testing.T, c *rawClient) {
			c.Connect("thing")
			c.Send(rawpyro.Invoke5(codec.ID5Serpent, 1, "thing", "echo", 1))
			m, err := c.Recv()
			if err != nil || m.Version != wire.Protocol48 || rawpyro.ConnectFailReason(t, m) != wire.MsgBadVersion {
				t.Errorf("got %+v %v", m, err)
			}
			if !c.Closed() {
				t.Error("connection not closed")
			}
		}},
		{"502 connect to unknown object", func(t *testing.T, c *rawClient) {
			c.Send(rawpyro.ConnectMessage5("nope"))
			m, err := c.Recv()
			if err != nil || m.Version != wire.Protocol502 || rawpyro.ConnectFailReason(t, m) != "unknown object" {
				t.Errorf("got %+v %v", m, err)
			}
		}},
		{"502 connect without handshake", func(t *testing.T, c *rawClient) {
			data, _ := codec.DefaultFor(codec.Pyro5, codec.ID5Serpent).Marshal(py.DictOf("object", "thing"))
			c.Send(&wire.Message{Version: wire.Protocol502, Type: wire.MsgConnect, SerializerID: codec.ID5Serpent, Data: data})
			m, err := c.Recv()
			if err != nil || m.Version != wire.Protocol502 || rawpyro.ConnectFailReason(t, m) != "'handshake'" {
				t.Errorf("got %+v %v", m, err)
			}
		}},
		{"502 connect without object", func(t *testing.T, c *rawClient) {
			// Pyro5's daemon: KeyError('object') from data["object"],
			// answered with str() of it in the client's serializer
			data, _ := codec.DefaultFor(codec.Pyro5, codec.ID5JSON).Marshal(py.DictOf("handshake", "hello"))
			c.Send(&wire.Message{Version: wire.Protocol502, Type: wire.MsgConnect, SerializerID: codec.ID5JSON, Data: data, CorrID: rawpyro.NewCorrID()})
			m, err := c.Recv()
			if err != nil || m.Version != wire.Protocol502 || m.SerializerID != codec.ID5JSON || rawpyro.ConnectFailReason(t, m) != "'object'" {
				t.Errorf("got %+v %v", m, err)
			}
		}},
		{"502 serializer id of Pyro4's pickle", func(t *testing.T, c *rawClient) {
			m := rawpyro.ConnectMessage5("thing")
			m.SerializerID = 4 + 1 // Pyro5 has ids 1-4; 5 is Pyro4's dill
			c.Send(m)
			r, err := c.Recv()
			if err != nil || r.Version != wire.Protocol502 || rawpyro.ConnectFailReason(t, r) != "message used serializer that is not accepted: 5" {
				t.Errorf("got %+v %v", r, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, dialRaw(t, u))
			if v, err := newProxy(t, u, nil).Call(context.Background(), "echo", "ok"); err != nil || v != "ok" {
				t.Fatalf("daemon stopped serving Pyro4: %v %v", v, err)
			}
			c := dialRaw(t, u)
			c.Connect5("thing")
			c.Send(rawpyro.Invoke5(codec.ID5Serpent, 1, "thing", "echo", "ok"))
			if m, err := c.Recv(); err != nil || rawpyro.Result(t, m) != "ok" {
				t.Fatalf("daemon stopped serving Pyro5: %v %v", m, err)
			}
		})
	}
}

// Pyro5 has no SERIALIZERS_ACCEPTED and its daemons take all four of its
// serializers; Pyro4's default leaves out msgpack. With the item at its
// default a Pyro5 client may use msgpack and a Pyro4 client may not; an
// item that was set applies to both protocols.
func TestSerializersAcceptedByProtocol(t *testing.T) {
	tests := []struct {
		name      string
		accepted  []string // nil: the built-in default
		env       string   // PYRO_SERIALIZERS_ACCEPTED, applied by DefaultConfig
		msgpack48 bool
		msgpack5  bool
		json5     bool
	}{
		{name: "default", msgpack48: false, msgpack5: true, json5: true},
		{name: "set in code without msgpack", accepted: []string{"serpent", "json"}, msgpack48: false, msgpack5: false, json5: true},
		{name: "set in code with msgpack", accepted: []string{"serpent", "msgpack"}, msgpack48: true, msgpack5: true, json5: false},
		{name: "default's value from the environment", env: "serpent,marshal,json", msgpack48: false, msgpack5: false, json5: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := BuiltinConfig()
			if tt.env != "" {
				t.Setenv("PYRO_SERIALIZERS_ACCEPTED", tt.env)
				var err error
				if cfg, err = DefaultConfig(); err != nil {
					t.Fatal(err)
				}
			}
			if tt.accepted != nil {
				cfg.SerializersAccepted = tt.accepted
			}
			_, u, _ := startDaemon(t, cfg)
			check := func(what string, version wire.Protocol, ser int, want bool) {
				t.Helper()
				c := dialRaw(t, u)
				var m *wire.Message
				if version == wire.Protocol502 {
					m = rawpyro.ConnectMessage5("thing")
					data, _ := codec.DefaultFor(codec.Pyro5, ser).Marshal(py.DictOf("handshake", "hello", "object", "thing"))
					m.Data, m.SerializerID = data, uint16(ser)
				} else {
					m = rawpyro.ConnectMessage("thing")
					data, _ := codec.Default(ser).Marshal(py.DictOf("handshake", "hello", "object", "thing"))
					m.Data, m.SerializerID = data, uint16(ser)
				}
				c.Send(m)
				r, err := c.Recv()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if got := r.Type == wire.MsgConnectOK; got != want {
					t.Errorf("%s: accepted %v, want %v (answer type %d, %q)", what, got, want, r.Type, r.Data)
				}
			}
			check("Pyro4 client, msgpack", wire.Protocol48, codec.IDMsgpack, tt.msgpack48)
			check("Pyro5 client, msgpack", wire.Protocol502, codec.ID5Msgpack, tt.msgpack5)
			check("Pyro5 client, json", wire.Protocol502, codec.ID5JSON, tt.json5)
			check("Pyro5 client, serpent", wire.Protocol502, codec.ID5Serpent, true)
		})
	}
}
