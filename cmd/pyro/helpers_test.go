package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
)

const pythonPath = "/usr/bin/python3"

// waitLimit bounds every wait for output or an exit.
const waitLimit = 20 * time.Second

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// outBuf is an io.Writer safe for concurrent use that lets a test wait
// for some text to appear.
type outBuf struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newOutBuf() *outBuf { return &outBuf{changed: make(chan struct{}, 1)} }

func (o *outBuf) Write(p []byte) (int, error) {
	o.mu.Lock()
	n, err := o.b.Write(p)
	o.mu.Unlock()
	select {
	case o.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (o *outBuf) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// waitLine waits until a complete line containing substr was written and
// returns it; it gives up when stop is closed or after waitLimit.
func (o *outBuf) waitLine(substr string, stop <-chan struct{}) (string, bool) {
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		for _, line := range strings.SplitAfter(o.String(), "\n") {
			if strings.HasSuffix(line, "\n") && strings.Contains(line, substr) {
				return strings.TrimSuffix(line, "\n"), true
			}
		}
		select {
		case <-o.changed:
		case <-stop:
			// one last look: the text may have come with the exit
			for _, line := range strings.Split(o.String(), "\n") {
				if strings.Contains(line, substr) {
					return line, true
				}
			}
			return "", false
		case <-timer.C:
			return "", false
		}
	}
}

// echoRun is an in-process "pyro echoserver".
type echoRun struct {
	uri            string
	stdout, stderr *outBuf
	finished       chan struct{}
	code           int
	cancel         context.CancelFunc
}

// runEcho starts echoserverMain in a goroutine. It does not wait for the
// server to be ready.
func runEcho(t *testing.T, environ []string, args ...string) *echoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &echoRun{stdout: newOutBuf(), stderr: newOutBuf(), finished: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.finished)
		r.code = echoserverMain(ctx, args, r.stdout, r.stderr, environ, echoserverOptions{slowDelay: 50 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.finished:
		case <-time.After(waitLimit):
			t.Error("echo server did not stop")
		}
	})
	return r
}

// startEcho runs the echo server and waits for its URI.
func startEcho(t *testing.T, environ []string, args ...string) *echoRun {
	t.Helper()
	r := runEcho(t, environ, args...)
	line, ok := r.stdout.waitLine("echo uri: ", r.finished)
	if !ok {
		t.Fatalf("no echo uri line; stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	r.uri = strings.TrimPrefix(line, "echo uri: ")
	return r
}

// wait waits for the server to exit and returns its exit code.
func (r *echoRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.finished:
		return r.code
	case <-time.After(waitLimit):
		t.Fatalf("echo server did not exit; stdout:\n%s", r.stdout)
		return -1
	}
}

// startGoEcho serves a Go echo server object in a plain daemon, with every
// serializer accepted, and returns its URI.
func startGoEcho(t *testing.T, opts ...pyro.DaemonOption) string {
	t.Helper()
	cfg := pyro.BuiltinConfig()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	d, err := pyro.NewDaemon(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Register(&echoserver.EchoServer{SlowDelay: time.Second}, echoserver.ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve(context.Background())
	t.Cleanup(func() { d.Close() })
	return u.String()
}

// callCmd runs "pyro call" in-process.
func callCmd(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runCall(context.Background(), args, &out, &errb, environ)
	return code, out.String(), errb.String()
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// cleanEnviron is os.Environ without PYRO_* variables, for child processes.
func cleanEnviron(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYRO_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

var (
	pythonOnce sync.Once
	pythonErr  error
)

// needPython skips the test when /usr/bin/python3 with Pyro4 is missing,
// unless CI is set: there the interop tests must run.
func needPython(t *testing.T) {
	t.Helper()
	pythonOnce.Do(func() {
		out, err := exec.Command(pythonPath, "-c", "import Pyro4").CombinedOutput()
		if err != nil {
			pythonErr = &exec.Error{Name: pythonPath + " -c 'import Pyro4': " + strings.TrimSpace(string(out)), Err: err}
		}
	})
	if pythonErr == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("Python interop needed in CI: %v", pythonErr)
	}
	t.Skipf("skipping Python interop: %v (install python3-pyro4)", pythonErr)
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// pyroBinary builds the command once per test run and returns its path.
func pyroBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			binErr = err
			return
		}
		binDir, binErr = os.MkdirTemp("", "pyro-cmd-test")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "pyro")
		out, err := exec.Command(gobin, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &exec.Error{Name: "go build: " + string(out), Err: err}
		}
	})
	if binErr != nil {
		t.Fatalf("building pyro: %v", binErr)
	}
	return binPath
}

func itoa(n int) string { return strconv.Itoa(n) }
