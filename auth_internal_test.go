package pyro

// Passphrase authentication (issue 5 item 9, issue 8 item 1): the
// challenge-response, mutual authentication, what a recorded or relayed
// proof is worth, the Python snippet of the README, endpoints behind NAT
// and forwarders, unix sockets. Brute force is in auth_limit_internal_test.go,
// the hostile-client table in auth_hostile_internal_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// ---------------------------------------------------------------------------
// helpers

// withPenaltyUnit scales the delays of the daemon's guess limiter (1 s
// normally), so that tests with many wrong proofs stay short.
func withPenaltyUnit(u time.Duration) DaemonOption {
	return withDaemonHook(func(d *Daemon) { d.sec.auth.limit.unit = u })
}

// withDaemonHook runs f on the daemon NewDaemon made, before it returns
// it: tests adjust internal state with it.
func withDaemonHook(f func(*Daemon)) DaemonOption {
	return daemonOption(func(c *daemonConfig) { c.afterNew = append(c.afterNew, f) })
}

// authDaemon serves a Thing with passphrases; opts may adjust the
// daemon's authentication state before it serves. seen records what the
// HandshakeFunc saw.
func authDaemon(t *testing.T, ids map[string]string, opts ...DaemonOption) (*Daemon, URI, *testkit.LogRecorder, *[]string) {
	t.Helper()
	return authDaemonCfg(t, nil, ids, opts...)
}

// authDaemonCfg is authDaemon with a configuration.
func authDaemonCfg(t *testing.T, cfg *Config, ids map[string]string, opts ...DaemonOption) (*Daemon, URI, *testkit.LogRecorder, *[]string) {
	t.Helper()
	rec := &testkit.LogRecorder{}
	var mu sync.Mutex
	var seen []string
	shake := WithHandshake(func(_ context.Context, c *ConnInfo, data any) (any, error) {
		mu.Lock()
		seen = append(seen, c.Identity+"="+py.Repr(data))
		mu.Unlock()
		return "welcome", nil
	})
	setIDs := withDaemonHook(func(d *Daemon) { d.SetAllowedIdentities(ids) })
	d, u, _ := startDaemon(t, cfg, append([]DaemonOption{WithLogger(rec.Logger()), shake, setIDs}, opts...)...)
	return d, u, rec, &seen
}

// authConnect sends a CONNECT that asks to authenticate (serpent, with
// metadata for "thing") and returns the reply, nil when the daemon closed.
func (c *rawClient) authConnect() *wire.Message {
	c.T.Helper()
	return c.ConnectWith(py.DictOf("auth", AuthScheme, "data", "hello"), "thing")
}

// challengeOf returns the challenge of a CONNECTOK, "" when there is none.
func challengeOf(t testing.TB, m *wire.Message) string {
	t.Helper()
	if m == nil || m.Type != wire.MsgConnectOK {
		t.Fatalf("got %v, want CONNECTOK with a challenge", m)
	}
	v, err := codec.Default(int(m.SerializerID)).Unmarshal(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := v.(*py.Dict)
	if m.Flags&wire.FlagMetaOnConnect != 0 {
		meta, _ := d.GetString("meta")
		if md, _ := meta.(*py.Dict); md.Len() != 0 {
			t.Errorf("metadata before authentication: %s", py.Repr(meta))
		}
		h, _ := d.GetString("handshake")
		d, _ = h.(*py.Dict)
	}
	ch, _ := d.GetString("challenge")
	s, _ := ch.(string)
	return s
}

// endpoint is the daemon's address as the client's socket sees it.
func (c *rawClient) endpoint() string { return clientEndpoint(c.NC.RemoteAddr()) }

// proofArgs are the arguments of authenticate for key.
func proofArgs(key []byte, challenge, endpoint, certHash string) []any {
	p := &authProof{cnonce: strings.Repeat("5a", 16), endpoint: endpoint, certHash: certHash}
	p.mac = hex.EncodeToString(authMAC(key, authClient, challenge, p))
	return []any{p.cnonce, p.endpoint, p.certHash, p.mac}
}

// prove sends authenticate(args...) and returns the reply, nil when the
// daemon closed the connection without one.
func (c *rawClient) prove(args ...any) *wire.Message {
	c.T.Helper()
	c.Send(rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, AuthMethod, args...))
	m, err := c.Recv()
	if err != nil {
		return nil
	}
	return m
}

// login runs the whole exchange with key; it returns the answer to the
// proof.
func (c *rawClient) login(key []byte) *wire.Message {
	c.T.Helper()
	ch := challengeOf(c.T, c.authConnect())
	return c.prove(proofArgs(key, ch, c.endpoint(), "")...)
}

