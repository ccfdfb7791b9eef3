package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// nsRun is an in-process "pyro ns".
type nsRun struct {
	stdout, stderr *testkit.Buffer
	finished       chan struct{}
	code           int
	cancel         context.CancelFunc
	uri            pyro.URI
}

// startNSCmd runs nsMain in a goroutine and waits for its URI line; it is
// stopped in t.Cleanup.
func startNSCmd(t *testing.T, environ []string, args ...string) *nsRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &nsRun{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}, finished: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.finished)
		r.code = nsMain(ctx, args, r.stdout, r.stderr, environ, nsOptions{})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.finished:
		case <-time.After(waitLimit):
			t.Error("pyro ns did not stop")
		}
	})
	line, ok := r.stdout.WaitLine("URI = ", r.finished)
	if !ok {
		t.Fatalf("no URI line; stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	u, err := pyro.ParseURI(line[strings.Index(line, "URI = ")+6:])
	if err != nil {
		t.Fatal(err)
	}
	r.uri = u
	return r
}

// stop ends the server as SIGINT would and returns its exit code.
func (r *nsRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case <-r.finished:
		return r.code
	case <-time.After(waitLimit):
		t.Fatal("pyro ns did not stop")
		return -1
	}
}

// nsStartupLines returns the startup lines of pyro4-ns for args (ports
// replaced by PORT), read from a real pyro4-ns.
func pyNSStartup(t *testing.T, args ...string) string {
	t.Helper()
	res := pytest.Cmd{Args: append([]string{"-c", `import sys, threading, Pyro4.naming, Pyro4.core
orig = Pyro4.core.Daemon.requestLoop
def loop(self, *a, **k):
    sys.stdout.flush()
    raise KeyboardInterrupt
Pyro4.core.Daemon.requestLoop = loop
try:
    Pyro4.naming.main(sys.argv[1:])
except KeyboardInterrupt:
    pass
`}, args...)}.Run(t)
	return res.Stdout
}

var portRE = regexp.MustCompile(`:\d{2,5}\b`)

// The startup output of "pyro ns" is pyro4-ns's, line for line, for a
// plain start and with NAT; SIGINT ends it cleanly.
func TestNSStartupOutput(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ns.sock")
	for _, extra := range [][]string{nil, {"--nathost", "nat.example", "--natport", "4242"}, {"-u", sock}} {
		args := append([]string{"-n", "127.0.0.1", "-p", "0"}, extra...)
		r := startNSCmd(t, cleanEnviron(), args...)
		if code := r.stop(t); code != 0 {
			t.Errorf("exit %d; stderr %s", code, r.stderr)
		}
		// The whole output once it has stopped: startNSCmd returns at the
		// first URI line, and with NAT the external one follows it.
		got, ok := strings.CutSuffix(r.stdout.String(), "NS shut down.\n")
		if !ok {
			t.Errorf("no shutdown line: %s", r.stdout)
		}
		want := pyNSStartup(t, args...)
		if !strings.Contains(want, "URI = ") {
			t.Fatalf("pyro4-ns startup output: %q", want)
		}
		// pyro ns prints "NS shut down." only at the end
		norm := func(s string) string { return portRE.ReplaceAllString(s, ":PORT") }
		if norm(got) != strings.TrimSuffix(norm(want), "NS shut down.\n") {
			t.Errorf("startup %v:\n%s\npyro4-ns:\n%s", extra, got, want)
		}
		t.Logf("pyro ns %v:\n%s", extra, got)
	}
}

func TestNSUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		env     []string
		code    int
		message string
	}{
		{[]string{"-n", "127.0.0.1", "-p", "0", "-s", "bogus"}, nil, exitUsage, "invalid storage type 'bogus'"},
		{[]string{"-n", "127.0.0.1", "-p", "0", "-s", "dbm:/tmp/x"}, nil, exitUsage, "not supported"},
		{[]string{"-k", "key"}, []string{"PYRO_HMAC_KEY=x"}, exitUsage, "don't use -k and PYRO_HMAC_KEY at the same time"},
		{[]string{"extra"}, nil, exitUsage, "unexpected arguments"},
		{[]string{"--regex-budget", "0"}, nil, exitUsage, "--regex-budget must be positive"},
		{[]string{"-n", "127.0.0.1", "-p", "0"}, []string{"PYRO_NS_AUTOCLEAN=1"}, exitRemote, "NS_AUTOCLEAN cannot be smaller than 3"},
	} {
		var out, errb bytes.Buffer
		code := nsMain(context.Background(), tc.args, &out, &errb, cleanEnviron(tc.env...), nsOptions{})
		if code != tc.code || !strings.Contains(errb.String(), tc.message) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errb.String())
		}
	}
	// a port in use
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out, errb bytes.Buffer
	if code := nsMain(context.Background(), []string{"-n", "127.0.0.1", "-p", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}, &out, &errb, cleanEnviron(), nsOptions{}); code != exitRemote {
		t.Errorf("port in use: exit %d %s", code, errb.String())
	}
}

