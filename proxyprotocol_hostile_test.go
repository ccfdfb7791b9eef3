package pyro_test

// Hostile answers to a proxy's CONNECT and calls in protocol 502 (and to
// auto detection): a fake daemon that flips protocols forever, answers in
// the wrong protocol, sends bad magic, lies about lengths, sends zip bombs
// or oversized annotations. Each ends with a clear error after a bounded
// number of connections and bounded memory.

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// fakeDaemon accepts connections and lets answer handle each after the
// CONNECT was read; it counts connections.
type fakeDaemon struct {
	ln       net.Listener
	accepted atomic.Int32
	wg       sync.WaitGroup
}

func startFake(t *testing.T, answer func(nc net.Conn, connect *wire.Message)) *fakeDaemon {
	t.Helper()
	f := &fakeDaemon{ln: testkit.Listen(t)}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			nc, err := f.ln.Accept()
			if err != nil {
				return
			}
			f.accepted.Add(1)
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer nc.Close()
				m, err := wire.ReadMessage(nc, &wire.Options{AnyProtocol: true})
				if err != nil {
					return
				}
				answer(nc, m)
			}()
		}
	}()
	t.Cleanup(func() { f.ln.Close(); f.wg.Wait() })
	return f
}

func (f *fakeDaemon) uri() string { return "PYRO:obj@" + f.ln.Addr().String() }

func send(nc net.Conn, m *wire.Message) {
	b, err := wire.AppendMessage(nil, m, &wire.Options{})
	if err != nil {
		panic(err)
	}
	nc.Write(b)
}

// refusal is the other generation's version refusal of m.
func refusal(m *wire.Message) *wire.Message {
	if m.Version == wire.Protocol502 {
		data, _ := codec.DefaultFor(codec.Pyro4, codec.IDMarshal).Marshal(wire.MsgBadVersion)
		return &wire.Message{Version: wire.Protocol48, Type: wire.MsgConnectFail, SerializerID: codec.IDMarshal, Data: data}
	}
	data, _ := codec.DefaultFor(codec.Pyro5, codec.ID5Marshal).Marshal(wire.Msg502BadVersion(48))
	return &wire.Message{Version: wire.Protocol502, Type: wire.MsgConnectFail, SerializerID: codec.ID5Marshal, Data: data}
}

// connectOK5 is a Pyro5 CONNECTOK for m exposing echo.
func connectOK5(m *wire.Message) *wire.Message {
	meta := py.NewDict(3)
	meta.SetString("methods", []any{"echo"})
	meta.SetString("oneway", []any{})
	meta.SetString("attrs", []any{})
	d := py.NewDict(2)
	d.SetString("handshake", "hello")
	d.SetString("meta", meta)
	data, _ := codec.DefaultFor(codec.Pyro5, codec.ID5Serpent).Marshal(d)
	return &wire.Message{Version: wire.Protocol502, Type: wire.MsgConnectOK, Seq: m.Seq, SerializerID: codec.ID5Serpent, Data: data}
}

// header502 builds a raw 502 header.
func header502(typ wire.MsgType, ser uint8, flags uint16, seq uint16, dataLen, annLen uint32, magic uint16) []byte {
	h := make([]byte, 40)
	copy(h, "PYRO")
	binary.BigEndian.PutUint16(h[4:], 502)
	h[6], h[7] = byte(typ), ser
	binary.BigEndian.PutUint16(h[8:], flags)
	binary.BigEndian.PutUint16(h[10:], seq)
	binary.BigEndian.PutUint32(h[12:], dataLen)
	binary.BigEndian.PutUint32(h[16:], annLen)
	binary.BigEndian.PutUint16(h[38:], magic)
	return h
}

