package pyro

// Hostile TLS clients: certificates from a foreign CA, old protocol
// versions, handshakes that stall; see tls_internal_test.go.

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"

	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/wire"
)

// testCA is a certificate authority for certificates devcert does not
// make (expired ones).
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue makes a leaf certificate valid from notBefore to notAfter.
func (ca *testCA) issue(t testing.TB, cn string, client bool, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestHostileTLS covers the TLS attacks of the hostile-client suite:
// certificates that must be refused, downgrades, plaintext clients. After
// every attack the daemon still serves a good client.
func TestHostileTLS(t *testing.T) {
	b := testBundle(t)
	other := testBundle(t) // another CA
	past := time.Now().Add(-30 * 24 * time.Hour)
	ca := newTestCA(t)

	t.Run("hostname mismatch", func(t *testing.T) {
		elsewhere := testBundle(t, "other.example")
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, elsewhere, false)))
		_, err := callProbe(u, nil, WithTLSConfig(clientTLS(t, elsewhere, false)))
		var he x509.HostnameError
		if !errors.As(err, &he) || !errors.Is(err, ErrCommunication) {
			t.Errorf("want a HostnameError, got %v", err)
		}
		// the same certificate is accepted when the name matches
		conf := clientTLS(t, elsewhere, false)
		conf.ServerName = "other.example"
		mustServe(t, u, "anonymous", WithTLSConfig(conf))
	})
	t.Run("IP URI needs an IP SAN", func(t *testing.T) {
		dnsOnly := testBundle(t, "localhost")
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, dnsOnly, false)))
		u.Host = "127.0.0.1"
		var he x509.HostnameError
		if _, err := callProbe(u, nil, WithTLSConfig(clientTLS(t, dnsOnly, false))); !errors.As(err, &he) {
			t.Errorf("want a HostnameError for an IP URI, got %v", err)
		}
		u.Host = "localhost"
		mustServe(t, u, "anonymous", WithTLSConfig(clientTLS(t, dnsOnly, false)))
	})

	_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)))
	good := WithTLSConfig(clientTLS(t, b, true))

	t.Run("wrong CA", func(t *testing.T) {
		conf := clientTLS(t, other, true)
		conf.Certificates = clientTLS(t, b, true).Certificates
		_, err := callProbe(u, nil, WithTLSConfig(conf))
		var ue x509.UnknownAuthorityError
		if !errors.As(err, &ue) {
			t.Errorf("want an UnknownAuthorityError, got %v", err)
		}
		mustServe(t, u, "pyrogo client", good)
	})
	t.Run("absent client certificate", func(t *testing.T) {
		if got, err := callProbe(u, nil, WithTLSConfig(clientTLS(t, b, false))); err == nil {
			t.Errorf("served without client certificate: %q", got)
		} else if !errors.Is(err, ErrCommunication) || !strings.Contains(err.Error(), "tls") {
			t.Errorf("error: %v", err)
		}
		mustServe(t, u, "pyrogo client", good)
	})
	t.Run("client certificate from another CA", func(t *testing.T) {
		conf := clientTLS(t, b, false)
		conf.Certificates = clientTLS(t, other, true).Certificates
		if got, err := callProbe(u, nil, WithTLSConfig(conf)); err == nil {
			t.Errorf("served with a foreign client certificate: %q", got)
		}
		mustServe(t, u, "pyrogo client", good)
	})
	t.Run("self-signed client certificate", func(t *testing.T) {
		conf := clientTLS(t, b, false)
		self := newTestCA(t)
		conf.Certificates = []tls.Certificate{{Certificate: [][]byte{self.cert.Raw}, PrivateKey: self.key}}
		if got, err := callProbe(u, nil, WithTLSConfig(conf)); err == nil {
			t.Errorf("served with a self-signed client certificate: %q", got)
		}
		mustServe(t, u, "pyrogo client", good)
	})
	t.Run("expired server certificate", func(t *testing.T) {
		sc := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "localhost", false, past, past.Add(24*time.Hour))}}
		_, eu := startTLSDaemon(t, nil, WithTLSConfig(sc))
		_, err := callProbe(eu, nil, WithTLSConfig(&tls.Config{RootCAs: ca.pool()}))
		var ce x509.CertificateInvalidError
		if !errors.As(err, &ce) || ce.Reason != x509.Expired {
			t.Errorf("want an expired-certificate error, got %v", err)
		}
	})
	t.Run("expired client certificate", func(t *testing.T) {
		sc := serverTLS(t, b, true)
		sc.ClientCAs = ca.pool()
		_, eu := startTLSDaemon(t, nil, WithTLSConfig(sc))
		conf := clientTLS(t, b, false)
		conf.Certificates = []tls.Certificate{ca.issue(t, "late client", true, past, past.Add(24*time.Hour))}
		if got, err := callProbe(eu, nil, WithTLSConfig(conf)); err == nil {
			t.Errorf("served with an expired client certificate: %q", got)
		}
		conf.Certificates = []tls.Certificate{ca.issue(t, "fresh client", true, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))}
		mustServe(t, eu, "fresh client", WithTLSConfig(conf))
	})
	t.Run("not yet valid server certificate", func(t *testing.T) {
		future := time.Now().Add(24 * time.Hour)
		sc := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "localhost", false, future, future.Add(24*time.Hour))}}
		_, eu := startTLSDaemon(t, nil, WithTLSConfig(sc))
		var ce x509.CertificateInvalidError
		if _, err := callProbe(eu, nil, WithTLSConfig(&tls.Config{RootCAs: ca.pool()})); !errors.As(err, &ce) {
			t.Errorf("want a certificate validity error, got %v", err)
		}
	})
	t.Run("TLS 1.0 and 1.1 clients", func(t *testing.T) {
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
			conf := clientTLS(t, b, true)
			conf.MinVersion, conf.MaxVersion = v, v
			conn, err := tls.Dial("tcp", u.Location(), conf)
			if err == nil {
				conn.Close()
				t.Fatalf("TLS version %x accepted", v)
			}
			if !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("version %x: %v (want the server's protocol_version alert)", v, err)
			}
		}
		// a proxy configured for old versions is raised to TLS 1.2
		conf := clientTLS(t, b, true)
		conf.MinVersion = tls.VersionTLS10
		mustServe(t, u, "pyrogo client", WithTLSConfig(conf))
	})
	t.Run("SSLv3-style hello", func(t *testing.T) {
		// a hand-made ClientHello of TLS 1.0 without supported_versions
		nc, err := net.Dial("tcp", u.Location())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write(oldClientHello(0x0300))
		reply, _ := io.ReadAll(nc)
		if len(reply) == 0 || reply[0] != 0x15 {
			t.Errorf("want a TLS alert, got % x", reply)
		}
		mustServe(t, u, "pyrogo client", good)
	})
	t.Run("plaintext Pyro client", func(t *testing.T) {
		_, err := callProbe(u, nil)
		if !errors.Is(err, ErrCommunication) {
			t.Errorf("plaintext proxy: %v", err)
		}
		// what a raw client gets back is one unsigned CONNECTFAIL with a
		// fixed reason, and nothing else
		nc, err := net.Dial("tcp", u.Location())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		wire.WriteMessage(nc, rawpyro.ConnectMessage("probe"), nil)
		reply, _ := io.ReadAll(nc)
		want, _ := marshal.Marshal(plaintextReason)
		rest := bytes.NewReader(reply)
		msg, err := wire.ReadMessage(rest, nil)
		if err != nil || msg.Type != wire.MsgConnectFail || !bytes.Equal(msg.Data, want) || len(msg.Annotations) != 0 || rest.Len() != 0 {
			t.Errorf("plaintext client got % x", reply)
		}
		mustServe(t, u, "pyrogo client", good)
	})
	t.Run("TLS proxy against plain daemon", func(t *testing.T) {
		_, pu := startTLSDaemon(t, nil)
		if _, err := callProbe(pu, nil, good); !errors.Is(err, ErrCommunication) {
			t.Errorf("TLS proxy against a plaintext daemon: %v", err)
		}
	})
	t.Run("garbage after handshake", func(t *testing.T) {
		conn, err := tls.Dial("tcp", u.Location(), clientTLS(t, b, true))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write(bytes.Repeat([]byte{0xff}, 100))
		r := bufio.NewReader(conn)
		m, err := wire.ReadMessage(r, nil)
		if err != nil || m.Type != wire.MsgConnectFail {
			t.Errorf("want CONNECTFAIL for garbage, got %v %v", m, err)
		}
		mustServe(t, u, "pyrogo client", good)
	})
}

