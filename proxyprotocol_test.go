package pyro_test

// PROTOCOL auto/4/5 (proxyprotocol.go): detection against real Pyro4 and
// Pyro5 daemons, the remembered choice, a peer that changes protocol,
// a forced wrong protocol, HMAC keys, and hostile answers.

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// switchRelay relays connections to whatever address target holds, and
// counts them: a server that can be "restarted" as another one.
func switchRelay(t *testing.T, target *atomic.Value) *testkit.Relay {
	return testkit.NewRelay(t, testkit.Listen(t), func() (net.Conn, error) {
		return net.Dial("tcp", target.Load().(string))
	})
}

func hostPort(t *testing.T, uri string) string {
	t.Helper()
	u, err := pyro.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	_, addr, err := u.Dial()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestProtocolPeerAnswers records how each generation's daemon answers a
// CONNECT of the other protocol, which is what auto detection relies on.
func TestProtocolPeerAnswers(t *testing.T) {
	pytest.Pyro5(t)
	echo4 := pytest.StartEchoServer(t)
	echo5 := pytest.StartEchoServer5(t, pytest.Echo5{})
	ask := func(uri string, v wire.Protocol) *wire.Message {
		t.Helper()
		c := rawpyro.Dial(t, "tcp", hostPort(t, uri))
		m := rawpyro.ConnectMessage("test.echoserver")
		m.Version = v
		if v == wire.Protocol502 {
			// Pyro5's CONNECT payload, in Pyro5's serpent (id 1 in both)
			m.Flags = 0
		}
		c.Send(m)
		reply, err := wire.ReadMessage(c.BR, &wire.Options{AnyProtocol: true})
		if err != nil {
			t.Fatalf("%s answered a %s CONNECT with %v", uri, v, err)
		}
		return reply
	}
	// Pyro4 4.82 reads 24 bytes, finds version 502 and refuses in 48
	r := ask(echo4, wire.Protocol502)
	if r.Version != wire.Protocol48 || r.Type != wire.MsgConnectFail || rawpyro.ConnectFailReason(t, r) != wire.MsgBadVersion {
		t.Errorf("Pyro4 answers a 502 CONNECT with %v %v %q", r.Version, r.Type, rawpyro.ConnectFailReason(t, r))
	}
	// Pyro5 reads 6 bytes, finds version 48 and refuses in 502 (marshal)
	r = ask(echo5, wire.Protocol48)
	if r.Version != wire.Protocol502 || r.Type != wire.MsgConnectFail || r.SerializerID != 2 {
		t.Fatalf("Pyro5 answers a 48 CONNECT with %v %v ser %d", r.Version, r.Type, r.SerializerID)
	}
	if v, err := codec.DefaultFor(codec.Pyro5, int(r.SerializerID)).Unmarshal(r.Data); err != nil || v != "invalid protocol version: 48" {
		t.Errorf("Pyro5's refusal: %q %v", v, err)
	}
}

// TestProtocolAutoDetect: in auto mode the first connection to a Pyro4
// daemon costs nothing extra, the first to a Pyro5 daemon one refused
// connection, and the choice is remembered: a later proxy for the same
// address connects once, in 502 at once.
func TestProtocolAutoDetect(t *testing.T) {
	pytest.Pyro5(t)
	ctx := context.Background()
	var t4, t5 atomic.Value
	t4.Store(hostPort(t, pytest.StartEchoServer(t)))
	t5.Store(hostPort(t, pytest.StartEchoServer5(t, pytest.Echo5{})))
	r4, r5 := switchRelay(t, &t4), switchRelay(t, &t5)
	for _, c := range []struct {
		r     *testkit.Relay
		proto int
		first int // connections the first proxy makes
	}{{r4, 48, 1}, {r5, 502, 2}} {
		uri := "PYRO:test.echoserver@" + c.r.HostPort()
		p := pyrotest.Proxy(t, uri, nil)
		if v, err := p.Call(ctx, "echo", "x"); err != nil || v != "x" {
			t.Fatalf("%d: echo %v %v", c.proto, v, err)
		}
		if err := p.Ping(ctx); err != nil {
			t.Errorf("%d: ping: %v", c.proto, err)
		}
		if p.Protocol() != c.proto || c.r.Accepted() != c.first {
			t.Errorf("first proxy: protocol %d after %d connections, want %d after %d", p.Protocol(), c.r.Accepted(), c.proto, c.first)
		}
		p.Close()
		// remembered: the next proxy (of any serializer) makes one
		// connection, and it is in the right protocol from its first byte
		c.r.Reset()
		q := pyrotest.Proxy(t, uri, nil, pyro.WithSerializer("json"))
		if v, err := q.Call(ctx, "echo", "y"); err != nil || v != "y" {
			t.Fatalf("%d: second proxy: %v %v", c.proto, v, err)
		}
		if q.Protocol() != c.proto || c.r.Accepted() != c.first+1 {
			t.Errorf("second proxy: protocol %d after %d connections in all, want %d after %d", q.Protocol(), c.r.Accepted(), c.proto, c.first+1)
		}
		if sent := c.r.Sent(); len(sent) < wire.SniffSize || int(binary.BigEndian.Uint16(sent[4:])) != c.proto {
			t.Errorf("second proxy's first message: % x", sent[:min(len(sent), 8)])
		}
	}
}

// TestProtocolPeerRestart: the daemon at an address is replaced by one of
// the other generation; the remembered protocol is refused once, the
// proxy connects in the new one and remembers that.
func TestProtocolPeerRestart(t *testing.T) {
	pytest.Pyro5(t)
	ctx := context.Background()
	addr4 := hostPort(t, pytest.StartEchoServer(t))
	addr5 := hostPort(t, pytest.StartEchoServer5(t, pytest.Echo5{}))
	var target atomic.Value
	target.Store(addr5)
	r := switchRelay(t, &target)
	uri := "PYRO:test.echoserver@" + r.HostPort()
	call := func(want int, conns int) {
		t.Helper()
		p := pyrotest.Proxy(t, uri, nil)
		defer p.Close()
		before := r.Accepted()
		if v, err := p.Call(ctx, "echo", 1); err != nil || !py.Same(v, int64(1)) {
			t.Fatalf("echo %v %v", v, err)
		}
		if p.Protocol() != want || r.Accepted()-before != conns {
			t.Errorf("spoke %d after %d connections, want %d after %d", p.Protocol(), r.Accepted()-before, want, conns)
		}
	}
	call(502, 2) // detected
	call(502, 1) // remembered
	target.Store(addr4)
	call(48, 2) // "restarted" as Pyro4: refused once, switched
	call(48, 1)
	target.Store(addr5)
	call(502, 2)
}

// TestProtocolForced: PROTOCOL=4 against Pyro5 and PROTOCOL=5 against
// Pyro4 fail with an error that says what the daemon speaks, and make one
// connection each.
func TestProtocolForced(t *testing.T) {
	pytest.Pyro5(t)
	ctx := context.Background()
	var t4, t5 atomic.Value
	t4.Store(hostPort(t, pytest.StartEchoServer(t)))
	t5.Store(hostPort(t, pytest.StartEchoServer5(t, pytest.Echo5{})))
	r4, r5 := switchRelay(t, &t4), switchRelay(t, &t5)
	for _, c := range []struct {
		r          *testkit.Relay
		choice     string
		want       string
		viaEnvName bool
	}{
		{r5, "4", "the daemon speaks protocol 502 (Pyro5), not 48 (Pyro4) (it answered \"invalid protocol version: 48\"), and the proxy is set to PROTOCOL=4", false},
		{r4, "5", "the daemon speaks protocol 48 (Pyro4), not 502 (Pyro5) (it answered \"invalid data or unsupported protocol version\"), and the proxy is set to PROTOCOL=5", true},
	} {
		cfg := pyro.BuiltinConfig()
		var opts []pyro.ProxyOption
		if c.viaEnvName {
			if err := cfg.ApplyEnv([]string{"PYRO_PROTOCOL=" + c.choice}); err != nil {
				t.Fatal(err)
			}
		} else {
			opts = append(opts, pyro.WithProtocol(c.choice))
		}
		p := pyrotest.Proxy(t, "PYRO:test.echoserver@"+c.r.HostPort(), cfg, opts...)
		_, err := p.Call(ctx, "echo", 1)
		if !errors.Is(err, pyro.ErrProtocol) || !errors.Is(err, pyro.ErrCommunication) || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("PROTOCOL=%s: %v", c.choice, err)
		}
		if c.r.Accepted() != 1 {
			t.Errorf("PROTOCOL=%s: %d connections", c.choice, c.r.Accepted())
		}
	}
}