// accepted reports whether m is the daemon's answer to a right proof of
// key (its own MAC checked is the test's business).
func accepted(m *wire.Message) bool {
	return m != nil && m.Type == wire.MsgResult && m.Flags&wire.FlagException == 0
}

// refusedWith checks that m is the exception answer to a proof with a
// message that starts with want, and that the connection is closed after.
func refusedWith(t *testing.T, c *rawClient, m *wire.Message, want string) {
	t.Helper()
	if m == nil {
		t.Errorf("closed without an answer, want %q", want)
		return
	}
	if m.Type != wire.MsgResult || m.Flags&wire.FlagException == 0 {
		t.Errorf("got %v flags %#x, want the exception %q", m.Type, m.Flags, want)
		return
	}
	if e := rawpyro.ExceptionOf(t, m); e.Class != "Pyro4.errors.SecurityError" || !strings.HasPrefix(e.Message(), want) {
		t.Errorf("got %s: %s, want SecurityError %q", e.Class, e.Message(), want)
	}
	if !c.Closed() {
		t.Error("connection not closed after the refusal")
	}
}

// forwarded returns a listener for a daemon and a relay in front of it,
// so that the daemon can be told the relay's address from the start.
func forwarded(t *testing.T) (net.Listener, *testkit.Relay) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, testkit.TCPRelay(t, ln.Addr().String())
}

// via returns u reached through a relay.
func via(u URI, tp *testkit.Relay) URI {
	u.Host, u.Port = tp.Host(), tp.Port()
	return u
}

// ---------------------------------------------------------------------------
// the exchange

func TestPassphraseAuth(t *testing.T) {
	ln, tp := forwarded(t) // the relay is the daemon's own forwarder here, recording
	d, u, rec, seen := authDaemon(t, map[string]string{"alice": "correct horse", "bob": "battery staple"},
		WithListener(ln), WithAuthEndpoints(tp.HostPort()))
	ctx := context.Background()
	p := newProxy(t, via(u, tp), nil, WithIdentification("battery staple"), WithHandshakeData("app data"))
	if v, err := p.Call(ctx, "echo", 1); err != nil || v != int64(1) {
		t.Fatal(v, err)
	}
	// the application's handshake sees the identity and its own data only
	if len(*seen) != 1 || (*seen)[0] != "bob='app data'" {
		t.Errorf("HandshakeFunc saw %v", *seen)
	}
	// the passphrase never travels, nor its key
	sent := rawpyro.Split(t, tp.Sent())
	for _, m := range sent {
		for _, secret := range [][]byte{[]byte("battery"), deriveAuthKey("battery staple"), []byte(hex.EncodeToString(deriveAuthKey("battery staple")))} {
			if bytes.Contains(m, secret) {
				t.Errorf("secret %q on the wire", secret)
			}
		}
	}
	if len(sent) < 3 {
		t.Errorf("%d messages: want CONNECT, authenticate, the call", len(sent))
	}
	// wrong and absent passphrases are refused with the reason, before
	// the application's handshake
	_, err := newProxy(t, u, nil, WithIdentification("Correct horse")).Call(ctx, "echo", 1)
	wantDenied(t, err, "rejected: security reasons: authentication failed")
	_, err = newProxy(t, u, nil).Call(ctx, "echo", 1)
	wantDenied(t, err, "rejected: security reasons: passphrase authentication required")
	if len(*seen) != 1 {
		t.Errorf("HandshakeFunc ran for refused clients: %v", *seen)
	}
	logs := rec.Find("connection refused")
	if len(logs) != 2 || logs[0]["detail"] != "wrong passphrase" || logs[1]["detail"] != "handshake carries no credentials" {
		t.Errorf("refusals logged as %v", logs)
	}
	for _, l := range logs {
		if strings.Contains(fmt.Sprint(l), "horse") {
			t.Errorf("passphrase in the log: %v", l)
		}
	}
	// the calls of an authenticated connection carry the identity
	if v, err := p.Call(ctx, "echo", "again"); err != nil || v != "again" {
		t.Error(v, err)
	}
	// identifications off again: anyone may connect
	d.SetAllowedIdentifications(nil)
	if _, err := newProxy(t, u, nil).Call(ctx, "echo", 1); err != nil {
		t.Errorf("authentication off: %v", err)
	}
	// autoproxies inherit the identification
	d.SetAllowedIdentifications([]string{"battery staple"})
	child, err := newProxy(t, u, nil, WithIdentification("battery staple")).Call(ctx, "get_child")
	if err != nil {
		t.Fatal(err)
	}
	cp := child.(*Proxy)
	defer cp.Close()
	if v, err := cp.Call(ctx, "name"); err != nil || v != "kid" {
		t.Errorf("autoproxy call: %v %v", v, err)
	}
}