// HMAC: -k warns, and only clients with the key get in.
func TestNSKey(t *testing.T) {
	r := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0", "-k", "sesame")
	if !strings.Contains(r.stderr.String(), "visible to other local users") {
		t.Errorf("no -k warning: %s", r.stderr)
	}
	if strings.Contains(r.stdout.String(), "HMAC key not set") {
		t.Errorf("HMAC warning with a key: %s", r.stdout)
	}
	port := strconv.Itoa(r.uri.Port)
	out := nscRun(t, cleanEnviron("PYRO_HMAC_KEY=sesame"), "", "-n", "127.0.0.1", "-p", port, "ping")
	if out.stdout != "Name server ping ok.\n" {
		t.Errorf("with key: %+v", out)
	}
	out = nscRun(t, cleanEnviron(), "", "-n", "127.0.0.1", "-p", port, "ping")
	if !strings.HasPrefix(out.stdout, "Error: Failed to locate the nameserver") {
		t.Errorf("without key: %+v", out)
	}
}

// nscResult is one command's outcome.
type nscResult struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Exit   int    `json:"exit"`
	stdout string
}

func nscRun(t *testing.T, environ []string, stdin string, args ...string) nscResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := nscMain(context.Background(), args, strings.NewReader(stdin), &out, &errb, environ)
	return nscResult{Stdout: out.String(), Stderr: errb.String(), Exit: code, stdout: out.String()}
}

// nscScript is a session of pyro4-nsc commands (arguments after the
// name server location, and stdin).
var nscScript = []struct {
	args  []string
	stdin string
}{
	{[]string{"ping"}, ""},
	{[]string{"list"}, ""},
	{[]string{"register", "a.b", "PYRO:x@127.0.0.1:1"}, ""},
	{[]string{"register", "a.b", "PYRO:x@127.0.0.1:1"}, ""},
	{[]string{"register", "other.c", "PYRO:y@127.0.0.1:2"}, ""},
	{[]string{"register", "a.unix", "PYRO:u@./u:/tmp/sock"}, ""},
	{[]string{"register", "bad", "junk"}, ""},
	{[]string{"register", "bad", "PYRO:x@host"}, ""},
	{[]string{"register", "onlyname"}, ""},
	{[]string{"setmeta", "a.b", "t2", "t1", "t3"}, ""},
	{[]string{"setmeta", "other.c", "t1"}, ""},
	{[]string{"setmeta", "nope", "x"}, ""},
	{[]string{"setmeta"}, ""},
	{[]string{"list"}, ""},
	{[]string{"list", "a"}, ""},
	{[]string{"list", ""}, ""},
	{[]string{"list", "zzz"}, ""},
	{[]string{"listmatching", `a\.`}, ""},
	{[]string{"listmatching", `.*\.c$`}, ""},
	{[]string{"listmatching", "("}, ""},
	{[]string{"listmatching"}, ""},
	{[]string{"listmeta_all", "t1", "t2"}, ""},
	{[]string{"listmeta_all", "t1"}, ""},
	{[]string{"listmeta_any", "t3", "zz"}, ""},
	{[]string{"listmeta_any", "class:Pyro4.naming.NameServer"}, ""},
	{[]string{"listmeta_all"}, ""},
	{[]string{"lookup", "a.b"}, ""},
	{[]string{"lookup", "a.unix"}, ""},
	{[]string{"lookup", "Pyro.NameServer"}, ""},
	{[]string{"lookup", "nope"}, ""},
	{[]string{"lookup"}, ""},
	{[]string{"ping", "-v"}, ""},
	{[]string{"remove", "nope"}, ""},
	{[]string{"remove", "a.unix"}, ""},
	{[]string{"remove"}, ""},
	{[]string{"removematching", ".*"}, "n\n"},
	{[]string{"removematching", ".*"}, ""},
	{[]string{"removematching", "("}, "y\n"},
	{[]string{"removematching", `a\.`}, "y\n"},
	{[]string{"setmeta", "other.c"}, ""},
	{[]string{"list"}, ""},
	{[]string{"removematching", ".*"}, "Y\n"},
	{[]string{"list"}, ""},
}

var metaRE = regexp.MustCompile(`metadata: \[(.*)\]`)

// normNSC makes outputs of different name servers comparable: the name
// server's location becomes NSLOC, and metadata lists (a Python set's
// arbitrary order on pyro4-ns) are sorted.
func normNSC(s, nsLoc string) string {
	s = strings.ReplaceAll(s, nsLoc, "NSLOC")
	return metaRE.ReplaceAllStringFunc(s, func(m string) string {
		items := strings.Split(metaRE.FindStringSubmatch(m)[1], ", ")
		slices.Sort(items)
		return "metadata: [" + strings.Join(items, ", ") + "]"
	})
}

