package main

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// TestCallProtocol: pyro call --protocol against Pyro4's and Pyro5's echo
// servers; auto finds either, a forced wrong protocol says what the server
// speaks, and pyro config shows PROTOCOL.
func TestCallProtocol(t *testing.T) {
	pytest.Pyro5(t)
	echo4 := pytest.StartEchoServer(t)
	echo5 := pytest.StartEchoServer5(t, pytest.Echo5{})
	env := cleanEnviron()
	for _, c := range []struct {
		name, uri, protocol string
		env                 []string
		code                int
		want                string // stdout, or a part of stderr
	}{
		{"auto_pyro4", echo4, "auto", nil, exitOK, "'hi'\n"},
		{"auto_pyro5", echo5, "auto", nil, exitOK, "'hi'\n"},
		{"default_pyro5", echo5, "", nil, exitOK, "'hi'\n"},
		{"4_pyro4", echo4, "4", nil, exitOK, "'hi'\n"},
		{"5_pyro5", echo5, "5", nil, exitOK, "'hi'\n"},
		{"env_5_pyro5", echo5, "", []string{"PYRO_PROTOCOL=5"}, exitOK, "'hi'\n"},
		{"4_pyro5", echo5, "4", nil, exitUsage, "the daemon speaks protocol 502 (Pyro5), not 48 (Pyro4)"},
		{"5_pyro4", echo4, "5", nil, exitUsage, "the daemon speaks protocol 48 (Pyro4), not 502 (Pyro5)"},
		{"env_4_pyro5", echo5, "", []string{"PYRO_PROTOCOL=4"}, exitUsage, "and the proxy is set to PROTOCOL=4"},
		{"flag_over_env", echo5, "5", []string{"PYRO_PROTOCOL=4"}, exitOK, "'hi'\n"},
		{"bad", echo5, "502", nil, exitUsage, "--protocol 502: must be 4, 5 or auto"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{c.uri, "echo", "'hi'"}
			if c.protocol != "" {
				args = append([]string{"--protocol", c.protocol}, args...)
			}
			code, stdout, stderr := callCmd(t, append(append([]string(nil), env...), c.env...), args...)
			if code != c.code || c.code == exitOK && stdout != c.want || c.code != exitOK && !strings.Contains(stderr, c.want) {
				t.Errorf("pyro call %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
		})
	}
	// a generator over 502
	if code, stdout, stderr := callCmd(t, env, "--protocol", "5", "--serializer", "json", echo5, "generator"); code != exitOK || stdout != "'one'\n'two'\n'three'\n" {
		t.Errorf("generator over 502: %d %q %q", code, stdout, stderr)
	}
	if _, stdout, _ := configCmd(); !strings.HasPrefix(configLines(t, stdout)["PROTOCOL"], "auto ") {
		t.Errorf("pyro config PROTOCOL: %q", configLines(t, stdout)["PROTOCOL"])
	}
	if _, stdout, _ := configCmd("PYRO_PROTOCOL=5"); !strings.HasPrefix(configLines(t, stdout)["PROTOCOL"], "5") {
		t.Errorf("pyro config PYRO_PROTOCOL=5: %q", configLines(t, stdout)["PROTOCOL"])
	}
}

type callKid struct{ _ int } // not zero-sized: two kids are two objects

func (*callKid) Name() string { return "kid" }

type callParent struct{ kids [2]*callKid }

func (p *callParent) Child() *callKid { return p.kids[0] }
func (p *callParent) Children() []any { return []any{p.kids[0], p.kids[1]} }

// TestCallAutoproxyDisplay: pyro call prints an autoproxy the way the
// Python of the protocol it spoke does: Pyro4.core.Proxy over 48,
// Pyro5.client.Proxy over 502.
func TestCallAutoproxyDisplay(t *testing.T) {
	d := pyrotest.Start(t, pyrotest.Config())
	parent := &callParent{kids: [2]*callKid{{0}, {1}}}
	u := pyrotest.Register(t, d, "parent", parent)
	k0 := pyrotest.Register(t, d, "", parent.kids[0]).String()
	k1 := pyrotest.Register(t, d, "", parent.kids[1]).String()
	for _, c := range []struct{ protocol, class string }{{"4", "Pyro4.core.Proxy"}, {"5", "Pyro5.client.Proxy"}, {"auto", "Pyro4.core.Proxy"}} {
		t.Run(c.protocol, func(t *testing.T) {
			code, out, errs := callCmd(t, nil, "--protocol", c.protocol, u.String(), "child")
			if want := "<" + c.class + " for " + k0 + ">\n"; code != exitOK || out != want {
				t.Errorf("child: exit %d, stdout %q (want %q), stderr %q", code, out, want, errs)
			}
			code, out, errs = callCmd(t, nil, "--protocol", c.protocol, u.String(), "children")
			if want := "[<" + c.class + " for " + k0 + ">, <" + c.class + " for " + k1 + ">]\n"; code != exitOK || out != want {
				t.Errorf("children: exit %d, stdout %q (want %q), stderr %q", code, out, want, errs)
			}
		})
	}
}