// TestPassphraseIdentityInCalls: methods and the HandshakeFunc see which
// passphrase the client proved.
func TestPassphraseIdentityInCalls(t *testing.T) {
	_, u, _, _ := authDaemon(t, map[string]string{"alice": "a-pass", "bob": "b-pass"})
	for who, pass := range map[string]string{"alice": "a-pass", "bob": "b-pass"} {
		var got string
		check := WithHandshakeCheck(func(resp any) error { got = fmt.Sprint(resp); return nil })
		p := newProxy(t, u, nil, WithIdentification(pass), check)
		if _, err := p.Call(context.Background(), "echo", 1); err != nil {
			t.Fatal(who, err)
		}
		if got != "welcome" {
			t.Errorf("%s: the handshake check saw %q, want the HandshakeFunc's response", who, got)
		}
	}
}

// TestPassphraseMutual: a proxy with an identification refuses a daemon
// that does not prove the passphrase: one without passphrases, an
// impostor that asks for the proof and answers with a wrong one, and one
// that asks a challenge of the wrong form.
func TestPassphraseMutual(t *testing.T) {
	ctx := context.Background()
	_, open, _ := startDaemon(t, nil)
	_, err := newProxy(t, open, nil, WithIdentification("pw")).Call(ctx, "echo", 1)
	if !errors.Is(err, ErrSecurity) || !strings.Contains(err.Error(), "did not ask for the passphrase") {
		t.Errorf("daemon without passphrases: %v", err)
	}
	for _, tc := range []struct {
		name   string
		answer func(challenge string, args []any) any
		want   string
	}{
		{"wrong proof", func(string, []any) any {
			return py.DictOf("mac", strings.Repeat("00", 32), "data", "hello")
		}, "the daemon's proof of the passphrase is wrong"},
		{"client's proof sent back", func(_ string, args []any) any {
			return py.DictOf("mac", args[3], "data", "hello")
		}, "the daemon's proof of the passphrase is wrong"},
		{"no proof", func(string, []any) any { return "hello" }, "the daemon's proof of the passphrase is wrong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, served := impostor(t, func(challenge string, args []any) any { return tc.answer(challenge, args) })
			u, _ := ParseURI("PYRO:thing@" + addr)
			_, err := newProxy(t, u, nil, WithIdentification("pw")).Call(ctx, "echo", 1)
			if !errors.Is(err, ErrSecurity) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want SecurityError %q", err, tc.want)
			}
			if n := served(); n != 0 {
				t.Errorf("the proxy made %d calls on the impostor", n)
			}
		})
	}
}

// impostor runs a fake daemon that asks for a proof and answers it with
// answer; it returns its address and the number of calls (other than
// authenticate) it received.
func impostor(t *testing.T, answer func(challenge string, args []any) any) (string, func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	calls := 0
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(nc)
				m, err := wire.ReadMessage(br, nil)
				if err != nil {
					return
				}
				cd := codec.Default(int(m.SerializerID))
				challenge := strings.Repeat("c3", 32)
				ok, _ := cd.Marshal(py.DictOf("handshake", py.DictOf("auth", AuthScheme, "challenge", challenge), "meta", py.NewDict(0)))
				wire.WriteMessage(nc, &wire.Message{Type: wire.MsgConnectOK, Flags: wire.FlagMetaOnConnect, Seq: m.Seq, SerializerID: m.SerializerID, Data: ok}, nil)
				for {
					m, err := wire.ReadMessage(br, nil)
					if err != nil {
						return
					}
					call, err := cd.UnmarshalCall(m.Data)
					if err != nil {
						return
					}
					var v any = nil
					if call.Method == AuthMethod {
						v = answer(challenge, call.Args)
					} else {
						mu.Lock()
						calls++
						mu.Unlock()
						v = "served by the impostor"
					}
					data, _ := cd.Marshal(v)
					wire.WriteMessage(nc, &wire.Message{Type: wire.MsgResult, Seq: m.Seq, SerializerID: m.SerializerID, Data: data}, nil)
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return calls }
}

