package main

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"

	"github.com/pyrogo/pyro/py"
)

// Pyro5 nsc's yplookup_all and yplookup_any commands, against "pyro ns"
// (spoken to over Pyro4's protocol, so the tags come back as lists, as
// Pyro4's list sends them): Pyro5 nsc's titles and selection, and the
// missing-argument exit.
func TestNSCYplookup(t *testing.T) {
	ns := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0").uri
	loc := []string{"-n", ns.Host, "-p", strconv.Itoa(ns.Port)}
	run := func(stdin string, args ...string) nscResult {
		return nscRun(t, cleanEnviron(), stdin, append(append([]string{}, loc...), args...)...)
	}
	for _, c := range [][]string{
		{"register", "a.b", "PYRO:x@127.0.0.1:1"},
		{"register", "other.c", "PYRO:y@127.0.0.1:2"},
		{"setmeta", "a.b", "t1", "t2"},
		{"setmeta", "other.c", "t1"},
	} {
		if r := run("", c...); r.Exit != 0 {
			t.Fatalf("%v: %+v", c, r)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
		exit int
	}{
		{[]string{"yplookup_all", "t1", "t2"}, "--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: ['t1', 't2']\n--------END LIST  - searched by metadata\n", 0},
		{[]string{"yplookup_any", "t2", "nothing"}, "--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: ['t1', 't2']\n--------END LIST  - searched by metadata\n", 0},
		{[]string{"yplookup_any", "t1"}, "--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: ['t1', 't2']\nother.c --> PYRO:y@127.0.0.1:2\n    metadata: ['t1']\n--------END LIST  - searched by metadata\n", 0},
		{[]string{"yplookup_all", "nothing"}, "--------START LIST  - searched by metadata\n--------END LIST  - searched by metadata\n", 0},
		{[]string{"yplookup_all"}, "", 1},
	} {
		r := run("", tc.args...)
		if r.Stdout != tc.want || r.Exit != tc.exit {
			t.Errorf("nsc %v: exit %d\n%s\nwant exit %d\n%s", tc.args, r.Exit, r.Stdout, tc.exit, tc.want)
		}
	}
}

// Metadata is printed as Python's nsc prints what it got: a set as a set
// (Pyro5's name server), a list as a list (Pyro4's), the tags always
// through repr.
func TestNSCMetaRepr(t *testing.T) {
	for _, tc := range []struct {
		raw  any
		tags []string
		want string
	}{
		{py.SetOf("red"), []string{"red"}, "{'red'}"},
		{py.SetOf("b", "a"), []string{"b", "a"}, "{'b', 'a'}"},
		{[]any{"red"}, []string{"red"}, "['red']"},
		{nil, []string{"red"}, "['red']"},
		{py.SetOf("x\x1b[2J"), []string{"x\x1b[2J"}, `{'x\x1b[2J'}`},
	} {
		if got := metaRepr(tc.raw, tc.tags); got != tc.want {
			t.Errorf("metaRepr(%v) = %s, want %s", tc.raw, got, tc.want)
		}
	}
}

// pyro nsc against Pyro5's own name server prints, command by command,
// what python -m Pyro5.nsc prints against it (the golden transcript
// Nsc5Golden; metadata order aside): with the protocol detected (auto,
// the default), forced to 5 by --protocol or PYRO_PROTOCOL. --strict
// gives Pyro5 nsc's exit status 1 after a failed command; without it the
// exit statuses are pyro4-nsc's (0), the output the same.
func TestNSCAgainstPyro5NameServer(t *testing.T) {
	pytest.Pyro5(t)
	for _, c := range []struct {
		name  string
		flags []string
		env   []string
	}{
		{"auto", nil, nil},
		{"protocol5", []string{"--protocol", "5"}, nil},
		{"env5", nil, []string{"PYRO_PROTOCOL=5"}},
		{"flag_over_env", []string{"--protocol", "auto"}, []string{"PYRO_PROTOCOL=4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := pytest.StartNameServer5(t, pytest.NS5{})
			u, err := pyro.ParseURI(ns.URI)
			if err != nil {
				t.Fatal(err)
			}
			env := cleanEnviron(c.env...)
			got := pytest.NscTranscript5(u.Host, u.Port, func(args []string, stdin string) (string, int) {
				full := append([]string{"-n", u.Host, "-p", strconv.Itoa(u.Port), "--strict"}, c.flags...)
				r := nscRun(t, env, stdin, append(full, args...)...)
				return r.Stdout, r.Exit
			})
			if want := pytest.Nsc5Golden(t); got != want {
				t.Errorf("pyro nsc against Pyro5's name server:\n%s\nPyro5 nsc:\n%s", got, want)
			}
		})
	}
}

// Forced to the protocol a name server does not speak, pyro nsc says
// which one it speaks; a bad --protocol is a usage error. listmeta_all
// and listmeta_any work against Pyro5's name server (through yplookup)
// and print what they print against a Pyro4 one, with Pyro5's sets.
func TestNSCProtocolChoice(t *testing.T) {
	pytest.Pyro5(t)
	ns5 := pytest.StartNameServer5(t, pytest.NS5{})
	u5, err := pyro.ParseURI(ns5.URI)
	if err != nil {
		t.Fatal(err)
	}
	ns4 := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0").uri
	loc := func(u pyro.URI) []string { return []string{"-n", u.Host, "-p", strconv.Itoa(u.Port)} }
	for _, c := range []struct {
		name string
		args []string
		env  []string
		exit int
		out  string // a part of stdout or stderr
	}{
		{"4_pyro5", append(loc(u5), "--protocol", "4", "ping"), nil, 0, "the daemon speaks protocol 502 (Pyro5), not 48 (Pyro4)"},
		{"env4_pyro5_strict", append(loc(u5), "--strict", "ping"), []string{"PYRO_PROTOCOL=4"}, 1, "and the proxy is set to PROTOCOL=4"},
		{"4_gons", append(loc(ns4), "--protocol", "4", "ping"), nil, 0, "Name server ping ok."},
		{"bad", append(loc(u5), "--protocol", "502", "ping"), nil, 2, "--protocol 502: must be 4, 5 or auto"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := nscRun(t, cleanEnviron(c.env...), "", c.args...)
			if r.Exit != c.exit || !strings.Contains(r.Stdout+r.Stderr, c.out) {
				t.Errorf("pyro nsc %v: exit %d\nstdout %q\nstderr %q\nwant exit %d and %q", c.args, r.Exit, r.Stdout, r.Stderr, c.exit, c.out)
			}
		})
	}
	for _, u := range []pyro.URI{u5, ns4} {
		for _, cmd := range [][]string{
			{"register", "a.b", "PYRO:x@127.0.0.1:1"},
			{"register", "other.c", "PYRO:y@127.0.0.1:2"},
			{"setmeta", "a.b", "t1", "t2"},
			{"setmeta", "other.c", "t1"},
		} {
			if r := nscRun(t, cleanEnviron(), "", append(append(loc(u), "--strict"), cmd...)...); r.Exit != 0 {
				t.Fatalf("%v: %+v", cmd, r)
			}
		}
	}
	for _, c := range []struct {
		args        []string
		want, want4 string
	}{
		{[]string{"listmeta_all", "t1", "t2"},
			"--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: {'t1', 't2'}\n--------END LIST  - searched by metadata\n",
			"--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: ['t1', 't2']\n--------END LIST  - searched by metadata\n"},
		{[]string{"listmeta_any", "t1"},
			"--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: {'t1', 't2'}\nother.c --> PYRO:y@127.0.0.1:2\n    metadata: {'t1'}\n--------END LIST  - searched by metadata\n",
			"--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: ['t1', 't2']\nother.c --> PYRO:y@127.0.0.1:2\n    metadata: ['t1']\n--------END LIST  - searched by metadata\n"},
	} {
		for i, u := range []pyro.URI{u5, ns4} {
			want := c.want
			if i == 1 {
				want = c.want4
			}
			r := nscRun(t, cleanEnviron(), "", append(append(loc(u), "--strict"), c.args...)...)
			if got := sortedSets(r.Stdout); r.Exit != 0 || got != want {
				t.Errorf("nsc %v against %s: exit %d\n%s\nwant\n%s", c.args, u, r.Exit, r.Stdout, want)
			}
		}
	}
}