// allocDuring returns the bytes allocated while f runs.
func allocDuring(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestProtocolHostileAnswers(t *testing.T) {
	ctx := context.Background()
	call := func(t *testing.T, f *fakeDaemon, opts ...pyro.ProxyOption) error {
		t.Helper()
		cfg := pyro.BuiltinConfig()
		cfg.MaxMessageSize = 1 << 20
		p := pyrotest.Proxy(t, f.uri(), cfg, append([]pyro.ProxyOption{pyro.WithTimeout(testkit.Bound())}, opts...)...)
		_, err := p.Call(ctx, "echo", 1)
		return err
	}
	t.Run("flip_flop", func(t *testing.T) {
		// every CONNECT is refused as the other generation would: the
		// proxy switches once, then gives up
		f := startFake(t, func(nc net.Conn, m *wire.Message) { send(nc, refusal(m)) })
		err := call(t, f)
		if !errors.Is(err, pyro.ErrProtocol) || !strings.Contains(err.Error(), "the daemon speaks protocol 48 (Pyro4), not 502 (Pyro5)") {
			t.Errorf("flip-flop: %v", err)
		}
		if n := f.accepted.Load(); n != 2 {
			t.Errorf("flip-flop: %d connections", n)
		}
	})
	t.Run("other_protocol_not_a_refusal", func(t *testing.T) {
		f := startFake(t, func(nc net.Conn, m *wire.Message) { send(nc, connectOK5(m)) })
		err := call(t, f, pyro.WithProtocol("4"))
		if !errors.Is(err, pyro.ErrProtocol) || !strings.Contains(err.Error(), "answered a protocol 48 (Pyro4) CONNECT with a protocol 502 (Pyro5) CONNECTOK") {
			t.Errorf("502 CONNECTOK to a 48 CONNECT: %v", err)
		}
		if f.accepted.Load() != 1 {
			t.Errorf("%d connections", f.accepted.Load())
		}
	})
	t.Run("other_refusal_text", func(t *testing.T) {
		// a refusal in 502 that is not Pyro5's version refusal: no switch
		f := startFake(t, func(nc net.Conn, m *wire.Message) {
			r := refusal(m)
			r.Data, _ = codec.DefaultFor(codec.Pyro5, codec.ID5Marshal).Marshal("go away")
			send(nc, r)
		})
		err := call(t, f)
		if !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "go away") || f.accepted.Load() != 1 {
			t.Errorf("other refusal: %v after %d connections", err, f.accepted.Load())
		}
	})
	t.Run("bad_magic", func(t *testing.T) {
		f := startFake(t, func(nc net.Conn, m *wire.Message) {
			nc.Write(append(header502(wire.MsgConnectOK, 1, 0, m.Seq, 2, 0, 0x1234), "{}"...))
		})
		err := call(t, f, pyro.WithProtocol("5"))
		if !errors.Is(err, pyro.ErrProtocol) || !strings.Contains(err.Error(), wire.Msg502BadHeader) {
			t.Errorf("bad magic: %v", err)
		}
	})
	t.Run("lying_length", func(t *testing.T) {
		// a CONNECTOK that claims 1000 KiB and sends 10 bytes
		f := startFake(t, func(nc net.Conn, m *wire.Message) {
			nc.Write(append(header502(wire.MsgConnectOK, 1, 0, m.Seq, 1000<<10, 0, 0x4dc5), "0123456789"...))
		})
		var err error
		n := allocDuring(func() { err = call(t, f, pyro.WithProtocol("5")) })
		if !errors.Is(err, pyro.ErrConnectionClosed) && !errors.Is(err, pyro.ErrCommunication) {
			t.Errorf("lying length: %v", err)
		}
		t.Logf("lying length: %d bytes allocated for a claimed 1000 KiB", n)
		if n > 512<<10 {
			t.Errorf("lying length: %d bytes allocated", n)
		}
	})
	t.Run("too_large", func(t *testing.T) {
		f := startFake(t, func(nc net.Conn, m *wire.Message) {
			nc.Write(header502(wire.MsgConnectOK, 1, 0, m.Seq, 1<<30, 0, 0x4dc5))
		})
		if err := call(t, f, pyro.WithProtocol("5")); !errors.Is(err, pyro.ErrMessageTooLarge) && !strings.Contains(errText(err), "too large") {
			t.Errorf("1 GiB claim: %v", err)
		}
	})
	t.Run("annotations_too_large", func(t *testing.T) {
		f := startFake(t, func(nc net.Conn, m *wire.Message) {
			nc.Write(header502(wire.MsgConnectOK, 1, 0, m.Seq, 2, 70000, 0x4dc5))
		})
		if err := call(t, f, pyro.WithProtocol("5")); !errors.Is(err, pyro.ErrProtocol) || !strings.Contains(err.Error(), "annotations too large") {
			t.Errorf("70000 bytes of annotations: %v", err)
		}
	})
	t.Run("zip_bomb", func(t *testing.T) {
		var z bytes.Buffer
		w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		w.Write(make([]byte, 64<<20))
		w.Close()
		bomb := z.Bytes()
		f := startFake(t, func(nc net.Conn, m *wire.Message) {
			send(nc, connectOK5(m))
			if _, err := wire.ReadMessage(nc, &wire.Options{Protocol: wire.Protocol502}); err != nil {
				return
			}
			nc.Write(append(header502(wire.MsgResult, 1, 0x02, 1, uint32(len(bomb)), 0, 0x4dc5), bomb...))
		})
		var err error
		n := allocDuring(func() { err = call(t, f, pyro.WithProtocol("5")) })
		if !errors.Is(err, pyro.ErrMessageTooLarge) && !strings.Contains(errText(err), "too large") {
			t.Errorf("zip bomb: %v", err)
		}
		t.Logf("zip bomb of %d bytes (64 MiB inflated): %d bytes allocated", len(bomb), n)
		if n > 8<<20 {
			t.Errorf("zip bomb: %d bytes allocated", n)
		}
	})
	t.Run("result_in_48", func(t *testing.T) {
		// the handshake in 502, then a RESULT in 48: the connection
		// speaks 502 only
		f := startFake(t, func(nc net.Conn, m *wire.Message) {
			send(nc, connectOK5(m))
			req, err := wire.ReadMessage(nc, &wire.Options{Protocol: wire.Protocol502})
			if err != nil {
				return
			}
			data, _ := codec.DefaultFor(codec.Pyro4, codec.IDSerpent).Marshal(int64(1))
			send(nc, &wire.Message{Version: wire.Protocol48, Type: wire.MsgResult, Seq: req.Seq, SerializerID: codec.IDSerpent, Data: data})
		})
		if err := call(t, f, pyro.WithProtocol("5")); !errors.Is(err, pyro.ErrProtocol) || !strings.Contains(err.Error(), "invalid protocol version: 48") {
			t.Errorf("48 RESULT on a 502 connection: %v", err)
		}
	})
	t.Run("connectok_not_a_dict", func(t *testing.T) {
		f := startFake(t, func(nc net.Conn, m *wire.Message) {
			r := connectOK5(m)
			r.Data, _ = codec.DefaultFor(codec.Pyro5, codec.ID5Serpent).Marshal("hello")
			send(nc, r)
		})
		if err := call(t, f, pyro.WithProtocol("5")); !errors.Is(err, pyro.ErrProtocol) || !strings.Contains(err.Error(), "not Pyro5's {'handshake', 'meta'} dict") {
			t.Errorf("CONNECTOK holding a str: %v", err)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