// TestPassphraseV1Refused: the old scheme, whose proofs named no server,
// is refused with a reason that says what to do.
func TestPassphraseV1Refused(t *testing.T) {
	_, u, _, seen := authDaemon(t, map[string]string{"a": "pw"})
	v1 := py.DictOf("auth", "pyrogo-auth-v1", "nonce", strings.Repeat("ab", 16), "time", time.Now().Unix(),
		"mac", strings.Repeat("00", 32), "data", "hello")
	r := dialRaw(t, u).ConnectWith(v1, "thing")
	if r == nil || rawpyro.ConnectFailReason(t, r) != reasonAuthV1 || !strings.Contains(reasonAuthV1, "update the client to pyrogo-auth-v2") {
		t.Errorf("v1 handshake: %v", r)
	}
	if len(*seen) != 0 {
		t.Errorf("HandshakeFunc ran: %v", *seen)
	}
}

// TestPassphraseConstantWork: the daemon checks a proof against every
// allowed passphrase whichever matches (or none does), so the time taken
// does not tell which passphrase, or how much of a MAC, was right; each
// comparison is subtle.ConstantTimeCompare.
func TestPassphraseConstantWork(t *testing.T) {
	ids := map[string]string{"a": "one", "b": "two", "c": "three", "d": "four"}
	d, u, _, _ := authDaemon(t, ids, withPenaltyUnit(time.Millisecond))
	for _, pass := range []string{"one", "four", "wrong"} {
		before := d.sec.auth.compares.Load()
		newProxy(t, u, nil, WithIdentification(pass)).Call(context.Background(), "echo", 1)
		if n := d.sec.auth.compares.Load() - before; n != int64(len(ids)) {
			t.Errorf("passphrase %q: %d comparisons, want %d", pass, n, len(ids))
		}
	}
}

// TestAuthOptions: another proxy made with AuthOptions authenticates as
// the first one does.
func TestAuthOptions(t *testing.T) {
	_, u, _, _ := authDaemon(t, map[string]string{"a": "pw"})
	p := newProxy(t, u, nil, WithIdentification("pw"))
	q := newProxy(t, u, nil, p.AuthOptions()...)
	if _, err := q.Call(context.Background(), "echo", 1); err != nil {
		t.Error(err)
	}
	if len(newProxy(t, u, nil).AuthOptions()) != 0 {
		t.Error("options from a proxy without identification")
	}
}

// ---------------------------------------------------------------------------
// recorded and relayed proofs (issue 8, item 1)

