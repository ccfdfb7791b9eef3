package pyro

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/devcert"
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
