package pytest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
	// Timeout bounds the wait for Ready (Start, default 30 s) or the whole
	// run (Run, default 120 s).
	Timeout time.Duration
}

// Server is a running Python process started by Start.
type Server struct {
	// Ready is the first group of the readiness line, e.g. a URI.
	Ready string

	t       testing.TB
	cmd     *exec.Cmd
	out     *syncBuffer // stdout after the ready line, then stderr
	readerD chan struct{}
	once    sync.Once
}

// Pid returns the process id of the server.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// syncBuffer is a bytes.Buffer safe for a writer goroutine and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs "python -u script args..." with the default environment and
// waits for its READY line (see Cmd.Start).
func Start(t testing.TB, script string, args ...string) *Server {
	t.Helper()
	return Cmd{Args: append([]string{script}, args...)}.Start(t)
}

// Start starts the process and waits until a stdout line matches c.Ready;
// it fails the test if the process exits or stays silent until the
// timeout. The process is killed in t.Cleanup whatever happens, and its
// output is logged if the test failed.
func (c Cmd) Start(t testing.TB) *Server {
	t.Helper()
	py := Python(t)
	ready := c.Ready
	if ready == nil {
		ready = defaultRdy
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	cmd := exec.Command(py, append([]string{"-u"}, c.Args...)...)
	cmd.Env = Env(c.Env...)
	s := &Server{t: t, cmd: cmd, out: &syncBuffer{}, readerD: make(chan struct{})}
	cmd.Stderr = s.out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("pytest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("pytest: starting %s %v: %v", py, c.Args, err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("python %v output:\n%s", c.Args, s.out.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		defer close(s.readerD)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if !signalled {
				if m := ready.FindStringSubmatch(line); m != nil {
					signalled = true
					g := ""
					if len(m) > 1 {
						g = m[1]
					}
					found <- g
					continue
				}
			}
			s.out.Write([]byte(line + "\n"))
		}
		// drain anything the scanner refused (overlong line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case s.Ready = <-found:
		return s
	case <-s.readerD:
		select {
		case s.Ready = <-found:
			return s
		default:
		}
		s.Stop()
		t.Fatalf("python %v exited before it was ready (%v):\n%s", c.Args, cmd.ProcessState, s.out.String())
	case <-timer.C:
		s.Stop()
		t.Fatalf("python %v not ready after %v:\n%s", c.Args, timeout, s.out.String())
	}
	return nil
}

// Stop kills the process and waits for it; it is safe to call more than
// once (Cleanup calls it too).
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.readerD
		_ = s.cmd.Wait()
	})
}

// Output returns what the process wrote so far, apart from the ready line:
// the rest of stdout and all of stderr, interleaved.
func (s *Server) Output() string { return s.out.String() }

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
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 120 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-u"}, c.Args...)...)
	cmd.Env = Env(c.Env...)
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

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago
// (for servers that must be told their port).
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pytest: no free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