// runNSCScript runs the script with "pyro nsc" (in-process) or pyro4-nsc
// (Pyro4.nsc.main in one Python process) against the name server at ns.
func runNSCScript(t *testing.T, python bool, ns pyro.URI) []nscResult {
	t.Helper()
	loc := []string{"-n", ns.Host, "-p", strconv.Itoa(ns.Port)}
	var out []nscResult
	if !python {
		for _, s := range nscScript {
			out = append(out, nscRun(t, cleanEnviron(), s.stdin, append(slices.Clone(loc), s.args...)...))
		}
		return out
	}
	var in [][2]any
	for _, s := range nscScript {
		in = append(in, [2]any{append(slices.Clone(loc), s.args...), s.stdin})
	}
	data, _ := json.Marshal(in)
	res := pytest.Cmd{Args: []string{"testdata/nsc_driver.py"}, Stdin: string(data)}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("nsc_driver.py: %s", res.Stderr)
	}
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("nsc_driver.py output: %v\n%s", err, res.Stdout)
	}
	return out
}

// Every pyro4-nsc command, run by pyro4-nsc and by "pyro nsc", against
// pyro4-ns and against "pyro ns": the four outputs agree line by line
// (stdout, exit status, and the message of a missing-argument exit).
func TestNSCMatrix(t *testing.T) {
	type combo struct {
		name            string
		pythonNS, pyNSC bool
	}
	var ref []nscResult
	var refName string
	for _, c := range []combo{{"pyro4-nsc/pyro4-ns", true, true}, {"pyro4-nsc/pyro-ns", false, true},
		{"pyro-nsc/pyro4-ns", true, false}, {"pyro-nsc/pyro-ns", false, false}} {
		var ns pyro.URI
		if c.pythonNS {
			ns = mustParseURI(t, pytest.StartNameServer(t, []string{"-n", "127.0.0.1", "-p", strconv.Itoa(testkit.FreeTCPPort(t))}).Ready)
		} else {
			ns = startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0").uri
		}
		got := runNSCScript(t, c.pyNSC, ns)
		if len(got) != len(nscScript) {
			t.Fatalf("%s: %d results", c.name, len(got))
		}
		loc := ns.Location()
		for i := range got {
			got[i].Stdout = normNSC(got[i].Stdout, loc)
			if got[i].Exit != 1 {
				got[i].Stderr = "" // usage texts differ; exit 1 messages must not
			}
		}
		if ref == nil {
			ref, refName = got, c.name
			continue
		}
		for i := range got {
			if got[i].Stdout != ref[i].Stdout || got[i].Exit != ref[i].Exit || strings.TrimSpace(got[i].Stderr) != strings.TrimSpace(ref[i].Stderr) {
				t.Errorf("nsc %v:\n%s: exit %d\n%s%s\n%s: exit %d\n%s%s", nscScript[i].args,
					refName, ref[i].Exit, ref[i].Stdout, ref[i].Stderr, c.name, got[i].Exit, got[i].Stdout, got[i].Stderr)
			}
		}
	}
	if testing.Verbose() {
		var b strings.Builder
		for i, r := range ref {
			fmt.Fprintf(&b, "$ nsc %s\n%s", strings.Join(nscScript[i].args, " "), r.Stdout)
		}
		t.Logf("reference session (%s):\n%s", refName, b.String())
	}
}

// The driver is pyro4-nsc itself: a few real "python -m Pyro4.nsc" runs
// against "pyro ns" print the same as "pyro nsc".
func TestRealPyro4NSC(t *testing.T) {
	r := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0")
	loc := []string{"-n", "127.0.0.1", "-p", strconv.Itoa(r.uri.Port)}
	nscRun(t, cleanEnviron(), "", append(slices.Clone(loc), "register", "x.y", "PYRO:x@127.0.0.1:9")...)
	nscRun(t, cleanEnviron(), "", append(slices.Clone(loc), "setmeta", "x.y", "b", "a")...)
	for _, args := range [][]string{{"list"}, {"lookup", "x.y"}, {"lookup", "nope"}, {"ping"}} {
		full := append(slices.Clone(loc), args...)
		py := pytest.Cmd{Args: append([]string{"-m", "Pyro4.nsc"}, full...)}.Run(t)
		goOut := nscRun(t, cleanEnviron(), "", full...)
		if normNSC(py.Stdout, "") != normNSC(goOut.stdout, "") {
			t.Errorf("%v:\npyro4-nsc:\n%s\npyro nsc:\n%s", args, py.Stdout, goOut.stdout)
		}
	}
	// not found anywhere (locate without broadcast is not available in
	// pyro4-nsc, so use a host)
	dead := []string{"-n", "127.0.0.1", "-p", strconv.Itoa(testkit.FreeTCPPort(t)), "ping"}
	py := pytest.Cmd{Args: append([]string{"-m", "Pyro4.nsc"}, dead...)}.Run(t)
	goOut := nscRun(t, cleanEnviron(), "", dead...)
	if !strings.HasPrefix(py.Stdout, "Error: Failed to locate the nameserver") || !strings.HasPrefix(goOut.stdout, "Error: Failed to locate the nameserver") || goOut.Exit != 0 {
		t.Errorf("no name server:\npyro4-nsc: %s\npyro nsc: %+v", py.Stdout, goOut)
	}
}