// sortedSets sorts the members of the metadata sets nsc printed (Python
// sets have no order).
func sortedSets(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if i, j := strings.Index(line, "metadata: {"), strings.LastIndexByte(line, '}'); i >= 0 && j > i {
			items := strings.Split(line[i+11:j], ", ")
			slices.Sort(items)
			line = line[:i+11] + strings.Join(items, ", ") + line[j:]
		}
		b.WriteString(line)
	}
	return b.String()
}

// pyro nsc finds Pyro5's name server the ways Pyro5's nsc does: over a
// unix socket (-u) and by broadcast on loopback (no -n: -p is the
// broadcast port, Pyro5's BroadcastServer answers).
func TestNSCFindsPyro5NameServer(t *testing.T) {
	pytest.Pyro5(t)
	sock := filepath.Join(t.TempDir(), "ns.sock")
	pytest.StartNameServer5(t, pytest.NS5{UnixSocket: sock})
	bc := pytest.StartNameServer5(t, pytest.NS5{Broadcast: true})
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unix", nil, []string{"-u", sock, "-v", "list"}, "Name server found: PYRO:Pyro.NameServer@./u:" + sock + "\n--------START LIST \nPyro.NameServer --> PYRO:Pyro.NameServer@./u:" + sock + "\n    metadata: {'class:Pyro5.nameserver.NameServer'}\n"},
		{"broadcast", []string{"PYRO_NS_HOST=192.0.2.1", "PYRO_BROADCAST_ADDRS=127.0.0.1", "PYRO_COMMTIMEOUT=5"},
			[]string{"-p", strconv.Itoa(bc.BcPort), "-v", "ping"}, "Name server found: " + bc.URI + "\nName server ping ok.\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := nscRun(t, cleanEnviron(c.env...), "", append([]string{"--strict"}, c.args...)...)
			if r.Exit != 0 || !strings.Contains(r.Stdout, c.want) {
				t.Errorf("pyro nsc %v: exit %d\n%s%s\nwant %q", c.args, r.Exit, r.Stdout, r.Stderr, c.want)
			}
		})
	}
}

