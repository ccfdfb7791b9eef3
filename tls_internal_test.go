package pyro

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"

	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/pemkey"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/wire"
)

// tlsProbe reports what a daemon method sees of the client's TLS
// connection.
type tlsProbe struct{}

// Peer returns the client certificate's common name, "anonymous" without
// one, "no tls" on a plain connection.
func (*tlsProbe) Peer(ctx context.Context) string {
	cc := CallContextFrom(ctx)
	switch {
	case cc == nil || cc.Conn.TLS == nil:
		return "no tls"
	case len(cc.Conn.TLS.PeerCertificates) == 0:
		return "anonymous"
	}
	return cc.Conn.TLS.PeerCertificates[0].Subject.CommonName
}

// Echo returns its argument.
func (*tlsProbe) Echo(s string) string { return s }

// Version returns the negotiated TLS version (0 without TLS).
func (*tlsProbe) Version(ctx context.Context) int {
	if cc := CallContextFrom(ctx); cc != nil && cc.Conn.TLS != nil {
		return int(cc.Conn.TLS.Version)
	}
	return 0
}

// testBundle makes a devcert bundle (localhost, 127.0.0.1, ::1).
func testBundle(t testing.TB, hosts ...string) *devcert.Bundle {
	t.Helper()
	b, err := devcert.New(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serverTLS(t testing.TB, b *devcert.Bundle, mutual bool) *tls.Config {
	t.Helper()
	c, err := b.ServerTLS(mutual)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func clientTLS(t testing.TB, b *devcert.Bundle, withCert bool) *tls.Config {
	t.Helper()
	c, err := b.ClientTLS(withCert)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tlsTransports returns the "tls" and "mtls" entries of the transport
// matrix (pyro_internal_test.go): one-way TLS, and mutual TLS with certificate
// checks on both sides.
func tlsTransports(t *testing.T) []transport {
	b := testBundle(t)
	srv, cli := serverTLS(t, b, false), clientTLS(t, b, false)
	msrv, mcli := serverTLS(t, b, true), clientTLS(t, b, true)
	return []transport{
		{name: "tls", daemon: func(*testing.T, *Config) []DaemonOption { return []DaemonOption{WithTLSConfig(srv)} },
			proxy: []ProxyOption{WithTLSConfig(cli)}},
		{name: "mtls", daemon: func(*testing.T, *Config) []DaemonOption {
			return []DaemonOption{WithTLSConfig(msrv), WithPeerCertCheck(CheckCommonName("pyrogo client"))}
		}, proxy: []ProxyOption{WithTLSConfig(mcli), WithPeerCertCheck(CheckSAN("localhost"))}},
	}
}

// startTLSDaemon runs a daemon with the test Thing and a tlsProbe
// ("probe") and returns the probe's URI.
func startTLSDaemon(t *testing.T, cfg *Config, opts ...DaemonOption) (*Daemon, URI) {
	t.Helper()
	d, u, _ := startDaemon(t, cfg, opts...)
	pu, err := d.Register(&tlsProbe{}, "probe")
	if err != nil {
		t.Fatal(err)
	}
	_ = u
	return d, pu
}

// callProbe calls probe.peer through a new proxy and closes it.
func callProbe(u URI, cfg *Config, opts ...ProxyOption) (string, error) {
	p, err := NewProxyURI(u, cfg, opts...)
	if err != nil {
		return "", err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return CallT[string](ctx, p, "peer")
}

// mustServe checks that a good client is still served.
func mustServe(t *testing.T, u URI, want string, opts ...ProxyOption) {
	t.Helper()
	got, err := callProbe(u, nil, opts...)
	if err != nil || got != want {
		t.Fatalf("good client: %q, %v (want %q)", got, err, want)
	}
}

func TestTLSOneWayAndMutual(t *testing.T) {
	b := testBundle(t)
	t.Run("one-way", func(t *testing.T) {
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, false)))
		mustServe(t, u, "anonymous", WithTLSConfig(clientTLS(t, b, false)))
		// a client certificate is not asked for, so not seen
		mustServe(t, u, "anonymous", WithTLSConfig(clientTLS(t, b, true)))
	})
	t.Run("mutual", func(t *testing.T) {
		var seen atomic.Pointer[tls.ConnectionState]
		hs := func(ctx context.Context, c *ConnInfo, data any) (any, error) {
			seen.Store(c.TLS)
			return "hello", nil
		}
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)), WithHandshake(hs))
		mustServe(t, u, "pyrogo client", WithTLSConfig(clientTLS(t, b, true)))
		st := seen.Load()
		if st == nil || len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "pyrogo client" {
			t.Errorf("HandshakeFunc's ConnInfo.TLS: %+v", st)
		}
	})
	t.Run("unix socket", func(t *testing.T) {
		// the proxy checks a unix socket daemon's certificate for "localhost"
		sock := filepath.Join(t.TempDir(), "tls.sock")
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)), WithUnixSocket(sock))
		mustServe(t, u, "pyrogo client", WithTLSConfig(clientTLS(t, b, true)))
		if _, err := callProbe(u, nil); err == nil {
			t.Error("plaintext proxy served by a TLS unix socket daemon")
		}
	})
	t.Run("TLS listener", func(t *testing.T) {
		// a tls.Listener given with WithListener works like WithTLS
		ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS(t, b, true))
		if err != nil {
			t.Fatal(err)
		}
		_, u := startTLSDaemon(t, nil, WithListener(ln))
		mustServe(t, u, "pyrogo client", WithTLSConfig(clientTLS(t, b, true)))
	})
	t.Run("versions", func(t *testing.T) {
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, false)))
		for _, max := range []uint16{0, tls.VersionTLS12} {
			conf := clientTLS(t, b, false)
			conf.MaxVersion = max
			p := newProxy(t, u, nil, WithTLSConfig(conf))
			v, err := CallT[int](context.Background(), p, "version")
			want := tls.VersionTLS13
			if max != 0 {
				want = int(max)
			}
			if err != nil || v != want {
				t.Errorf("max version %x: negotiated %x, %v", max, v, err)
			}
		}
	})
}

