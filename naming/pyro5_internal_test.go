package naming

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
)

// as502 is an interceptor that makes the name server answer every call as
// it answers Pyro5 callers, whatever the connection's protocol: it lets a
// Pyro4 client (or a test) see the Pyro5 answers before the daemon serves
// protocol 502 itself.
var as502 = pyro.InterceptorFunc(func(next pyro.CallFunc) pyro.CallFunc {
	return func(ctx context.Context, c *pyro.Call) (any, error) {
		return next(context.WithValue(ctx, protoKey{}, protocol502), c)
	}
})

// ctx502 is a context in which the NameServer's methods answer as to a
// Pyro5 caller.
func ctx502(t testing.TB) context.Context {
	return context.WithValue(ctxT(t), protoKey{}, protocol502)
}

// runCalls5 runs testdata/ns_calls5.py in mode (local, pyro4 or pyro5)
// for the name server at host:port and returns its lines.
func runCalls5(t *testing.T, mode, host string, port int, env ...string) []string {
	t.Helper()
	res := pytest.Cmd{Args: []string{"testdata/ns_calls5.py", mode, host, strconv.Itoa(port)}, Env: env, Pyro5: true}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("ns_calls5.py %s %s:%d: exit %d\n%s", mode, host, port, res.ExitCode, res.Stderr)
	}
	return strings.Split(strings.TrimSpace(res.Stdout), "\n")
}

// compareLines reports every line where got differs from want.
func compareLines(t *testing.T, wantName string, want, got []string) {
	t.Helper()
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("line %d:\n%s: %s\ngo ns:    %s", i+1, wantName, w, g)
		}
	}
}

// The Go name server's answers to Pyro5 callers are Pyro5's: the same
// calls (every method of Pyro5's NameServer, valid and invalid arguments,
// positional and keyword) made on Pyro5's NameServer object itself and,
// through a Python client, on the Go name server answering as to a Pyro5
// caller give the same results, exception classes and messages, line by
// line.
func TestPyro5APISameAsPyro5NameServer(t *testing.T) {
	pytest.Pyro5(t)
	for _, ser := range []string{"serpent", "json", "marshal"} {
		t.Run(ser, func(t *testing.T) {
			s := startNS(t, nil, WithDaemonOptions(pyro.WithInterceptors(as502)))
			u := s.URI()
			want := runCalls5(t, "local", u.Host, u.Port, "PYRO_SERIALIZER="+ser)
			if len(want) < 75 {
				t.Fatalf("only %d lines from Pyro5's NameServer:\n%s", len(want), strings.Join(want, "\n"))
			}
			got := runCalls5(t, "pyro4", u.Host, u.Port, "PYRO_SERIALIZER="+ser)
			compareLines(t, "pyro5 ns", want, got)
		})
	}
}