// TestPassphraseRecordedReplay: a client authenticates to daemon A
// through a recording relay (A's own forwarder, so that the endpoint
// check does not help and only the challenge does). What the relay
// recorded — the CONNECT and the proof — is replayed to A, to daemon B
// that has the same passphrase and also accepts the relay's endpoint, and
// to A after a restart on the same port: each issues a new challenge and
// refuses the old proof; no call gets through. With pyrogo-auth-v1 all
// three accepted the recording for two minutes.
func TestPassphraseRecordedReplay(t *testing.T) {
	const pass = "shared by A and B"
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addrA := ln.Addr().String()
	tp := testkit.TCPRelay(t, addrA)
	calls := &counter{}
	start := func(opts ...DaemonOption) *Daemon {
		d, err := NewDaemon(nil, append([]DaemonOption{WithAllowedIdentifications([]string{pass}), WithAuthEndpoints(tp.HostPort())}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Register(calls, "counter"); err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- d.Serve(ctx) }()
		t.Cleanup(func() { d.Close(); <-served })
		return d
	}
	a := start(WithListener(ln))
	b := start()
	u, _ := ParseURI("PYRO:counter@" + tp.HostPort())
	p := newProxy(t, u, nil, WithIdentification(pass))
	if n, err := p.Call(ctx, "incr"); err != nil || n != int64(1) {
		t.Fatalf("through the relay: %v %v", n, err)
	}
	p.Close()
	rec := rawpyro.Split(t, tp.Sent())
	if len(rec) < 3 {
		t.Fatalf("recorded %d messages", len(rec))
	}
	connect, proof, call := rec[0], rec[1], rec[2]
	replay := func(name, addr string) {
		t.Helper()
		c := &rawClient{rawpyro.Dial(t, "tcp", addr)}
		defer c.NC.Close()
		c.NC.Write(connect)
		m, err := c.Recv()
		if err != nil || m.Type != wire.MsgConnectOK {
			t.Fatalf("%s: CONNECT: %v %v", name, m, err)
		}
		c.NC.Write(proof)
		c.NC.Write(call)
		m, err = c.Recv()
		if err != nil {
			t.Fatalf("%s: no answer to the replayed proof: %v", name, err)
		}
		refusedWith(t, c, m, "security reasons: authentication failed")
	}
	replay("A", addrA)
	replay("B", b.Addr().String())
	// A restarts on the same port
	a.Close()
	ln2, err := net.Listen("tcp", addrA)
	if err != nil {
		t.Fatal(err)
	}
	start(WithListener(ln2))
	replay("A restarted", addrA)
	if n := calls.n.Load(); n != 1 {
		t.Errorf("the counter was incremented %d times, want 1", n)
	}
}

// TestPassphraseLiveRelay: a fake server (here a relay at another
// address) forwards a victim's authentication to the real daemon as it
// happens. The victim's proof names the relay's address, so the daemon
// refuses it and the relay gains nothing; under TLS, a relay that the
// daemon even accepts as its forwarder but that terminates TLS with its
// own certificate is refused for the certificate.
func TestPassphraseLiveRelay(t *testing.T) {
	const pass = "the victim's passphrase"
	ctx := context.Background()
	d, u, rec, seen := authDaemon(t, map[string]string{"victim": pass})
	tp := testkit.TCPRelay(t, u.Location())
	_, err := newProxy(t, via(u, tp), nil, WithIdentification(pass)).Call(ctx, "echo", 1)
	wantDenied(t, err, "rejected: security reasons: the proof is for another server: endpoint \""+tp.HostPort()+"\"")
	if len(*seen) != 0 {
		t.Errorf("the relayed victim was let in: %v", *seen)
	}
	if logs := rec.Find("connection refused"); len(logs) != 1 || !strings.Contains(logs[0]["detail"], tp.HostPort()) {
		t.Errorf("refusal logged as %v", logs)
	}
	if n := d.sec.auth.limit.failures.Load(); n != 0 {
		t.Errorf("a relayed proof counted as %d wrong guesses", n)
	}

	t.Run("TLS", func(t *testing.T) {
		b, other := testBundle(t), testBundle(t)
		// the relay terminates TLS with its own certificate, which the
		// victim trusts, and opens its own TLS connection to the daemon;
		// the daemon even takes the relay for its forwarder
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		rl := tlsRelay(t, serverTLS(t, other, false), ln.Addr().String(), clientTLS(t, b, false))
		_, u, _, seen := authDaemon(t, map[string]string{"victim": pass}, WithListener(ln), WithTLSConfig(serverTLS(t, b, false)), WithAuthEndpoints(rl))
		victim := clientTLS(t, b, false)
		victim.RootCAs.AppendCertsFromPEM(other.CACert)
		ru, _ := ParseURI("PYRO:thing@" + rl)
		_, err = newProxy(t, ru, nil, WithIdentification(pass), WithTLSConfig(victim)).Call(ctx, "echo", 1)
		wantDenied(t, err, "rejected: security reasons: the proof is for another TLS certificate")
		if len(*seen) != 0 {
			t.Errorf("the relayed victim was let in: %v", *seen)
		}
		// directly, the victim is served
		if _, err := newProxy(t, u, nil, WithIdentification(pass), WithTLSConfig(victim)).Call(ctx, "echo", 1); err != nil {
			t.Error(err)
		}
	})
}

// tlsRelay is a fake server that terminates TLS with server and forwards
// the plaintext over its own TLS connection (client) to target; it
// returns its address.
func tlsRelay(t *testing.T, server *tls.Config, target string, client *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.NewRelay(t, ln, func() (net.Conn, error) { return tls.Dial("tcp", target, client) }).HostPort()
}

// ---------------------------------------------------------------------------
// endpoints: NAT, forwarders, unix sockets

// TestPassphraseEndpoints: a proof made for NATHOST/NATPORT or for an
// endpoint given with WithAuthEndpoints is the daemon's; host names in
// WithAuthEndpoints are refused (they would make the check depend on
// DNS).
func TestPassphraseEndpoints(t *testing.T) {
	ctx := context.Background()
	call := func(u URI) error {
		_, err := newProxy(t, u, nil, WithIdentification("pw")).Call(ctx, "echo", 1)
		return err
	}
	// a port forward the daemon does not know
	ln, fwd := forwarded(t)
	_, u, _, _ := authDaemon(t, map[string]string{"a": "pw"}, WithListener(ln))
	if err := call(via(u, fwd)); !errors.Is(err, ErrConnectionDenied) {
		t.Errorf("unknown forwarder: %v", err)
	}
	// NATHOST/NATPORT naming the forwarder, with a name that resolves
	ln, fwd = forwarded(t)
	cfg := BuiltinConfig()
	cfg.NATHost, cfg.NATPort = "localhost", fwd.Port()
	_, u, _, _ = authDaemonCfg(t, cfg, map[string]string{"a": "pw"}, WithListener(ln))
	if err := call(via(u, fwd)); err != nil {
		t.Errorf("through the NAT address: %v", err)
	}
	if err := call(u); err != nil {
		t.Errorf("directly, with NAT configured: %v", err)
	}
	// a forwarder given with WithAuthEndpoints
	ln, fwd = forwarded(t)
	_, u, _, _ = authDaemon(t, map[string]string{"a": "pw"}, WithListener(ln), WithAuthEndpoints(fwd.HostPort()))
	if err := call(via(u, fwd)); err != nil {
		t.Errorf("through a listed forwarder: %v", err)
	}
	for _, bad := range []string{"example.com:9090", "127.0.0.1", "127.0.0.1:0", "relative.sock"} {
		if _, err := NewDaemon(nil, WithAuthEndpoints(bad)); err == nil {
			t.Errorf("WithAuthEndpoints(%q) accepted", bad)
		}
	}
	// the forms a client may use for the same endpoint
	for _, ep := range []string{"127.0.0.1:9090", "[127.0.0.1]:9090", "::ffff:127.0.0.1:9090", "[::ffff:127.0.0.1]:9090"} {
		if ap, ok := parseTCPEndpoint(ep); !ok || ap.String() != "127.0.0.1:9090" {
			t.Errorf("%q read as %v %v", ep, ap, ok)
		}
	}
	if ap, ok := parseTCPEndpoint("fe80::1%eth0:9090"); !ok || ap.String() != "[fe80::1]:9090" {
		t.Errorf("zone: %v %v", ap, ok)
	}
}

// TestPassphraseUnixSocket: over a unix socket the endpoint is the
// socket's path (or abstract name); a relay socket elsewhere is refused.
func TestPassphraseUnixSocket(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{filepath.Join(dir, "d.sock"), "@pyrogo-auth-test-" + fmt.Sprint(os.Getpid())} {
		t.Run(name, func(t *testing.T) {
			_, u, _, seen := authDaemon(t, map[string]string{"u": "pw"}, WithUnixSocket(name))
			if _, err := newProxy(t, u, nil, WithIdentification("pw")).Call(ctx, "echo", 1); err != nil {
				t.Fatal(err)
			}
			if len(*seen) != 1 || !strings.HasPrefix((*seen)[0], "u=") {
				t.Errorf("HandshakeFunc saw %v", *seen)
			}
			if strings.HasPrefix(name, "@") {
				return
			}
			// the same socket file reached by another path
			link := filepath.Join(dir, "link.sock")
			os.Remove(link)
			if err := os.Symlink(name, link); err != nil {
				t.Fatal(err)
			}
			lu := u
			lu.Sockname = link
			if _, err := newProxy(t, lu, nil, WithIdentification("pw")).Call(ctx, "echo", 1); err != nil {
				t.Errorf("through a symlink: %v", err)
			}
			// a relay socket of its own
			rl := testkit.UnixRelay(t, filepath.Join(dir, "relay.sock"), name).HostPort()
			ru := u
			ru.Sockname = rl
			_, err := newProxy(t, ru, nil, WithIdentification("pw")).Call(ctx, "echo", 1)
			wantDenied(t, err, "the proof is for another server")
		})
	}
}

// TestServedCerts: a daemon whose certificate comes from a callback knows
// the certificates it presented, and only those.
func TestServedCerts(t *testing.T) {
	b := testBundle(t)
	conf := serverTLS(t, b, false)
	cert := conf.Certificates[0]
	dyn := &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }}
	d, u, _, _ := authDaemon(t, map[string]string{"a": "pw"}, WithTLSConfig(dyn))
	if known, ok := d.sec.auth.certs.has(certHash(cert.Certificate[0])); !known || ok {
		t.Errorf("before any handshake: known %v, has %v", known, ok)
	}
	if _, err := newProxy(t, u, nil, WithIdentification("pw"), WithTLSConfig(clientTLS(t, b, false))).Call(context.Background(), "echo", 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.sec.auth.certs.has(certHash(cert.Certificate[0])); !ok {
		t.Error("the presented certificate was not recorded")
	}
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	if _, ok := d.sec.auth.certs.has(certHash(leaf.RawTBSCertificate)); ok {
		t.Error("another hash accepted")
	}
}