// python -m Pyro5.nsc against "pyro ns" prints what it prints against
// Pyro5's own name server (Nsc5Golden, metadata order aside); Python
// Pyro5 clients find it (locate_ns and ping), resolve PYRONAME and
// PYROMETA through it, while a Python Pyro4 client uses the same name
// server at the same time and gets Pyro4's answers.
func TestPyro5ClientsAgainstPyroNS(t *testing.T) {
	pytest.Pyro5(t)
	ns := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0").uri
	if got, want := pytest.NscSession5(t, ns.Host, ns.Port), pytest.Nsc5Golden(t); got != want {
		t.Errorf("Pyro5 nsc against pyro ns:\n%s\nagainst Pyro5's name server:\n%s", got, want)
	}
	loc := []string{"-n", ns.Host, "-p", strconv.Itoa(ns.Port), "--strict"}
	for _, c := range [][]string{
		{"register", "five.x", ns.String()},
		{"setmeta", "five.x", "kind:ns"},
	} {
		if r := nscRun(t, cleanEnviron(), "", append(append([]string{}, loc...), c...)...); r.Exit != 0 {
			t.Fatalf("%v: %+v", c, r)
		}
	}
	var py4 pytest.Result
	done := make(chan struct{})
	go func() { // a Pyro4 client at the same time
		defer close(done)
		py4 = pytest.Cmd{Args: []string{"-c", `import sys, Pyro4
ns = Pyro4.Proxy(sys.argv[1])
for i in range(20):
    uri, meta = ns.lookup("five.x", return_metadata=True)
print(type(meta).__name__, sorted(meta), ns.list(metadata_all={"kind:ns"}))`, ns.String()}}.Run(t)
	}()
	env := []string{"PYRO_NS_HOST=" + ns.Host, "PYRO_NS_PORT=" + strconv.Itoa(ns.Port)}
	for _, ser := range []string{"serpent", "json", "marshal"} {
		rs := map[string]string{}
		for _, r := range pytest.RunCalls5(t, ser, []pytest.Step5{
			{Name: "locate", Op: "locate_ns"},
			{Name: "pyroname", Op: "resolve", URI: "PYRONAME:five.x"},
			{Name: "pyrometa", Op: "resolve", URI: "PYROMETA:kind:ns"},
			{Name: "call-by-name", URI: "PYRONAME:five.x", Method: "count"},
			{Name: "lookup-meta", URI: ns.String(), Method: "lookup", Args: "('five.x',)", Kwargs: "{'return_metadata': True}"},
		}, env...) {
			rs[r.Name] = r.String()
		}
		for name, want := range map[string]string{
			"locate":       `Pyro5.core.URI ["uri","` + ns.String() + `"]`,
			"pyroname":     `Pyro5.core.URI ["uri","` + ns.String() + `"]`,
			"pyrometa":     `Pyro5.core.URI ["uri","` + ns.String() + `"]`,
			"call-by-name": `builtins.int ["int","3"]`, // other.c (left by the nsc session), five.x and itself
		} {
			if got := rs[name]; got != name+": "+want {
				t.Errorf("%s: Pyro5 client %s, want %s", ser, got, want)
			}
		}
		if got := rs["lookup-meta"]; !strings.Contains(got, `"kind:ns"`) {
			t.Errorf("%s: Pyro5 lookup with metadata: %s", ser, got)
		}
	}
	<-done
	if want := "list ['kind:ns'] {'five.x': '" + ns.String() + "'}\n"; py4.Stdout != want {
		t.Errorf("Pyro4 client at the same time: %q (stderr %s), want %q", py4.Stdout, py4.Stderr, want)
	}
}