// writeBundle writes b into a new temporary directory and returns it.
func writeBundle(t *testing.T, b *devcert.Bundle) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	if err := b.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tlsConfigs returns a server and a client Config using the bundle files
// in dir, with mutual TLS.
func tlsConfigs(dir string) (server, client *Config) {
	server = BuiltinConfig()
	server.SSL = true
	server.SSLServerCert = filepath.Join(dir, devcert.ServerCertFile)
	server.SSLServerKey = filepath.Join(dir, devcert.ServerKeyFile)
	server.SSLRequireClientCert = true
	server.SSLCACerts = filepath.Join(dir, devcert.CACertFile)
	client = BuiltinConfig()
	client.SSL = true
	client.SSLCACerts = filepath.Join(dir, devcert.CACertFile)
	client.SSLClientCert = filepath.Join(dir, devcert.ClientCertFile)
	client.SSLClientKey = filepath.Join(dir, devcert.ClientKeyFile)
	return server, client
}

func TestTLSFromConfig(t *testing.T) {
	b := testBundle(t)
	dir := writeBundle(t, b)
	scfg, ccfg := tlsConfigs(dir)
	// SSL_CACERTS as a directory, with a file that holds no certificate
	caDir := filepath.Join(t.TempDir(), "cas")
	os.Mkdir(caDir, 0o700)
	os.WriteFile(filepath.Join(caDir, "README"), []byte("not a certificate\n"), 0o600)
	os.WriteFile(filepath.Join(caDir, "ca.pem"), b.CACert, 0o600)
	scfg.SSLCACerts = caDir

	d, u := startTLSDaemon(t, scfg)
	if d.TLSConfig() == nil || d.TLSConfig().MinVersion != tls.VersionTLS12 {
		t.Fatalf("daemon TLS config %+v", d.TLSConfig())
	}
	if got, err := callProbe(u, ccfg); err != nil || got != "pyrogo client" {
		t.Errorf("mutual TLS from config: %q %v", got, err)
	}
	// without a client certificate: refused
	noCert := ccfg.Clone()
	noCert.SSLClientCert, noCert.SSLClientKey = "", ""
	if _, err := callProbe(u, noCert); err == nil {
		t.Error("client without certificate accepted by SSL_REQUIRECLIENTCERT daemon")
	}
	// SSL=false on the proxy: plaintext, refused
	plain := ccfg.Clone()
	plain.SSL = false
	if _, err := callProbe(u, plain); err == nil {
		t.Error("plaintext proxy served by TLS daemon")
	}
	// WithTLSConfig(nil) overrides SSL=true
	if _, err := callProbe(u, ccfg, WithTLSConfig(nil)); err == nil {
		t.Error("WithTLSConfig(nil) still used TLS")
	}

	// the key inside the certificate file (SSL_SERVERKEY empty), one-way
	combined := filepath.Join(t.TempDir(), "server.pem")
	os.WriteFile(combined, append(append([]byte{}, b.ServerCert...), b.ServerKey...), 0o600)
	one := BuiltinConfig()
	one.SSL, one.SSLServerCert = true, combined
	_, u1 := startTLSDaemon(t, one)
	oneClient := BuiltinConfig()
	oneClient.SSL, oneClient.SSLCACerts = true, filepath.Join(dir, devcert.CACertFile)
	if got, err := callProbe(u1, oneClient); err != nil || got != "anonymous" {
		t.Errorf("one-way TLS with key in certificate file: %q %v", got, err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	b := testBundle(t)
	dir := writeBundle(t, b)
	junk := filepath.Join(t.TempDir(), "junk.pem")
	os.WriteFile(junk, []byte("junk"), 0o600)
	base, cbase := tlsConfigs(dir)
	cases := []struct {
		name   string
		server bool
		edit   func(c *Config)
		want   string
	}{
		{"no server cert", true, func(c *Config) { c.SSLServerCert = "" }, "SSL_SERVERCERT is not set"},
		{"missing server cert", true, func(c *Config) { c.SSLServerCert = junk + ".absent" }, "SSL_SERVERCERT"},
		{"require without CA", true, func(c *Config) { c.SSLCACerts = "" }, "SSL_REQUIRECLIENTCERT needs SSL_CACERTS"},
		{"CA file without certs", true, func(c *Config) { c.SSLCACerts = junk }, "no PEM certificate"},
		{"no key in the certificate file", true, func(c *Config) { c.SSLServerKey = "" }, "no PEM private key in the certificate file; set SSL_SERVERKEY"},
		{"key without PEM", true, func(c *Config) { c.SSLServerKey = junk }, "no PEM private key"},
		{"mismatched key", true, func(c *Config) { c.SSLServerKey = filepath.Join(dir, devcert.ClientKeyFile) }, "SSL_SERVERCERT"},
		{"client key without cert", false, func(c *Config) { c.SSLClientCert = "" }, "SSL_CLIENTKEY is set but SSL_CLIENTCERT is not"},
		{"client CA dir empty", false, func(c *Config) { c.SSLCACerts = t.TempDir() }, "no PEM certificate found in the directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.server {
				c := base.Clone()
				tc.edit(c)
				var d *Daemon
				if d, err = NewDaemon(c); err == nil {
					d.Close()
				}
			} else {
				c := cbase.Clone()
				tc.edit(c)
				_, err = NewProxy("PYRO:x@localhost:1", c)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// peer checks need TLS
	if d, err := NewDaemon(nil, WithPeerCertCheck(CheckCommonName("x"))); err == nil {
		d.Close()
		t.Error("WithPeerCertCheck without TLS accepted")
	}
	if _, err := NewProxy("PYRO:x@localhost:1", nil, WithPeerCertCheck(PinSHA256(strings.Repeat("00", 32)))); err == nil {
		t.Error("WithPeerCertCheck without TLS accepted")
	}
	if _, err := NewDaemon(nil, WithTLSConfig(&tls.Config{})); err == nil {
		t.Error("WithTLS without certificate accepted")
	}
	// a config allowing TLS 1.0 is raised to 1.2
	sc := serverTLS(t, b, false)
	sc.MinVersion = tls.VersionTLS10
	d, err := NewDaemon(nil, WithTLSConfig(sc))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.TLSConfig().MinVersion != tls.VersionTLS12 || sc.MinVersion != tls.VersionTLS10 {
		t.Errorf("MinVersion not raised on a copy: %x %x", d.TLSConfig().MinVersion, sc.MinVersion)
	}
}

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

// TestTLSPeerCertChecks covers the certificate check hooks on both sides.
func TestTLSPeerCertChecks(t *testing.T) {
	b := testBundle(t)
	logger, logBuf := testkit.TextLogger(slog.LevelInfo)
	cli := clientTLS(t, b, true)

	t.Run("server accepts", func(t *testing.T) {
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)),
			WithPeerCertCheck(CheckAll(CheckCommonName("pyrogo client"), PinSHA256(fingerprint(t, b.ClientCert)))))
		mustServe(t, u, "pyrogo client", WithTLSConfig(cli))
	})
	t.Run("server refuses", func(t *testing.T) {
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)), WithLogger(logger),
			WithPeerCertCheck(CheckCommonName("mallory")))
		_, err := callProbe(u, nil, WithTLSConfig(cli))
		want := `connection to ` + u.Location() + ` rejected: client certificate refused: certificate common name "pyrogo client" is not accepted`
		if !errors.Is(err, ErrConnectionDenied) || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
		n := strings.Count(logBuf.String(), "client certificate refused")
		if n != 1 {
			t.Errorf("refusal logged %d times:\n%s", n, logBuf.String())
		}
	})
	_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, false)))
	serverFP := fingerprint(t, b.ServerCert)
	t.Run("client pins", func(t *testing.T) {
		mustServe(t, u, "anonymous", WithTLSConfig(clientTLS(t, b, false)), WithPeerCertCheck(PinSHA256(serverFP)))
		lower := strings.ToLower(strings.ReplaceAll(serverFP, ":", ""))
		mustServe(t, u, "anonymous", WithTLSConfig(clientTLS(t, b, false)), WithPeerCertCheck(PinSHA256(strings.Repeat("00", 32), lower)))
		// pinning alone, for a server whose CA the client does not know
		mustServe(t, u, "anonymous", WithTLSConfig(&tls.Config{InsecureSkipVerify: true}), WithPeerCertCheck(PinSHA256(serverFP)))
	})
	t.Run("client refuses", func(t *testing.T) {
		wrong := fingerprint(t, b.ClientCert)
		_, err := callProbe(u, nil, WithTLSConfig(clientTLS(t, b, false)), WithPeerCertCheck(PinSHA256(wrong)))
		if !errors.Is(err, ErrCommunication) || errors.Is(err, ErrConnectionDenied) ||
			!strings.Contains(err.Error(), "server certificate refused: certificate fingerprint is not pinned") {
			t.Errorf("wrong pin: %v", err)
		}
		_, err = callProbe(u, nil, WithTLSConfig(&tls.Config{InsecureSkipVerify: true}), WithPeerCertCheck(PinSHA256(wrong)))
		if err == nil {
			t.Error("wrong pin accepted with InsecureSkipVerify")
		}
		_, err = callProbe(u, nil, WithTLSConfig(clientTLS(t, b, false)), WithPeerCertCheck(CheckSerial("01")))
		if err == nil || !strings.Contains(err.Error(), "serial number") {
			t.Errorf("wrong serial: %v", err)
		}
	})
	t.Run("autoproxy inherits", func(t *testing.T) {
		d, tu := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)), WithPeerCertCheck(CheckCommonName("pyrogo client")))
		thing := tu
		thing.Object = "thing"
		_ = d
		p := newProxy(t, thing, nil, WithTLSConfig(cli), WithPeerCertCheck(PinSHA256(serverFP)))
		child, err := CallT[*Proxy](context.Background(), p, "get_child")
		if err != nil {
			t.Fatal(err)
		}
		defer child.Close()
		if child.TLSConfig() != p.TLSConfig() {
			t.Error("autoproxy did not inherit the TLS config")
		}
		if name, err := CallT[string](context.Background(), child, "name"); err != nil || name != "kid" {
			t.Errorf("autoproxy call over TLS: %q %v", name, err)
		}
	})
}

