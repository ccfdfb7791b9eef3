package pyro

// Passphrase authentication against replay and relays (issue 8, item 1):
// what a recorded or relayed proof is worth, and the endpoints a proof
// may name (NAT, forwarders, unix sockets); helpers in
// auth_internal_test.go.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/wire"
)

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