// ---------------------------------------------------------------------------
// Python

type pyAuthResult struct {
	OK        bool   `json:"ok"`
	Echo      string `json:"echo"`
	Again     string `json:"again"`
	Error     string `json:"error"`
	Connected bool   `json:"connected"`
}

func runAuthClient(t *testing.T, u URI, pass string, env ...string) pyAuthResult {
	t.Helper()
	res := pytest.Cmd{Args: []string{"testdata/auth/client.py", u.String(), pass}, Env: env}.Run(t)
	var out pyAuthResult
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &out); err != nil {
		t.Fatalf("client.py: exit %d, output %q: %v\n%s", res.ExitCode, res.Stdout, err, res.Stderr)
	}
	if out.OK != (res.ExitCode == 0) {
		t.Errorf("client.py exit %d with %+v", res.ExitCode, out)
	}
	return out
}

// TestPassphrasePythonClient runs the README's Python lines
// (testdata/auth/client.py) against Go daemons: with each serializer
// Python and the daemon share, with a wrong passphrase (refused, the
// connection released), through a relay (refused), against a daemon
// without passphrases (the client refuses it), and under TLS, where the
// proof names the certificate.
func TestPassphrasePythonClient(t *testing.T) {
	pytest.Python(t)
	cfg := BuiltinConfig()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	const pass = "pass phrase ünïcode"
	d, u, _, seen := authDaemonCfg(t, cfg, map[string]string{"py": pass}, withPenaltyUnit(10*time.Millisecond))
	for _, ser := range cfg.SerializersAccepted {
		t.Run(ser, func(t *testing.T) {
			env := "PYRO_SERIALIZER=" + ser
			if r := runAuthClient(t, u, pass, env); !r.OK || r.Echo != "hi" || r.Again != "hi" {
				t.Errorf("right passphrase: %+v", r)
			}
			r := runAuthClient(t, u, "wrong", env)
			if r.OK || r.Error != "SecurityError: "+reasonAuthFailed || r.Connected {
				t.Errorf("wrong passphrase: %+v", r)
			}
		})
	}
	// each connection (two per right run: the reconnect answers a new
	// challenge) ran the HandshakeFunc with the identity
	if want := 2 * len(cfg.SerializersAccepted); len(*seen) != want || (*seen)[0] != "py='hello'" {
		t.Errorf("HandshakeFunc saw %v, want %d times py='hello'", *seen, want)
	}
	if d.sec.auth.limit.failures.Load() != int64(len(cfg.SerializersAccepted)) {
		t.Errorf("%d failures counted", d.sec.auth.limit.failures.Load())
	}
	t.Run("relay", func(t *testing.T) {
		tp := testkit.TCPRelay(t, u.Location())
		if r := runAuthClient(t, via(u, tp), pass); r.OK || !strings.Contains(r.Error, "SecurityError: security reasons: the proof is for another server") {
			t.Errorf("through a relay: %+v", r)
		}
	})
	t.Run("no passphrases", func(t *testing.T) {
		_, open, _ := startDaemon(t, nil)
		if r := runAuthClient(t, open, pass); r.OK || r.Error != "PermissionError: the server did not ask for the passphrase" || r.Connected {
			t.Errorf("daemon without passphrases: %+v", r)
		}
	})
	t.Run("TLS", func(t *testing.T) {
		b := testBundle(t)
		dir := writeBundle(t, b)
		_, tu, _, _ := authDaemon(t, map[string]string{"py": pass}, WithTLSConfig(serverTLS(t, b, false)))
		env := []string{"PYRO_SSL=true", "PYRO_SSL_CACERTS=" + filepath.Join(dir, devcert.CACertFile)}
		if r := runAuthClient(t, tu, pass, env...); !r.OK || r.Echo != "hi" {
			t.Errorf("TLS: %+v", r)
		}
		if r := runAuthClient(t, tu, "wrong", env...); r.OK || r.Error != "SecurityError: "+reasonAuthFailed {
			t.Errorf("TLS, wrong passphrase: %+v", r)
		}
	})
	t.Run("unix socket", func(t *testing.T) {
		_, uu, _, _ := authDaemon(t, map[string]string{"py": pass}, WithUnixSocket(filepath.Join(t.TempDir(), "py.sock")))
		if r := runAuthClient(t, uu, pass); !r.OK || r.Echo != "hi" {
			t.Errorf("unix socket: %+v", r)
		}
	})
	// the README shows the same lines the test runs
	script, err := os.ReadFile("testdata/auth/client.py")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	start, end := bytes.Index(script, []byte("\nimport hashlib")), bytes.Index(script, []byte("\n# end of README snippet\n"))
	if start < 0 || end < 0 || !bytes.Contains(readme, bytes.TrimSpace(script[start:end])) {
		t.Error("README.md does not show the snippet of testdata/auth/client.py")
	}
}