func parseCertPEM(t testing.TB, data []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(data)
	if blk == nil {
		t.Fatal("no PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fingerprint(t testing.TB, certPEM []byte) string {
	return CertFingerprintSHA256(parseCertPEM(t, certPEM))
}

func TestPeerCertCheckFunctions(t *testing.T) {
	b := testBundle(t)
	srv := parseCertPEM(t, b.ServerCert)
	st := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{srv}}
	serial := fmt.Sprintf("%X", srv.SerialNumber)
	var colons []string
	for i := 0; i < len(serial); i += 2 {
		colons = append(colons, strings.ToLower(serial[i:min(i+2, len(serial))]))
	}
	sum := sha256.Sum256(srv.Raw)
	cases := []struct {
		name  string
		check PeerCertCheck
		ok    bool
	}{
		{"cn", CheckCommonName("x", "localhost"), true},
		{"cn wrong", CheckCommonName("Localhost"), false},
		{"serial", CheckSerial(serial), true},
		{"serial colons", CheckSerial("ff", strings.Join(colons, ":")), true},
		{"serial leading zeros", CheckSerial("0000" + serial), true},
		{"serial wrong", CheckSerial("1234"), false},
		{"serial not hex", CheckSerial(serial, "xyz"), false},
		{"san dns", CheckSAN("LOCALHOST"), true},
		{"san ip", CheckSAN("127.0.0.1"), true},
		{"san ipv6 long form", CheckSAN("0:0:0:0:0:0:0:1"), true},
		{"san wrong", CheckSAN("evil.example", "10.0.0.1"), false},
		{"pin", PinSHA256(fmt.Sprintf("%x", sum)), true},
		{"pin wrong", PinSHA256(strings.Repeat("ab", 32)), false},
		{"pin malformed", PinSHA256("abc", fmt.Sprintf("%x", sum)), false},
		{"all", CheckAll(CheckCommonName("localhost"), nil, CheckSAN("::1")), true},
		{"all one fails", CheckAll(CheckCommonName("localhost"), CheckSerial("1")), false},
	}
	for _, c := range cases {
		if err := c.check(st); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err := c.check(&tls.ConnectionState{}); c.ok && !errors.Is(err, ErrNoPeerCertificate) {
			t.Errorf("%s without certificate: %v", c.name, err)
		}
	}
	if fp := CertFingerprintSHA256(srv); len(fp) != 95 || fp != strings.ToUpper(fp) {
		t.Errorf("fingerprint %q", fp)
	}
}

// TestTLSIdleConnectionReuse: an idle pooled TLS connection is reused
// (session tickets and other post-handshake records do not make it look
// stale), and one the daemon closed is replaced without an error.
func TestTLSIdleConnectionReuse(t *testing.T) {
	b := testBundle(t)
	var handshakes atomic.Int64
	hs := func(context.Context, *ConnInfo, any) (any, error) { handshakes.Add(1); return "hello", nil }
	cfg := BuiltinConfig()
	cfg.CommTimeout = 300 * time.Millisecond
	_, u := startTLSDaemon(t, cfg, WithTLSConfig(serverTLS(t, b, false)), WithHandshake(hs))
	for _, max := range []uint16{tls.VersionTLS12, 0} {
		handshakes.Store(0)
		conf := clientTLS(t, b, false)
		conf.MaxVersion = max
		p := newProxy(t, u, nil, WithTLSConfig(conf), WithMaxConns(1))
		for i := 0; i < 3; i++ {
			if _, err := p.Call(context.Background(), "peer"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(staleCheckAfter + 50*time.Millisecond)
		}
		if n := handshakes.Load(); n != 1 {
			t.Errorf("TLS max %x: %d connections for 3 calls on an idle-checked pool", max, n)
		}
		time.Sleep(500 * time.Millisecond) // the daemon drops the idle connection
		if _, err := p.Call(context.Background(), "peer"); err != nil {
			t.Errorf("call after the daemon closed the idle connection: %v", err)
		}
		if n := handshakes.Load(); n != 2 {
			t.Errorf("%d connections, want 2", n)
		}
	}
}

// TestTLSIdleCheckBufferedRecords: socketIdle sees records that the TLS
// layer already took from the socket.
func TestTLSIdleCheckBufferedRecords(t *testing.T) {
	b := testBundle(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS(t, b, false))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("A"))
		c.Write([]byte("B")) // a second record
		<-release
	}()
	conf := clientTLS(t, b, false)
	conf.ServerName = "localhost"
	tc, err := tls.Dial("tcp", ln.Addr().String(), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { close(release); tc.Close(); <-done }()
	time.Sleep(100 * time.Millisecond) // both records arrive
	var one [1]byte
	if _, err := tc.Read(one[:]); err != nil || one[0] != 'A' {
		t.Fatalf("read %q %v", one, err)
	}
	if !socketIdle(tc.NetConn()) {
		t.Fatal("the socket itself should be drained (test assumption)")
	}
	if socketIdle(tc) {
		t.Error("socketIdle missed a record buffered in the TLS layer")
	}
}

// encryptPKCS8 encrypts a PKCS#8 key with PBES2 (PBKDF2-HMAC-SHA256,
// AES-256-CBC), as openssl pkcs8 -topk8 does.
func encryptPKCS8(t testing.TB, der []byte, pass string) []byte {
	t.Helper()
	out, err := pemkey.EncryptPKCS8(der, []byte(pass), 2048)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTLSEncryptedKeys(t *testing.T) {
	b := testBundle(t)
	dir := writeBundle(t, b)
	blk, _ := pem.Decode(b.ServerKey)
	keys := map[string][]byte{"go-pbes2": encryptPKCS8(t, blk.Bytes, "s3cret")}
	var pbes1 []byte
	if openssl, err := exec.LookPath("openssl"); err == nil {
		plain := filepath.Join(dir, devcert.ServerKeyFile)
		run := func(args ...string) []byte {
			out, err := exec.Command(openssl, args...).Output()
			if err != nil {
				t.Logf("openssl %v: %v (variant skipped)", args, err)
				return nil
			}
			return out
		}
		for name, args := range map[string][]string{
			"openssl-default":     {"pkcs8", "-topk8", "-in", plain, "-passout", "pass:s3cret"},
			"openssl-aes128-sha1": {"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1", "-in", plain, "-passout", "pass:s3cret"},
			"openssl-aes192-sha512": {"pkcs8", "-topk8", "-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512", "-in", plain,
				"-passout", "pass:s3cret"},
			"openssl-3des":        {"pkcs8", "-topk8", "-v2", "des3", "-in", plain, "-passout", "pass:s3cret"},
			"openssl-traditional": {"pkey", "-in", plain, "-aes256", "-traditional", "-passout", "pass:s3cret"},
		} {
			if out := run(args...); out != nil {
				keys[name] = out
			}
		}
		pbes1 = run("pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", plain, "-passout", "pass:s3cret")
	} else {
		t.Log("openssl not found: testing Go-encrypted keys only")
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, data, 0o600)
		return p
	}
	for name, data := range keys {
		t.Run(name, func(t *testing.T) {
			cfg := BuiltinConfig()
			cfg.SSLServerCert = filepath.Join(dir, devcert.ServerCertFile)
			cfg.SSLServerKey = write("k.pem", data)
			cfg.SSLServerKeyPasswd = "s3cret"
			if _, err := ServerTLSConfig(cfg); err != nil {
				t.Fatalf("encrypted key: %v", err)
			}
			cfg.SSLServerKeyPasswd = "wrong"
			if _, err := ServerTLSConfig(cfg); err == nil || !strings.Contains(err.Error(), "password") {
				t.Errorf("wrong password: %v", err)
			}
			cfg.SSLServerKeyPasswd = ""
			if _, err := ServerTLSConfig(cfg); err == nil || !strings.Contains(err.Error(), "set SSL_SERVERKEYPASSWD") {
				t.Errorf("no password: %v", err)
			}
		})
	}
	// a client key too, end to end
	ckBlk, _ := pem.Decode(b.ClientKey)
	scfg, ccfg := tlsConfigs(dir)
	ccfg.SSLClientKey = write("client.key", encryptPKCS8(t, ckBlk.Bytes, "pw"))
	ccfg.SSLClientKeyPasswd = "pw"
	_, u := startTLSDaemon(t, scfg)
	if got, err := callProbe(u, ccfg); err != nil || got != "pyrogo client" {
		t.Errorf("encrypted client key: %q %v", got, err)
	}
	if pbes1 != nil {
		cfg := BuiltinConfig()
		cfg.SSLServerCert = filepath.Join(dir, devcert.ServerCertFile)
		cfg.SSLServerKey = write("pbes1.pem", pbes1)
		cfg.SSLServerKeyPasswd = "s3cret"
		if _, err := ServerTLSConfig(cfg); err == nil || !strings.Contains(err.Error(), "only PBES2 is supported") {
			t.Errorf("PBES1 key: %v", err)
		}
	}
}
