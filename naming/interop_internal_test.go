package naming

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// startPyNS starts Python's name server (python -m Pyro4.naming) on
// 127.0.0.1 and returns its URI; it is killed in t.Cleanup.
func startPyNS(t testing.TB, env ...string) pyro.URI {
	t.Helper()
	s := pytest.StartNameServer(t, []string{"-n", "127.0.0.1", "-p", strconv.Itoa(testkit.FreeTCPPort(t))}, env...)
	u, err := pyro.ParseURI(s.Ready)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The same Python client script makes every name server call, valid and
// invalid, positional and keyword, against pyro4-ns and against the Go
// name server: the outputs (results, exception classes and messages)
// must be identical line by line.
func TestPythonClientSameAsPyroNS(t *testing.T) {
	for _, ser := range []string{"serpent", "json", "marshal"} {
		t.Run(ser, func(t *testing.T) { sameAsPyroNS(t, ser) })
	}
}

func sameAsPyroNS(t *testing.T, serializer string) {
	pyNS := startPyNS(t)
	goNS := startNS(t, nil).URI()
	run := func(u pyro.URI) []string {
		res := pytest.Cmd{Args: []string{"testdata/ns_calls.py", u.Host, strconv.Itoa(u.Port)}, Env: []string{"PYRO_SERIALIZER=" + serializer}}.Run(t)
		if res.ExitCode != 0 {
			t.Fatalf("ns_calls.py against %s: exit %d\n%s", u, res.ExitCode, res.Stderr)
		}
		return strings.Split(strings.TrimSpace(res.Stdout), "\n")
	}
	want, got := run(pyNS), run(goNS)
	if len(want) < 80 {
		t.Fatalf("only %d lines from pyro4-ns:\n%s", len(want), strings.Join(want, "\n"))
	}
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if serializer == "marshal" && strings.HasSuffix(w, "builtins.ValueError: unmarshallable object") && strings.Contains(g, ": OK (URI(") {
			// pyro4-ns cannot marshal a URI inside a tuple (its marshal
			// serializer converts only top-level class instances); the
			// Go name server can, and the Python client reads it
			continue
		}
		if w != g {
			t.Errorf("line %d:\npyro4-ns: %s\ngo ns:    %s", i+1, w, g)
		}
	}
	if testing.Verbose() && serializer == "serpent" {
		t.Logf("%d calls identical; e.g.\n%s", len(want), strings.Join(want[:12], "\n"))
	}
}
