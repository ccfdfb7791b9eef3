package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// waitLimit bounds every wait for output or an exit.
var waitLimit = testkit.Bound()

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBuilds()
	removeWasmBuilds()
	os.Exit(code)
}

// echoRun is an in-process "pyro echoserver".
type echoRun struct {
	uri            string
	stdout, stderr *testkit.Buffer
	finished       chan struct{}
	code           int
	cancel         context.CancelFunc
}

// runEcho starts echoserverMain in a goroutine. It does not wait for the
// server to be ready.
func runEcho(t *testing.T, environ []string, args ...string) *echoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &echoRun{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}, finished: make(chan struct{}), cancel: cancel}
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
	line, ok := r.stdout.WaitLine("echo uri: ", r.finished)
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
	return pyrotest.Serve(t, pyrotest.Config(), echoserver.ObjectID, &echoserver.EchoServer{SlowDelay: time.Second}, opts...).String()
}

// callCmd runs "pyro call" in-process.
func callCmd(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runCall(context.Background(), args, &out, &errb, environ)
	return code, out.String(), errb.String()
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

func itoa(n int) string { return strconv.Itoa(n) }
