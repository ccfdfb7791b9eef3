package pyro

// TLS interoperability with Python Pyro4 (SSL=True), one-way and mutual,
// in both directions:
//
//   TestTLSInteropPythonClients: Python proxies (testdata/tls/pyclient_tls.py)
//     against Go daemons configured from the same certificate files.
//   TestTLSInteropPythonDaemon: Go proxies against Python daemons
//     (testdata/tls/pyserver_tls.py).
//
// The certificates come from devcert, written to a temporary directory;
// Python gets them through the PYRO_SSL* environment variables, as a Pyro4
// user configures them.

import (
	"context"
	"encoding/json"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/pytest"
)

type pyTLSResult struct {
	OK     bool    `json:"ok"`
	Echo   string  `json:"echo"`
	Peer   *string `json:"peer"`
	Serial string  `json:"serial"`
	Error  string  `json:"error"`
}

func runPyTLSClient(t *testing.T, env []string, uris ...string) []pyTLSResult {
	t.Helper()
	args := append([]string{"testdata/tls/pyclient_tls.py"}, uris...)
	res := pytest.Cmd{Args: args, Env: env}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("pyclient_tls.py exit %d:\n%s\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	var out []pyTLSResult
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		var r pyTLSResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad output line %q: %v\nstderr:\n%s", line, err, res.Stderr)
		}
		out = append(out, r)
	}
	if len(out) != len(uris) {
		t.Fatalf("%d results for %d URIs:\n%s\n%s", len(out), len(uris), res.Stdout, res.Stderr)
	}
	return out
}

func TestTLSInteropPythonClients(t *testing.T) {
	pytest.Python(t)
	b := testBundle(t)
	dir := writeBundle(t, b)
	scfg, _ := tlsConfigs(dir)
	oneway := scfg.Clone()
	oneway.SSLRequireClientCert = false
	_, u1 := startTLSDaemon(t, oneway)
	_, u2 := startTLSDaemon(t, scfg)
	_, u3 := startTLSDaemon(t, scfg, WithPeerCertCheck(CheckCommonName("mallory")))
	serverSerial := parseCertPEM(t, b.ServerCert).SerialNumber
	ca := "PYRO_SSL_CACERTS=" + filepath.Join(dir, devcert.CACertFile)

	checkOK := func(r pyTLSResult, wantPeer string) {
		t.Helper()
		if !r.OK || r.Echo != "hi" || r.Peer == nil || *r.Peer != wantPeer {
			t.Errorf("Python client: %+v (want peer %q)", r, wantPeer)
			return
		}
		if n, ok := new(big.Int).SetString(r.Serial, 16); !ok || n.Cmp(serverSerial) != 0 {
			t.Errorf("Python saw server serial %s, want %X", r.Serial, serverSerial)
		}
	}
	// without a client certificate: served by the one-way daemon, refused
	// by the mutual one
	res := runPyTLSClient(t, []string{"PYRO_SSL=true", ca}, u1.String(), u2.String())
	checkOK(res[0], "anonymous")
	if res[1].OK {
		t.Errorf("Python client without certificate served by a mutual-TLS daemon: %+v", res[1])
	}
	// with one: both serve it; the mutual daemon's method sees it
	res = runPyTLSClient(t, []string{"PYRO_SSL=true", ca,
		"PYRO_SSL_CLIENTCERT=" + filepath.Join(dir, devcert.ClientCertFile),
		"PYRO_SSL_CLIENTKEY=" + filepath.Join(dir, devcert.ClientKeyFile)}, u1.String(), u2.String(), u3.String())
	checkOK(res[0], "anonymous")
	checkOK(res[1], "pyrogo client")
	// a daemon's certificate check refuses it with a reason Python shows
	if want := `CommunicationError: connection to ('localhost', ` + strconv.Itoa(u3.Port) + `) rejected: client certificate refused: certificate common name "pyrogo client" is not accepted`; res[2].Error != want {
		t.Errorf("Python client refused by a certificate check:\n got %s\nwant %s", res[2].Error, want)
	}
	// a Python client trusting another CA refuses the Go daemon
	other := writeBundle(t, testBundle(t))
	res = runPyTLSClient(t, []string{"PYRO_SSL=true", "PYRO_SSL_CACERTS=" + filepath.Join(other, devcert.CACertFile)}, u1.String())
	if res[0].OK || !strings.Contains(res[0].Error, "CERTIFICATE_VERIFY_FAILED") {
		t.Errorf("Python client with the wrong CA: %+v", res[0])
	}
}

