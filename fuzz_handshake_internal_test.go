package pyro

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"hash/fnv"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// memConn is an in-memory connection for the fuzz target: reads come from
// the input, writes are collected, deadlines do nothing.
type memConn struct {
	r      *bytes.Reader
	w      bytes.Buffer
	remote net.Addr
}

func (m *memConn) Read(b []byte) (int, error)       { return m.r.Read(b) }
func (m *memConn) Write(b []byte) (int, error)      { return m.w.Write(b) }
func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090} }
func (m *memConn) RemoteAddr() net.Addr             { return m.remote }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// fuzzPeer makes a client address from the input, so that the inputs
// come from many hosts.
func fuzzPeer(in []byte) net.Addr {
	h := fnv.New32a()
	h.Write(in)
	s := h.Sum32()
	return &net.TCPAddr{IP: net.IPv4(10, byte(s>>16), byte(s>>8), byte(s)), Port: 40000}
}

// fuzzDaemon is a daemon with a Thing that never serves: the fuzz target
// drives its connections by hand.
func fuzzDaemon(t testing.TB, opts ...DaemonOption) *Daemon {
	t.Helper()
	cfg := BuiltinConfig()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	d, err := NewDaemon(cfg, append([]DaemonOption{WithListener(fakeListener{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(&Thing{}, "thing"); err != nil {
		t.Fatal(err)
	}
	return d
}

// fakeListener gives a daemon an address without a socket.
type fakeListener struct{}

func (fakeListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (fakeListener) Close() error              { return nil }
func (fakeListener) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090} }

// FuzzHandshake feeds arbitrary bytes, as they arrive after TLS, to the
// handshake of three daemons: an open one accepting every serializer, one
// with an HMAC key in the replay-protected mode, and one that requires a
// passphrase behind host and per-host validators. None may panic; the
// first two answer with at most one message, the passphrase daemon with a
// CONNECTFAIL, or a CONNECTOK with a challenge and at most one exception
// answer to the proof; what they answer must be valid messages; the
// passphrase daemon must never accept (its passphrase is random), nor the
// keyed one without the key's signature.
func FuzzHandshake(f *testing.F) {
	var secret [16]byte
	rand.Read(secret[:])
	allow, _ := AllowHosts("10.0.0.0/8")
	open := fuzzDaemon(f)
	keyed := fuzzDaemon(f, WithReplayProtectedHMAC([]byte("fuzz key")))
	locked := fuzzDaemon(f, WithConnValidators(allow, MaxConnectionsPerHost(2)))
	locked.SetAllowedIdentifications([]string{hex.EncodeToString(secret[:])})
	f.Add([]byte{})
	f.Add([]byte("PYRO"))
	for _, seed := range authFuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, d := range []*Daemon{open, keyed, locked} {
			mc := &memConn{r: bytes.NewReader(in), remote: fuzzPeer(in)}
			c := d.newConn(mc)
			ok := c.handshake() == nil
			if c.release != nil {
				c.release()
			}
			if mc.w.Len() == 0 {
				if ok {
					t.Fatal("accepted without answering")
				}
				continue
			}
			br := bufio.NewReader(&mc.w)
			m, err := wire.ReadMessage(br, &wire.Options{HMACKey: d.wireOpts.HMACKey})
			if err != nil {
				t.Fatalf("invalid answer: %v", err)
			}
			switch {
			case ok && m.Type != wire.MsgConnectOK, !ok && d != locked && m.Type != wire.MsgConnectFail:
				t.Fatalf("handshake %v answered %v", ok, m.Type)
			case ok && d == locked:
				t.Fatal("passphrase daemon accepted")
			}
			if ok && d == keyed {
				if _, has := m.Annotation(wire.AnnBindNonce); !has {
					t.Fatal("bound mode accepted without a nonce")
				}
			}
			if d == locked && m.Type == wire.MsgConnectOK {
				if v, err := codec.Default(int(m.SerializerID)).Unmarshal(m.Data); err != nil || !strings.Contains(py.Repr(v), "'challenge'") {
					t.Fatalf("CONNECTOK without a challenge: %v %v", py.Repr(v), err)
				}
				if br.Buffered() > 0 || mc.w.Len() > 0 {
					r, err := wire.ReadMessage(br, nil)
					if err != nil {
						t.Fatalf("invalid answer to the proof: %v", err)
					}
					if r.Type != wire.MsgResult || r.Flags&wire.FlagException == 0 {
						t.Fatalf("proof answered with %v flags %#x", r.Type, r.Flags)
					}
				}
			} else if d == locked && m.Type != wire.MsgConnectFail {
				t.Fatalf("passphrase daemon answered %v", m.Type)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatal("more answers than allowed")
			}
		}
	})
}

// authFuzzSeeds are inputs that reach the pending state of the
// passphrase daemon: a CONNECT asking to authenticate followed by proofs
// of every malformed kind, calls before authenticating, a second
// CONNECT, a PING, a replayed pyrogo-auth-v1 handshake.
func authFuzzSeeds() [][]byte {
	cd := codec.Default(codec.IDSerpent)
	msg := func(m *wire.Message) []byte {
		b, _ := wire.AppendMessage(nil, m, &wire.Options{})
		return b
	}
	connect := func(shake any) []byte {
		data, _ := cd.Marshal(py.DictOf("handshake", shake, "object", "thing"))
		return msg(&wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: codec.IDSerpent, Data: data})
	}
	call := func(flags wire.Flags, obj, method string, args ...any) []byte {
		m := rawpyro.Invoke(codec.IDSerpent, 1, obj, method, args...)
		m.Flags |= flags
		return msg(m)
	}
	v2 := connect(py.DictOf("auth", AuthScheme, "data", "hello"))
	nonce, mac := strings.Repeat("ab", 16), strings.Repeat("cd", 32)
	seeds := [][]byte{
		connect(py.DictOf("auth", "pyrogo-auth-v1", "nonce", nonce, "time", int64(1700000000), "mac", mac, "data", "hello")),
		connect(py.DictOf("auth", AuthScheme)),
		v2,
	}
	for _, next := range [][]byte{
		call(0, DaemonObjectID, AuthMethod, nonce, "127.0.0.1:9090", "", mac),
		call(0, DaemonObjectID, AuthMethod, nonce, "127.0.0.1:1", "", mac),
		call(0, DaemonObjectID, AuthMethod, nonce, "127.0.0.1:9090", strings.Repeat("ef", 32), mac),
		call(0, DaemonObjectID, AuthMethod, nonce, strings.Repeat("9", 600), "", mac),
		call(0, DaemonObjectID, AuthMethod, strings.Repeat("ab", 5000), "127.0.0.1:9090", "", mac),
		call(0, DaemonObjectID, AuthMethod, 12, nil, 3.5, []byte("x")),
		call(0, DaemonObjectID, AuthMethod, "the passphrase"),
		call(wire.FlagOneway, DaemonObjectID, AuthMethod, nonce, "127.0.0.1:9090", "", mac),
		call(wire.FlagBatch, DaemonObjectID, AuthMethod, nonce, "127.0.0.1:9090", "", mac),
		call(0, "thing", "echo", "before authenticating"),
		call(0, DaemonObjectID, "get_next_stream_item", "0123"),
		append(call(0, DaemonObjectID, AuthMethod, nonce, "127.0.0.1:9090", "", mac), call(0, "thing", "echo", 1)...),
		msg(&wire.Message{Type: wire.MsgPing, SerializerID: wire.PingSerializerID, Data: []byte("ping")}),
		v2,
	} {
		seeds = append(seeds, append(append([]byte(nil), v2...), next...))
	}
	return seeds
}