// oldClientHello returns a minimal ClientHello record offering only the
// given (pre-TLS 1.2) protocol version.
func oldClientHello(version uint16) []byte {
	var body []byte
	body = append(body, byte(version>>8), byte(version))
	body = append(body, make([]byte, 32)...)          // random
	body = append(body, 0)                            // session id
	body = append(body, 0, 4, 0x00, 0x2f, 0x00, 0x35) // cipher suites
	body = append(body, 1, 0)                         // compression: null
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{0x16, byte(version >> 8), byte(version), byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

// TestHostileTLSStalledHandshake: clients that connect and never finish
// (or start) the TLS handshake are dropped after the handshake timeout,
// and other clients are served meanwhile.
func TestHostileTLSStalledHandshake(t *testing.T) {
	b := testBundle(t)
	cfg := BuiltinConfig()
	cfg.CommTimeout = 600 * time.Millisecond
	_, u := startTLSDaemon(t, cfg, WithTLSConfig(serverTLS(t, b, false)))
	start := time.Now()
	var stalled []net.Conn
	for i, first := range [][]byte{
		nil,                            // nothing at all
		{0x16, 0x03, 0x01, 0x02},       // half a record header
		oldClientHello(0x0303)[:20],    // part of a ClientHello
		{0x16, 0x03, 0x03, 0x40, 0x00}, // a header announcing 16 KiB, then silence
	} {
		nc, err := net.Dial("tcp", u.Location())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if first != nil {
			if _, err := nc.Write(first); err != nil {
				t.Fatalf("staller %d: %v", i, err)
			}
		}
		stalled = append(stalled, nc)
	}
	// other clients are served at once, each on a new connection
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		mustServe(t, u, "anonymous", WithTLSConfig(clientTLS(t, b, false)))
		if d := time.Since(t0); d > testbound.Scale(500*time.Millisecond) {
			t.Errorf("good client took %v while others stall", d)
		}
	}
	for i, nc := range stalled {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, nc)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("staller %d still connected after 5 s", i)
		}
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("stallers dropped after %v, before the handshake timeout", d)
	}
}