// TestPassphrasePyro5Shape runs the README's pyrogo_proxy with
// base=Pyro5.api.Proxy (testdata/auth/pyro5_shape.py) against a Python
// Pyro5 daemon that plays pyrogo's part of the exchange, since pyrogo does
// not speak Pyro5's protocol yet: a right passphrase is served (the proxy
// fetches the metadata after the proof, as it must with pyrogo's empty
// metadata before it), a wrong one is refused and the connection
// released, and a daemon that does not ask for the proof is refused.
func TestPassphrasePyro5Shape(t *testing.T) {
	pytest.Python(t)
	src, err := filepath.Abs(filepath.Join("..", "shared", "peers", "Pyro5-src"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(src, "Pyro5", "client.py")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Pyro5 source not found: %v", err)
		}
		t.Skipf("Pyro5 source not found: %v", err)
	}
	res := pytest.Cmd{Args: []string{"testdata/auth/pyro5_shape.py"}, Env: []string{"PYTHONPATH=" + src}}.Run(t)
	var out struct {
		Right, Wrong, Open pyAuthResult
		Calls              []string
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &out); err != nil {
		t.Fatalf("pyro5_shape.py: exit %d, output %q: %v\n%s", res.ExitCode, res.Stdout, err, res.Stderr)
	}
	if !out.Right.OK || out.Right.Echo != "hi" {
		t.Errorf("right passphrase: %+v", out.Right)
	}
	if out.Wrong.OK || out.Wrong.Error != "SecurityError: "+reasonAuthFailed || out.Wrong.Connected {
		t.Errorf("wrong passphrase: %+v", out.Wrong)
	}
	if out.Open.OK || out.Open.Error != "PermissionError: the server did not ask for the passphrase" || out.Open.Connected {
		t.Errorf("daemon without passphrases: %+v", out.Open)
	}
	if want := "authenticate get_metadata echo authenticate"; strings.Join(out.Calls, " ") != want {
		t.Errorf("the Pyro5 daemon served %v, want %s", out.Calls, want)
	}
}

