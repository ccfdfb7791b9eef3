package pyro

// Security over protocol 502 with Python Pyro5 clients
// (testdata/interop5/pycall5.py): passphrase authentication through
// Pyro5's _pyroHandshake (the README's pyrogo_proxy with
// base=Pyro5.api.Proxy), the refusal of a daemon that requires an HMAC
// key, TLS and mutual TLS, unix sockets.

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/pytest"
)

// results5 indexes results by step name.
func results5(rs []pytest.Result5) map[string]pytest.Result5 {
	m := make(map[string]pytest.Result5, len(rs))
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}

func wantEcho5(t *testing.T, r pytest.Result5, v string) {
	t.Helper()
	if !r.OK || r.ValueJSON() != `["str","`+v+`"]` {
		t.Errorf("%s: %v", r.Name, r)
	}
}

func wantRefused5(t *testing.T, r pytest.Result5, class, msg string) {
	t.Helper()
	if r.OK || r.Class != class || r.Message != msg {
		t.Errorf("%s: %v\nwant %s: %s", r.Name, r, class, msg)
	}
}

// TestInterop5Passphrase: the README's pyrogo_proxy with
// base=Pyro5.api.Proxy against Go daemons: the right passphrase is served
// (also by a daemon that requires an HMAC key: the passphrase
// authenticates the 502 connection instead), a wrong one and none are
// refused; a daemon with an HMAC key and nothing else refuses Pyro5
// clients with a CONNECTFAIL that says why, while Pyro4 clients with the
// key are served; a unix socket serves Pyro5 clients.
func TestInterop5Passphrase(t *testing.T) {
	pytest.Pyro5(t)
	const pass = "pyro5 pass phrase ünï"
	_, pu, _, seen := authDaemonCfg(t, nil, map[string]string{"py5": pass})
	_, hpu, _, _ := authDaemonCfg(t, nil, map[string]string{"py5": pass}, WithHMACKey([]byte("the key")))
	_, hu, _ := startDaemon(t, nil, WithHMACKey([]byte("the key")))
	ud, _, _ := startDaemon(t, nil, WithUnixSocket(filepath.Join(t.TempDir(), "d5.sock")))
	steps := []pytest.Step5{
		{Name: "pass/right", URI: pu.String(), Method: "echo", Args: "('hi',)", Passphrase: pass},
		{Name: "pass/wrong", URI: pu.String(), Method: "echo", Args: "('hi',)", Passphrase: "wrong"},
		{Name: "pass/none", URI: pu.String(), Method: "echo", Args: "('hi',)"},
		{Name: "hmac+pass/right", URI: hpu.String(), Method: "echo", Args: "('keyed',)", Passphrase: pass},
		{Name: "hmac/refused", URI: hu.String(), Method: "echo", Args: "('hi',)"},
		{Name: "unix", URI: ud.URIFor("thing").String(), Method: "echo", Args: "('unix',)"},
	}
	for _, ser := range []string{"serpent", "json"} { // accepted by default
		t.Run(ser, func(t *testing.T) {
			rs := results5(pytest.RunCalls5(t, ser, steps))
			wantEcho5(t, rs["pass/right"], "hi")
			wantRefused5(t, rs["pass/wrong"], "Pyro5.errors.SecurityError", reasonAuthFailed)
			wantRefused5(t, rs["pass/none"], "Pyro5.errors.CommunicationError", "connection to <location> rejected: "+reasonAuthRequired)
			wantEcho5(t, rs["hmac+pass/right"], "keyed")
			wantRefused5(t, rs["hmac/refused"], "Pyro5.errors.CommunicationError", "connection to <location> rejected: "+reasonNoHMAC502)
			wantEcho5(t, rs["unix"], "unix")
		})
	}
	if got := strings.Join(*seen, " "); !strings.Contains(got, "py5=") {
		t.Errorf("the daemon's handshake saw %q, want the identity py5", got)
	}
	// a Pyro4 client with the key is served by the daemon that refused Pyro5
	if v, err := newProxy(t, hu, nil, WithHMACKey([]byte("the key"))).Call(context.Background(), "echo", "ok"); err != nil || v != "ok" {
		t.Errorf("Pyro4 proxy with the key: %v %v", v, err)
	}
}

// TestInterop5TLS: Python Pyro5 clients over TLS: a one-way TLS daemon
// serves them; a mutual-TLS daemon serves a client with a certificate and
// refuses one without; a mutual-TLS daemon that also requires an HMAC key
// serves the certificate's owner over 502 (the certificate authenticates
// it instead of the key).
func TestInterop5TLS(t *testing.T) {
	pytest.Pyro5(t)
	dir := writeBundle(t, testBundle(t))
	scfg, _ := tlsConfigs(dir)
	oneway := scfg.Clone()
	oneway.SSLRequireClientCert = false
	_, u1 := startTLSDaemon(t, oneway)
	_, u2 := startTLSDaemon(t, scfg)
	_, u3 := startTLSDaemon(t, scfg, WithHMACKey([]byte("the key")))
	ca := "PYRO_SSL_CACERTS=" + filepath.Join(dir, devcert.CACertFile)
	probe := func(name string, u URI) pytest.Step5 {
		return pytest.Step5{Name: name, URI: u.String(), Method: "peer"}
	}
	rs := results5(pytest.RunCalls5(t, "serpent", []pytest.Step5{probe("oneway", u1), probe("mutual", u2)}, "PYRO_SSL=true", ca))
	wantEcho5(t, rs["oneway"], "anonymous")
	if r := rs["mutual"]; r.OK || !strings.HasPrefix(r.Class, "Pyro5.errors.") {
		t.Errorf("client without certificate, mutual TLS: %v", r)
	}
	rs = results5(pytest.RunCalls5(t, "json", []pytest.Step5{probe("oneway", u1), probe("mutual", u2), probe("mutual+hmac", u3)},
		"PYRO_SSL=true", ca,
		"PYRO_SSL_CLIENTCERT="+filepath.Join(dir, devcert.ClientCertFile),
		"PYRO_SSL_CLIENTKEY="+filepath.Join(dir, devcert.ClientKeyFile)))
	wantEcho5(t, rs["oneway"], "anonymous")
	wantEcho5(t, rs["mutual"], "pyrogo client")
	wantEcho5(t, rs["mutual+hmac"], "pyrogo client")
}
