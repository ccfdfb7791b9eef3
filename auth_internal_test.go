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
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
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