func TestTLSInteropPythonDaemon(t *testing.T) {
	pytest.Python(t)
	b := testBundle(t)
	dir := writeBundle(t, b)
	pyEnv := func(mutual bool) []string {
		env := []string{"PYRO_SSL=true",
			"PYRO_SSL_SERVERCERT=" + filepath.Join(dir, devcert.ServerCertFile),
			"PYRO_SSL_SERVERKEY=" + filepath.Join(dir, devcert.ServerKeyFile),
			"PYRO_SSL_CACERTS=" + filepath.Join(dir, devcert.CACertFile)}
		if mutual {
			env = append(env, "PYRO_SSL_REQUIRECLIENTCERT=true")
		}
		return env
	}
	_, ccfg := tlsConfigs(dir)
	noCert := ccfg.Clone()
	noCert.SSLClientCert, noCert.SSLClientKey = "", ""
	call := func(u URI, cfg *Config, method string, opts ...ProxyOption) (any, error) {
		p, err := NewProxyURI(u, cfg, opts...)
		if err != nil {
			return nil, err
		}
		defer p.Close()
		return p.Call(context.Background(), method)
	}
	pin := WithPeerCertCheck(PinSHA256(fingerprint(t, b.ServerCert)))

	t.Run("one-way", func(t *testing.T) {
		s := pytest.Cmd{Args: []string{"testdata/tls/pyserver_tls.py"}, Env: pyEnv(false)}.Start(t)
		u, err := ParseURI(s.Ready)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := call(u, noCert, "peer", pin); err != nil || got != nil {
			t.Errorf("peer: %v %v", got, err)
		}
		if got, err := call(u, noCert, "tls_version"); err != nil || got != "TLSv1.3" {
			t.Errorf("tls_version: %v %v", got, err)
		}
		// a proxy that does not trust the CA refuses the Python daemon
		other := testBundle(t)
		if _, err := call(u, nil, "peer", WithTLSConfig(clientTLS(t, other, false))); err == nil {
			t.Error("Go proxy accepted a Python daemon signed by an unknown CA")
		}
	})
	t.Run("mutual", func(t *testing.T) {
		s := pytest.Cmd{Args: []string{"testdata/tls/pyserver_tls.py"}, Env: pyEnv(true)}.Start(t)
		u, err := ParseURI(s.Ready)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := call(u, ccfg, "peer", pin); err != nil || got != "pyrogo client" {
			t.Errorf("peer: %v %v", got, err)
		}
		if got, err := call(u, noCert, "peer"); err == nil {
			t.Errorf("Python mutual-TLS daemon served a Go proxy without certificate: %v", got)
		}
		// the Python daemon is still serving
		p := newProxy(t, u, ccfg, WithMaxConns(1))
		if got, err := p.Call(context.Background(), "echo", "over tls"); err != nil || got != "over tls" {
			t.Errorf("echo: %v %v", got, err)
		}
		// an idle connection passes the stale check (OpenSSL's session
		// tickets are no reason to reconnect) and is reused
		id1, err1 := p.Call(context.Background(), "conn_id")
		time.Sleep(staleCheckAfter + 50*time.Millisecond)
		id2, err2 := p.Call(context.Background(), "conn_id")
		if err1 != nil || err2 != nil || id1 != id2 {
			t.Errorf("idle TLS connection not reused: %v %v, %v %v", id1, err1, id2, err2)
		}
	})
}