// Python clients and servers use "pyro ns": a Python daemon registers, a
// Python client finds it by PYRONAME and PYROMETA.
func TestPythonPeersUsePyroNS(t *testing.T) {
	r := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0")
	res := pytest.Cmd{Args: []string{"-c", `import sys, threading, Pyro4
@Pyro4.expose
class T(object):
    def hello(self): return "hello from python"
d = Pyro4.Daemon(host="127.0.0.1")
uri = d.register(T())
threading.Thread(target=d.requestLoop, daemon=True).start()
ns = Pyro4.locateNS("127.0.0.1", int(sys.argv[1]))
ns.register("py.t", uri, metadata={"role:greeter"})
loc = "@127.0.0.1:" + sys.argv[1]
print(Pyro4.Proxy("PYRONAME:py.t" + loc).hello())
print(Pyro4.Proxy("PYROMETA:role:greeter" + loc).hello())
print(sorted(ns.list(metadata_any={"role:greeter"}).keys()))
`, strconv.Itoa(r.uri.Port)}}.Run(t)
	want := "hello from python\nhello from python\n['py.t']\n"
	if res.Stdout != want {
		t.Errorf("python peers:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
	}
}

// echoserver -n registers in a running name server (found as pyro4-nsc
// finds it) and removes the registration when it stops; -N starts its
// own name server.
func TestEchoserverNaming(t *testing.T) {
	r := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0")
	env := cleanEnviron("PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT="+strconv.Itoa(r.uri.Port))
	e := startEcho(t, env, "-H", "127.0.0.1", "-n", "-v")
	if !strings.Contains(e.stdout.String(), "using name server at "+r.uri.String()) {
		t.Errorf("verbose output:\n%s", e.stdout)
	}
	ns, err := naming.Locate(context.Background(), naming.WithNSHost("127.0.0.1"), naming.WithNSPort(r.uri.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	c := naming.NewClient(ns)
	u, err := c.Lookup(context.Background(), "test.echoserver")
	if err != nil || u.String() != e.uri {
		t.Fatalf("registration: %v %v (echo uri %s)", u, err, e.uri)
	}
	res := pytest.Cmd{Args: []string{"-c", "import sys, Pyro4\nprint(Pyro4.Proxy('PYRONAME:test.echoserver@127.0.0.1:' + sys.argv[1]).echo('via ns'))", strconv.Itoa(r.uri.Port)}}.Run(t)
	if res.Stdout != "via ns\n" {
		t.Errorf("python PYRONAME call: %q %s", res.Stdout, res.Stderr)
	}
	code, out, errs := callCmd(t, cleanEnviron(), "PYRONAME:test.echoserver@127.0.0.1:"+strconv.Itoa(r.uri.Port), "echo", "'by name'")
	if code != 0 || out != "'by name'\n" {
		t.Errorf("pyro call PYRONAME: %d %q %q", code, out, errs)
	}
	e.cancel()
	if code := e.wait(t); code != 0 {
		t.Errorf("echoserver exit %d", code)
	}
	if _, err := c.Lookup(context.Background(), "test.echoserver"); err == nil {
		t.Error("registration left behind")
	}

	// -N: its own name server on NS_PORT
	port := testkit.FreeTCPPort(t)
	e = startEcho(t, cleanEnviron("PYRO_NS_PORT="+strconv.Itoa(port)), "-H", "127.0.0.1", "-N", "-v")
	if !strings.Contains(e.stdout.String(), "not using a broadcast server") {
		t.Errorf("verbose output:\n%s", e.stdout)
	}
	p, err := pyro.NewProxy("PYRONAME:test.echoserver@127.0.0.1:"+strconv.Itoa(port), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if v, err := p.Call(context.Background(), "echo", "hi"); err != nil || v != "hi" {
		t.Errorf("go PYRONAME call: %v %v", v, err)
	}
	e.cancel()
	e.wait(t)
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		c.Close()
		t.Error("name server of -N still running")
	}
}

// mustParseURI parses a URI a server printed.
func mustParseURI(t *testing.T, s string) pyro.URI {
	t.Helper()
	u, err := pyro.ParseURI(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
