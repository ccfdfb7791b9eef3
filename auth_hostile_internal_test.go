package pyro

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// TestHostileSecurity: attacks on the handshake and the pending state of
// a daemon with passphrases and a connection limit, each from its own
// loopback address: forged, spliced, replayed and relayed proofs,
// malformed and huge fields, calls before authenticating, authenticating
// twice, floods and slow clients. After each attack a new, authenticated
// client is served; at the end no goroutine is left, the HandshakeFunc
// has run for authenticated clients only, and the daemon's bookkeeping
// has not grown beyond one entry per address.
func TestHostileSecurity(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.CommTimeout = 500 * time.Millisecond
	cfg.MaxConnections = 20
	pass := "the right passphrase"
	d, u, _, seen := authDaemonCfg(t, cfg, map[string]string{"user": pass}, withPenaltyUnit(time.Millisecond))
	ctx := context.Background()
	good := newProxy(t, u, nil, WithIdentification(pass))
	if _, err := good.Call(ctx, "echo", 1); err != nil {
		t.Fatal(err)
	}
	// keys are derived once: deriving is slow on purpose (and slower
	// under the race detector), and connections wait only 0.5 s
	key, guessKey := deriveAuthKey(pass), deriveAuthKey("guess")
	const failed = "security reasons: authentication failed"
	type attacker func() *rawClient // a new connection from the attack's host
	// pending connects and returns the connection waiting for its proof
	// and the challenge
	pending := func(t *testing.T, dial attacker) (*rawClient, string) {
		t.Helper()
		c := dial()
		return c, challengeOf(t, c.authConnect())
	}
	// proof makes the arguments of a right proof on c, edited by edit
	proof := func(c *rawClient, k []byte, challenge string, edit func(a []any)) []any {
		a := proofArgs(k, challenge, c.endpoint(), "")
		if edit != nil {
			edit(a)
		}
		return a
	}
	closedSilently := func(t *testing.T, c *rawClient) {
		t.Helper()
		if !c.Closed() {
			t.Error("not closed")
		}
	}
	connectRefused := func(t *testing.T, c *rawClient, shake any, want string) {
		t.Helper()
		r := c.ConnectWith(shake, "thing")
		if r == nil || !strings.HasPrefix(rawpyro.ConnectFailReason(t, r), want) {
			t.Errorf("got %v, want CONNECTFAIL %q", r, want)
		}
	}
	attacks := []struct {
		name string
		run  func(t *testing.T, dial attacker)
	}{
		// the CONNECT
		{"no passphrase", func(t *testing.T, dial attacker) {
			connectRefused(t, dial(), "hello", "security reasons: passphrase authentication required")
		}},
		{"pyrogo-auth-v1 proof", func(t *testing.T, dial attacker) {
			connectRefused(t, dial(), py.DictOf("auth", "pyrogo-auth-v1", "nonce", strings.Repeat("ab", 16), "time", time.Now().Unix(),
				"mac", strings.Repeat("00", 32), "data", "hello"), reasonAuthV1)
		}},
		{"passphrase in the clear (Pyro3 style)", func(t *testing.T, dial attacker) {
			connectRefused(t, dial(), py.DictOf("passphrase", pass), "security reasons: passphrase authentication required")
		}},
		{"INVOKE without handshake", func(t *testing.T, dial attacker) {
			c := dial()
			c.Send(rawpyro.Invoke(1, 1, "thing", "echo", 1))
			if m, err := c.Recv(); err != nil || rawpyro.ConnectFailReason(t, m) != "invalid msg type 4 received" {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"PING without handshake", func(t *testing.T, dial attacker) {
			c := dial()
			c.Send(&wire.Message{Type: wire.MsgPing, SerializerID: wire.PingSerializerID, Data: []byte("ping")})
			if m, err := c.Recv(); err != nil || rawpyro.ConnectFailReason(t, m) != "invalid msg type 6 received" {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"oversized message before authentication", func(t *testing.T, dial attacker) {
			c := dial()
			c.NC.Write(wire.Header{Type: wire.MsgConnect, SerializerID: 1, PayloadLen: 1 << 30}.AppendHeader(nil))
			c.NC.Write(make([]byte, 4096))
			closedSilently(t, c)
		}},
		{"handshake data too deep to decode", func(t *testing.T, dial attacker) {
			c := dial()
			deep := "('handshake'," + strings.Repeat("[", 60000)
			c.Send(&wire.Message{Type: wire.MsgConnect, SerializerID: 1, Data: []byte("{" + deep)})
			if m, err := c.Recv(); err != nil || !strings.HasPrefix(rawpyro.ConnectFailReason(t, m), "invalid handshake data") {
				t.Errorf("got %v %v", m, err)
			}
		}},
		{"slowloris before the CONNECT", func(t *testing.T, dial attacker) {
			c := dial()
			c.NC.Write([]byte("PYRO\x00\x30"))
			start := time.Now()
			if !c.Closed() || time.Since(start) > testbound.Scale(2*time.Second) {
				t.Errorf("slow client held for %v", time.Since(start))
			}
		}},

		// the proof
		{"wrong passphrase", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			refusedWith(t, c, c.prove(proof(c, guessKey, ch, nil)...), failed)
		}},
		{"identity claimed without proof", func(t *testing.T, dial attacker) {
			c := dial()
			ch := challengeOf(t, c.ConnectWith(py.DictOf("auth", AuthScheme, "identity", "user", "data", "hello"), "thing"))
			refusedWith(t, c, c.prove(proof(c, key, ch, func(a []any) { a[3] = strings.Repeat("00", 32) })...), failed)
		}},
		{"passphrase sent as the MAC", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			refusedWith(t, c, c.prove(proof(c, key, ch, func(a []any) { a[3] = pass })...), reasonAuthMalformed+"mac")
		}},
		{"MAC spliced onto another client nonce", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			refusedWith(t, c, c.prove(proof(c, key, ch, func(a []any) { a[0] = strings.Repeat("ab", 16) })...), failed)
		}},
		{"proof made for another connection's challenge", func(t *testing.T, dial attacker) {
			c1, ch1 := pending(t, dial)
			c2, _ := pending(t, dial)
			refusedWith(t, c2, c2.prove(proof(c2, key, ch1, nil)...), failed)
			c1.NC.Close()
		}},
		{"replayed proof", func(t *testing.T, dial attacker) {
			c1, ch1 := pending(t, dial)
			args := proof(c1, key, ch1, nil)
			if !accepted(c1.prove(args...)) {
				t.Fatal("first use refused")
			}
			c2, _ := pending(t, dial)
			args[1] = c2.endpoint() // the same daemon
			refusedWith(t, c2, c2.prove(args...), failed)
		}},
		{"proof for another endpoint", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			a := proofArgs(key, ch, "127.0.0.1:1", "")
			refusedWith(t, c, c.prove(a...), reasonAuthEndpoint+`"127.0.0.1:1"`)
		}},
		{"endpoint that is not an address", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			a := proofArgs(key, ch, "localhost:"+fmt.Sprint(u.Port), "")
			refusedWith(t, c, c.prove(a...), reasonAuthEndpoint)
		}},
		{"certificate hash without TLS", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			a := proofArgs(key, ch, c.endpoint(), strings.Repeat("ab", 32))
			refusedWith(t, c, c.prove(a...), reasonAuthCert)
		}},
		{"wrong types in the proof", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			refusedWith(t, c, c.prove(12, []byte("x"), nil, 3.5), reasonAuthMalformed+"argument 1 is int")
		}},
		{"too few arguments", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			refusedWith(t, c, c.prove(pass), reasonAuthMalformed+"want 4 arguments")
		}},
		{"keyword arguments", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			cd := codec.Default(codec.IDSerpent)
			data, _ := cd.MarshalCall(&codec.Call{Object: DaemonObjectID, Method: AuthMethod, Args: proof(c, key, ch, nil), Kwargs: py.DictOf("identity", "user")})
			c.Send(&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: codec.IDSerpent, Data: data})
			m, _ := c.Recv()
			refusedWith(t, c, m, reasonAuthMalformed+"keyword arguments")
		}},
		{"huge client nonce", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			refusedWith(t, c, c.prove(proof(c, key, ch, func(a []any) { a[0] = strings.Repeat("ab", 20000) })...), reasonAuthMalformed+"client nonce")
		}},
		{"short client nonce", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			refusedWith(t, c, c.prove(proof(c, key, ch, func(a []any) { a[0] = "abcd" })...), reasonAuthMalformed+"client nonce")
		}},
		{"huge endpoint", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			refusedWith(t, c, c.prove(proof(c, key, ch, func(a []any) { a[1] = strings.Repeat("1", 600) })...), reasonAuthMalformed+"endpoint")
		}},
		{"MAC of the wrong length", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			refusedWith(t, c, c.prove(proof(c, key, ch, func(a []any) { a[3] = a[3].(string)[:40] })...), reasonAuthMalformed+"mac")
		}},
		{"proof too large to read", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			c.Send(rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, AuthMethod, append(proof(c, key, ch, nil), strings.Repeat("x", MaxHandshakeSize))...))
			closedSilently(t, c)
		}},
		{"compressed proof that expands beyond the limit", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			m := &wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: codec.IDSerpent, Data: bytes.Repeat([]byte("A"), 4*MaxHandshakeSize)}
			if err := wire.WriteMessage(c.NC, m, &wire.Options{Compress: true}); err != nil {
				t.Fatal(err)
			}
			closedSilently(t, c)
		}},
		{"proof in a serializer that is not accepted", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			c.Send(&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: 4, Data: []byte("\x80\x04N.")})
			closedSilently(t, c)
		}},
		{"proof that does not decode", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			c.Send(&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: codec.IDSerpent, Data: []byte("(((")})
			m, _ := c.Recv()
			refusedWith(t, c, m, reasonAuthMalformed+"cannot decode")
		}},

		// the pending state
		{"call before authenticating", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			c.Send(rawpyro.Invoke(codec.IDSerpent, 1, "thing", "echo", "sneaky"))
			m, _ := c.Recv()
			refusedWith(t, c, m, reasonAuthFirst)
		}},
		{"daemon object call before authenticating", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			c.Send(rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, "registered"))
			m, _ := c.Recv()
			refusedWith(t, c, m, reasonAuthFirst)
		}},
		{"hijacked stream id before authenticating", func(t *testing.T, dial attacker) {
			s, err := good.Call(ctx, "infinite")
			if err != nil {
				t.Fatal(err)
			}
			st := s.(*Stream)
			defer st.Close(ctx)
			c, _ := pending(t, dial)
			c.Send(rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, "get_next_stream_item", st.ID()))
			m, _ := c.Recv()
			refusedWith(t, c, m, reasonAuthFirst)
		}},
		{"oneway authenticate", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			m := rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, AuthMethod, proof(c, key, ch, nil)...)
			m.Flags |= wire.FlagOneway
			c.Send(m)
			r, _ := c.Recv()
			refusedWith(t, c, r, reasonAuthFirst)
		}},
		{"batch before authenticating", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			m := rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, AuthMethod, proof(c, key, ch, nil)...)
			m.Flags |= wire.FlagBatch
			c.Send(m)
			r, _ := c.Recv()
			refusedWith(t, c, r, reasonAuthFirst)
		}},
		{"PING before authenticating", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			c.Send(&wire.Message{Type: wire.MsgPing, SerializerID: wire.PingSerializerID, Data: []byte("ping")})
			closedSilently(t, c)
		}},
		{"second CONNECT before authenticating", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			c.Send(rawpyro.ConnectMessage("thing"))
			closedSilently(t, c)
		}},
		{"silent after the challenge", func(t *testing.T, dial attacker) {
			c, _ := pending(t, dial)
			start := time.Now()
			if !c.Closed() || time.Since(start) > testbound.Scale(2*time.Second) {
				t.Errorf("pending client held for %v", time.Since(start))
			}
		}},
		{"data after the proof, before the answer", func(t *testing.T, dial attacker) {
			// a proof whose answer waits (this address failed before),
			// followed at once by a call: closed, no answer
			for i := 0; i < 3; i++ {
				c, ch := pending(t, dial)
				refusedWith(t, c, c.prove(proof(c, guessKey, ch, nil)...), failed)
			}
			c, ch := pending(t, dial)
			c.Send(rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, AuthMethod, proof(c, key, ch, nil)...))
			c.Send(rawpyro.Invoke(codec.IDSerpent, 2, "thing", "echo", 1))
			closedSilently(t, c)
		}},
		{"authenticate twice", func(t *testing.T, dial attacker) {
			c, ch := pending(t, dial)
			args := proof(c, key, ch, nil)
			if !accepted(c.prove(args...)) {
				t.Fatal("refused")
			}
			c.Send(rawpyro.Invoke(codec.IDSerpent, 2, DaemonObjectID, AuthMethod, args...))
			m, _ := c.Recv()
			if e := rawpyro.ExceptionOf(t, m); e.Class != "Pyro4.errors.SecurityError" || e.Message() != reasonAuthNotPending {
				t.Errorf("got %s %s", e.Class, e.Message())
			}
			closedSilently(t, c)
		}},
		{"second CONNECT after authenticating", func(t *testing.T, dial attacker) {
			c := dial()
			if !accepted(c.login(key)) {
				t.Fatal("refused")
			}
			c.Send(rawpyro.ConnectMessage("thing"))
			closedSilently(t, c)
		}},

		// guessing and floods
		{"brute force, then the right passphrase from the same address", func(t *testing.T, dial attacker) {
			for i := 0; i < 12; i++ {
				c, ch := pending(t, dial)
				refusedWith(t, c, c.prove(proof(c, guessKey, ch, nil)...), failed)
			}
			c, ch := pending(t, dial)
			if m := c.prove(proof(c, key, ch, nil)...); !accepted(m) {
				t.Errorf("right passphrase refused after failures (a lockout): %v", m)
			}
		}},
		{"connection flood", func(t *testing.T, dial attacker) {
			// a daemon of its own without COMMTIMEOUT, whose slots are all
			// taken by established clients: every new connection meets a
			// full daemon, however slow the machine
			fcfg := BuiltinConfig()
			fcfg.MaxConnections = 10
			fd, fu, _ := startDaemon(t, fcfg, WithAllowedIdentifications([]string{pass}))
			ip := dial().NC.LocalAddr().(*net.TCPAddr).IP.String()
			var held []*rawClient
			for fd.Connections() < fcfg.MaxConnections {
				c := dialFrom(t, fu.Location(), ip)
				if !accepted(c.login(key)) {
					t.Fatal("filling the daemon: refused")
				}
				held = append(held, c)
			}
			refusedN := 0
			for i := 0; i < 40; i++ {
				x := dialFrom(t, fu.Location(), ip)
				x.Send(rawpyro.ConnectMessage("thing"))
				if m, err := x.Recv(); err == nil && m.Type == wire.MsgConnectFail {
					if v, _ := codec.Default(int(m.SerializerID)).Unmarshal(m.Data); strings.HasPrefix(v.(string), ReasonTooBusy) {
						refusedN++
					}
				}
				x.NC.Close()
			}
			if refusedN != 40 {
				t.Errorf("only %d of 40 refused as too busy", refusedN)
			}
			// the established clients were served throughout
			for i, x := range held {
				x.Send(rawpyro.Invoke(1, 2, "thing", "echo", i))
				if m, err := x.Recv(); err != nil || m.Type != wire.MsgResult || m.Flags&wire.FlagException != 0 {
					t.Fatalf("established client %d: %v %v", i, m, err)
				}
				x.NC.Close()
			}
		}},
	}
	base := runtime.NumGoroutine()
	for i, a := range attacks {
		ip := fmt.Sprintf("127.0.0.%d", 10+i)
		t.Run(a.name, func(t *testing.T) {
			a.run(t, func() *rawClient { return dialFrom(t, u.Location(), ip) })
		})
		// the attack's connections are closed now: their slots come back
		testkit.Eventually(t, "the refused connections gone", func() bool { return d.Connections() <= 1 })
		fresh := newProxy(t, u, nil, good.AuthOptions()...)
		if v, err := fresh.Call(ctx, "echo", "ok"); err != nil || v != "ok" {
			t.Fatalf("after %s: a new authenticated client was not served: %v %v", a.name, v, err)
		}
		fresh.Close()
	}
	if len(attacks) < 40 {
		t.Errorf("only %d attacks", len(attacks))
	}
	goroutinesSettle(t, base, 4)
	for _, s := range *seen {
		if s != "user='hello'" {
			t.Errorf("the HandshakeFunc ran with %s", s)
		}
	}
	if n := d.sec.auth.limit.size(); n > len(attacks)+2 {
		t.Errorf("the limiter remembers %d sources after %d attacks", n, len(attacks))
	}
}