// TestPassphraseWithOtherLayers: passphrases combine with the
// replay-protected HMAC mode (the proof travels under the connection's
// bound HMAC), and work for proxies that do not ask for metadata.
func TestPassphraseWithOtherLayers(t *testing.T) {
	ctx := context.Background()
	key := []byte("hmac key")
	_, u, _, seen := authDaemon(t, map[string]string{"a": "pw"}, WithReplayProtectedHMAC(key))
	p := newProxy(t, u, nil, WithIdentification("pw"), WithReplayProtectedHMAC(key))
	for i := 0; i < 3; i++ {
		if v, err := p.Call(ctx, "echo", i); err != nil || v != int64(i) {
			t.Fatalf("call %d: %v %v", i, v, err)
		}
	}
	if len(*seen) != 1 {
		t.Errorf("HandshakeFunc saw %v", *seen)
	}
	cfg := BuiltinConfig()
	cfg.Metadata = false
	_, u2, _, _ := authDaemon(t, map[string]string{"a": "pw"})
	if v, err := newProxy(t, u2, cfg, WithIdentification("pw")).Call(ctx, "echo", "no meta"); err != nil || v != "no meta" {
		t.Errorf("without metadata: %v %v", v, err)
	}
	// an unknown object is refused after the proof, as without passphrases
	bad := u2
	bad.Object = "nothing"
	_, err := newProxy(t, bad, nil, WithIdentification("pw")).Call(ctx, "echo", 1)
	wantDenied(t, err, "rejected: unknown object")
}

// TestPassphraseIPv6: over IPv6 the endpoint carries brackets in Go's
// form and none in Python's ("::1:port"); both are the daemon's.
func TestPassphraseIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	_, u, _, _ := authDaemon(t, map[string]string{"six": "pw"}, WithListener(ln))
	if _, err := newProxy(t, u, nil, WithIdentification("pw")).Call(context.Background(), "echo", 1); err != nil {
		t.Errorf("Go proxy over IPv6 (%s): %v", u, err)
	}
	t.Run("Python", func(t *testing.T) {
		pytest.Python(t)
		if r := runAuthClient(t, u, "pw"); !r.OK || r.Echo != "hi" {
			t.Errorf("Python over IPv6 (%s): %+v", u, r)
		}
	})
}
