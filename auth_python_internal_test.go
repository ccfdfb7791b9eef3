package pyro

// Passphrase authentication with Python clients: the README's snippet
// (testdata/auth/client.py) against Go daemons, and its Pyro5 form.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

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
// Pyro5 daemon that plays pyrogo's part of the exchange (the same snippet
// against the Go daemon itself, over 502, is TestInterop5Passphrase): a
// right passphrase is served (the proxy
// fetches the metadata after the proof, as it must with pyrogo's empty
// metadata before it), a wrong one is refused and the connection
// released, and a daemon that does not ask for the proof is refused.
func TestPassphrasePyro5Shape(t *testing.T) {
	res := pytest.Cmd{Args: []string{"testdata/auth/pyro5_shape.py"}, Pyro5: true}.Run(t)
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
