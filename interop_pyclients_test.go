package pyro_test

// Interop A: Python Pyro4 clients (testdata/interop/pyclient.py) against
// Go daemons; see interop_test.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit/pyrotest"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/py"
)

// ---------------------------------------------------------------------------
// A. Python clients -> Go daemons (and C-F from the Python side)

type pyCase struct {
	OK      bool    `json:"ok"`
	Skip    bool    `json:"skip"`
	Detail  string  `json:"detail"`
	Seconds float64 `json:"seconds"`
}

// requiredPyCases must be among the script's results, so a script that
// silently stops running a check cannot pass.
var requiredPyCases = []string{
	"echo/bigint", "echo/unicode", "echo/nan", "echo/dict_int_keys", "echo/nested", "echo/error", "echo/oneway_echo",
	"echo/generator", "echo/verbose_attribute", "echo/dunder", "echo/nan_inf", "echo/metadata",
	"typed/ints", "typed/floats", "typed/strings", "typed/bytes", "typed/lists", "typed/dicts", "typed/struct",
	"typed/kwargs", "typed/none", "typed/key_error", "typed/batch", "typed/autoproxy", "typed/context",
	"typed/ping_message", "daemon/methods", "hmac/ok", "hmac/wrong_key", "hmac/no_key", "hmac/key_vs_unkeyed_daemon",
	"unix/path", "unix/abstract", "compression/both_ways", "max_message_size/request_too_big",
	"max_message_size/reply_too_big", "typed/async", "typed/timeout", "daemon/serializer_not_accepted",
	"handshake/accepted", "handshake/refused",
	"typed/arity", "typed/large_messages", "compression/with_hmac",
}

func TestInteropPythonClients(t *testing.T) {
	pytest.Python(t)
	pyEcho := startPyEchoServer(t)

	main, _ := startGoDaemon(t, nil)
	hmacD, _ := startGoDaemon(t, nil, pyro.WithHMACKey([]byte(interopKey)))
	unixD, _ := startGoDaemon(t, nil, pyro.WithUnixSocket(filepath.Join(t.TempDir(), "go.sock")))
	abstract := ""
	if isLinux() {
		ad, _ := startGoDaemon(t, nil, pyro.WithUnixSocket(fmt.Sprintf("\x00pyrogo-interop-%d-%d", os.Getpid(), time.Now().UnixNano())))
		abstract = ad.URIFor("typed").String()
	}
	ccfg := pyro.BuiltinConfig()
	ccfg.Compression = true
	compD, _ := startGoDaemon(t, ccfg)
	hccfg := pyro.BuiltinConfig()
	hccfg.Compression = true
	hmacCompD, _ := startGoDaemon(t, hccfg, pyro.WithHMACKey([]byte(interopKey)))
	lcfg := pyro.BuiltinConfig()
	lcfg.MaxMessageSize = interopLimit
	limD, _ := startGoDaemon(t, lcfg)
	shakeD, _ := startGoDaemon(t, nil, pyro.WithHandshake(func(ctx context.Context, c *pyro.ConnInfo, data any) (any, error) {
		d, _ := data.(*py.Dict)
		secret, _ := d.GetString("secret")
		n, _ := d.GetString("n")
		if secret != "open sesame" {
			return nil, fmt.Errorf("go away: bad handshake %s", py.Repr(data))
		}
		return py.DictOf("welcome", true, "n", n), nil
	}))

	input, err := json.Marshal(map[string]any{
		"go_echo":       main.URIFor(echoserver.ObjectID).String(),
		"py_echo":       pyEcho,
		"typed":         main.URIFor("typed").String(),
		"daemon":        main.URIFor(pyro.DaemonObjectID).String(),
		"hmac":          map[string]string{"uri": hmacD.URIFor("typed").String(), "key": interopKey},
		"unix":          unixD.URIFor("typed").String(),
		"abstract":      abstract,
		"compress":      compD.URIFor("typed").String(),
		"limited":       limD.URIFor("typed").String(),
		"shake":         shakeD.URIFor("typed").String(),
		"hmac_compress": hmacCompD.URIFor("typed").String(),
		"limit":         interopLimit,
		"slow_delay":    slowDelay.Seconds(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ser := range pyrotest.Serializers {
		t.Run(ser, func(t *testing.T) {
			res := pytest.Cmd{
				Args:  []string{"testdata/interop/pyclient.py"},
				Env:   []string{"PYRO_SERIALIZER=" + ser},
				Stdin: string(input),
			}.Run(t)
			var out struct {
				Serializer string            `json:"serializer"`
				Cases      map[string]pyCase `json:"cases"`
			}
			if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil {
				t.Fatalf("pyclient.py exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			if out.Serializer != ser {
				t.Fatalf("script used serializer %q", out.Serializer)
			}
			for _, name := range requiredPyCases {
				if _, ok := out.Cases[name]; !ok {
					t.Errorf("case %s missing from the script's results", name)
				}
			}
			names := make([]string, 0, len(out.Cases))
			for n := range out.Cases {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, name := range names {
				c := out.Cases[name]
				t.Run(name, func(t *testing.T) {
					switch {
					case !c.OK:
						t.Error(c.Detail)
					case c.Skip:
						t.Skip(c.Detail)
					case c.Detail != "":
						t.Log(c.Detail)
					}
					if c.Seconds > 2 {
						t.Logf("took %.1fs in the Python client", c.Seconds)
					}
				})
			}
			if res.Stderr != "" && t.Failed() {
				t.Logf("stderr:\n%s", res.Stderr)
			}
		})
	}
}

func isLinux() bool { return runtime.GOOS == "linux" }
