package pytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
)

var (
	findOnce   sync.Once
	foundPath  string
	findErr    error
	defaultRdy = regexp.MustCompile(`^READY (.*)$`)
)

// Python returns the path of a Python 3 interpreter with Pyro4, serpent
// and msgpack importable. Without one it skips the test, or fails it when
// the environment variable CI is non-empty.
func Python(t testing.TB) string {
	t.Helper()
	findOnce.Do(func() { foundPath, findErr = find() })
	if findErr == nil {
		return foundPath
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("Python interop is required in CI: %v", findErr)
	}
	t.Skipf("skipping Python interop: %v", findErr)
	return ""
}

func find() (string, error) {
	cands := []string{"/usr/bin/python3", "python3"}
	if p := os.Getenv("PYROGO_PYTHON"); p != "" {
		cands = []string{p}
	}
	var reasons []string
	for _, c := range cands {
		path, err := exec.LookPath(c)
		if err != nil {
			reasons = append(reasons, c+": not found")
			continue
		}
		cmd := exec.Command(path, "-c", "import Pyro4, serpent, msgpack; print(Pyro4.__version__)")
		cmd.Env = Env()
		out, err := cmd.CombinedOutput()
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v: %s", path, err, lastLine(string(out))))
			continue
		}
		if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "4.") {
			reasons = append(reasons, fmt.Sprintf("%s: Pyro4 %s, need 4.x", path, v))
			continue
		}
		return path, nil
	}
	return "", fmt.Errorf("no python3 with Pyro4 4.x, serpent and msgpack (%s); set PYROGO_PYTHON", strings.Join(reasons, "; "))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Env returns the environment for a Python process: the current one minus
// every PYRO_* variable and PYTHONSTARTUP/PYTHONPATH/PYTHONHOME, plus
// PYTHONDONTWRITEBYTECODE=1, PYTHONHASHSEED=0, PYTHONIOENCODING=utf-8 and
// finally extra ("KEY=value" entries, which win).
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PYRO_"), k == "PYTHONSTARTUP", k == "PYTHONPATH", k == "PYTHONHOME",
			k == "PYTHONDONTWRITEBYTECODE", k == "PYTHONHASHSEED", k == "PYTHONIOENCODING":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0", "PYTHONIOENCODING=utf-8")
	return append(env, extra...)
}

// Cmd describes one Python process.
type Cmd struct {
	// Args follow "python -u": a script path and its arguments, or "-m",
	// a module name and its arguments.
	Args []string
	// Env holds extra "KEY=value" entries on top of Env().
	Env []string
	// Stdin is fed to the process (Run only; servers get no input).
	Stdin string
	// Ready matches the stdout line that tells Start the server is up; its
	// first group becomes Server.Ready. Default: ^READY (.*)$.
	Ready *regexp.Regexp
	// Timeout bounds the whole run (Run, default 120 s).
	Timeout time.Duration
	// Pyro5 runs the process with the Pyro5 peer on PYTHONPATH (see
	// Pyro5; the test is skipped or failed like Python's when it is
	// missing).
	Pyro5 bool
}

// Server is a running Python process started by Start.
type Server struct {
	// Ready is the first group of the readiness line, e.g. a URI.
	Ready string

	p *testkit.Process
}

// Pid returns the process id of the server.
func (s *Server) Pid() int { return s.p.Pid() }

// Start runs "python -u script args..." with the default environment and
// waits for its READY line (see Cmd.Start).
func Start(t testing.TB, script string, args ...string) *Server {
	t.Helper()
	return Cmd{Args: append([]string{script}, args...)}.Start(t)
}

// Start starts the process and waits until a stdout line matches c.Ready;
// it fails the test if the process exits first or stays silent for
// testkit.Bound (c.Timeout does not apply). The process is killed in
// t.Cleanup whatever happens, and its output is logged if the test
// failed (see testkit.StartProcess).
func (c Cmd) Start(t testing.TB) *Server {
	t.Helper()
	ready := c.Ready
	if ready == nil {
		ready = defaultRdy
	}
	cmd := exec.Command(Python(t), append([]string{"-u"}, c.Args...)...)
	cmd.Env = Env(c.env(t)...)
	p := testkit.StartProcess(t, cmd, ready)
	return &Server{Ready: p.Ready, p: p}
}

// Stop kills the process and waits for it; it is safe to call more than
// once (Cleanup calls it too).
func (s *Server) Stop() { s.p.Stop() }

// Output returns what the process wrote so far, apart from the ready line:
// the rest of stdout and all of stderr, interleaved.
func (s *Server) Output() string { return s.p.Output.String() }

// Result is the outcome of Run.
type Result struct {
	Stdout, Stderr string
	// ExitCode is the process's exit status (-1 if it was killed).
	ExitCode int
}

// Run runs "python -u script" with stdin and the default environment and
// returns its output (see Cmd.Run).
func Run(t testing.TB, script, stdin string) Result {
	t.Helper()
	return Cmd{Args: []string{script}, Stdin: stdin}.Run(t)
}

// Run runs the process to completion and returns its output and exit
// code. A process that cannot start, or outlives c.Timeout (it is then
// killed), fails the test; a non-zero exit does not.
func (c Cmd) Run(t testing.TB) Result {
	t.Helper()
	py := Python(t)
	extra := c.env(t)
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 120 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-u"}, c.Args...)...)
	cmd.Env = Env(extra...)
	cmd.Stdin = strings.NewReader(c.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("python %v timed out after %v:\nstdout:\n%s\nstderr:\n%s", c.Args, timeout, res.Stdout, res.Stderr)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		t.Fatalf("python %v: %v", c.Args, err)
	}
	return res
}

// StartEchoServer runs Pyro4's test echo server (python -m
// Pyro4.test.echoserver, what pyro4-test-echoserver runs) on 127.0.0.1
// and a port it picks itself, with the extra "KEY=value" settings env,
// and returns its URI. It stops with the test.
func StartEchoServer(t testing.TB, env ...string) string {
	t.Helper()
	s := Cmd{
		Args:  []string{"-m", "Pyro4.test.echoserver", "-H", "127.0.0.1", "-p", "0"},
		Env:   env,
		Ready: regexp.MustCompile(`^echo uri: (\S+)`),
	}.Start(t)
	return s.Ready
}

// StartNameServer runs Pyro4's name server (python -m Pyro4.naming, what
// pyro4-ns runs) with args, and returns it once it has printed its URI
// (Server.Ready; "URI = ..." or, with NAT options, "external URI =
// ..."). It stops with the test.
func StartNameServer(t testing.TB, args []string, env ...string) *Server {
	t.Helper()
	return Cmd{
		Args:  append([]string{"-m", "Pyro4.naming"}, args...),
		Env:   env,
		Ready: regexp.MustCompile(`^(?:external )?URI = (.*)$`),
	}.Start(t)
}