// TestAuthHoldEnds: a connection held for the delay of its answer ends
// when the client hangs up (its MAXCONNECTIONS slot comes back long
// before the delay is over) and when the daemon shuts down.
func TestAuthHoldEnds(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.MaxConnections = 10
	d, u, _, _ := authDaemonCfg(t, cfg, map[string]string{"user": "pw"})
	for i := 0; i < 10; i++ { // 127.0.0.5 failed often: its answers wait AuthPenaltyMax
		d.sec.auth.limit.settle("127.0.0.5", false)
	}
	key := deriveAuthKey("pw")
	c := dialFrom(t, u.Location(), "127.0.0.5")
	ch := challengeOf(t, c.authConnect())
	c.Send(rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, AuthMethod, proofArgs(key, ch, c.endpoint(), "")...))
	testkit.Eventually(t, "the held connection open", func() bool { return d.Connections() == 1 })
	c.NC.Close()
	start := time.Now()
	testkit.Eventually(t, "held connection gone after its client hung up", func() bool { return d.Connections() == 0 })
	if held := time.Since(start); held >= AuthPenaltyMax {
		t.Errorf("the held connection outlived its client by %v, the whole delay", held)
	}

	// a held connection does not hold up Shutdown
	c = dialFrom(t, u.Location(), "127.0.0.5")
	ch = challengeOf(t, c.authConnect())
	c.Send(rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, AuthMethod, proofArgs(key, ch, c.endpoint(), "")...))
	testkit.Eventually(t, "the held connection open", func() bool { return d.Connections() == 1 })
	sctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(10*time.Second))
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	var err error
	go func() { defer wg.Done(); err = d.Shutdown(sctx) }()
	wg.Wait()
	if err != nil {
		t.Errorf("Shutdown with a held connection: %v", err)
	}
	if !c.Closed() {
		t.Error("held connection not closed by Shutdown")
	}
}