// TestProtocolHMAC: a proxy with an HMAC key never speaks 502: asked to,
// it is refused when made; in auto mode it does not switch to 502 when a
// Pyro5 daemon refuses 48, and says why.
func TestProtocolHMAC(t *testing.T) {
	pytest.Pyro5(t)
	ctx := context.Background()
	key := pyro.WithHMACKey([]byte("k"))
	if _, err := pyro.NewProxy("PYRO:x@127.0.0.1:1", nil, key, pyro.WithProtocol("5")); !errors.Is(err, pyro.ErrSecurity) || !strings.Contains(err.Error(), "no HMAC") {
		t.Errorf("WithProtocol(5) with an HMAC key: %v", err)
	}
	cfg := pyro.BuiltinConfig()
	cfg.HMACKey = []byte("k")
	cfg.Protocol = "5"
	if _, err := pyro.NewProxy("PYRO:x@127.0.0.1:1", cfg); !errors.Is(err, pyro.ErrSecurity) {
		t.Errorf("PROTOCOL=5 with HMAC_KEY: %v", err)
	}
	var t5 atomic.Value
	t5.Store(hostPort(t, pytest.StartEchoServer5(t, pytest.Echo5{})))
	r := switchRelay(t, &t5)
	uri := "PYRO:test.echoserver@" + r.HostPort()
	// an unkeyed proxy teaches the table that the address speaks 502...
	if _, err := pyrotest.Proxy(t, uri, nil).Call(ctx, "echo", 1); err != nil {
		t.Fatal(err)
	}
	// ...which a keyed one ignores: it sends its CONNECT in 48 only
	r.Reset()
	before := r.Accepted()
	p := pyrotest.Proxy(t, uri, nil, key)
	_, err := p.Call(ctx, "echo", 1)
	if !errors.Is(err, pyro.ErrProtocol) || !strings.Contains(err.Error(), "the proxy has an HMAC key, and protocol 502 has no HMAC, so it speaks only 48") {
		t.Errorf("keyed proxy against Pyro5: %v", err)
	}
	if n := r.Accepted() - before; n != 1 {
		t.Errorf("keyed proxy made %d connections", n)
	}
	for _, h := range rawpyro.Headers(t, r.Sent()) {
		if h.Version != wire.Protocol48 {
			t.Errorf("keyed proxy sent a %v message", h.Version)
		}
	}
	if bad := pyro.WithProtocol("6"); bad != nil {
		if _, err := pyro.NewProxy(uri, nil, bad); err == nil || !strings.Contains(err.Error(), "must be 4, 5 or auto") {
			t.Errorf("WithProtocol(6): %v", err)
		}
	}
	cfg = pyro.BuiltinConfig()
	cfg.Protocol = "502"
	var ce *pyro.ConfigError
	if err := cfg.Validate(); !errors.As(err, &ce) || ce.Item != "PROTOCOL" {
		t.Errorf("PROTOCOL=502: %v", err)
	}
}
