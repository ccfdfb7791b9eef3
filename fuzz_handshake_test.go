package pyro

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"hash/fnv"
	"io"
	"net"
	"testing"
	"time"

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

// fuzzPeer makes a client address from the input, so that the per-host
// failure count does not lock every input out.
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
// passphrase behind host and per-host validators. None may panic or
// answer with more than one message; what they answer must be a valid
// message; the passphrase daemon must never accept (its passphrase is
// random), nor the keyed one without the key's signature.
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
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, d := range []*Daemon{open, keyed, locked} {
			mc := &memConn{r: bytes.NewReader(in), remote: fuzzPeer(in)}
			c := d.newConn(mc)
			ok := c.handshake()
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
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatal("more than one answer")
			}
			switch {
			case ok && m.Type != wire.MsgConnectOK, !ok && m.Type != wire.MsgConnectFail:
				t.Fatalf("handshake %v answered %v", ok, m.Type)
			case ok && d == locked:
				t.Fatal("passphrase daemon accepted")
			}
			if ok && d == keyed {
				if _, has := m.Annotation(wire.AnnBindNonce); !has {
					t.Fatal("bound mode accepted without a nonce")
				}
			}
		}
	})
}
