package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

func TestEchoserverInProcess(t *testing.T) {
	r := startEcho(t, nil, "-p", "0")
	// startEcho returns at the uri line; the last startup line follows it
	r.stdout.WaitLine("echoserver running.", r.finished)
	out := r.stdout.String()
	for _, want := range []string{
		"Starting Pyro's built-in test echo server.\n",
		"Warning: HMAC key not set. Anyone can connect to this server!\n",
		"object name: test.echoserver\n",
		"echoserver running.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if !strings.HasPrefix(r.uri, "PYRO:test.echoserver@localhost:") {
		t.Errorf("uri %q", r.uri)
	}
	ctx := context.Background()
	p := pyrotest.Proxy(t, r.uri, nil)
	if v, err := p.Call(ctx, "echo", "hi"); err != nil || v != "hi" {
		t.Errorf("echo: %v, %v", v, err)
	}
	_, err := p.Call(ctx, "error")
	var re *pyro.RemoteError
	if !errors.As(err, &re) || re.Class() != "builtins.ValueError" || re.Message() != "expected error from echoserver error() method" {
		t.Errorf("error: %v", err)
	}
	v, err := p.Call(ctx, "generator")
	s, ok := v.(*pyro.Stream)
	if err != nil || !ok {
		t.Fatalf("generator: %v, %v", v, err)
	}
	var items []string
	for item, err := range s.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item.(string))
	}
	if strings.Join(items, ",") != "one,two,three" {
		t.Errorf("generator items %q", items)
	}
	if v, err := p.GetAttr(ctx, "verbose"); err != nil || v != false {
		t.Errorf("verbose: %v, %v", v, err)
	}
	if err := p.SetAttr(ctx, "verbose", true); err != nil {
		t.Fatal(err)
	}
	if v, err := p.GetAttr(ctx, "verbose"); err != nil || v != true {
		t.Errorf("verbose after set: %v, %v", v, err)
	}
	if _, err := p.Call(ctx, "echo", "logged"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.stdout.WaitLine(" - echo: 'logged'", r.finished); !ok {
		t.Errorf("verbose line missing:\n%s", r.stdout)
	}
	if v, err := p.Call(ctx, "slow"); err != nil || v != "Finally, an answer!" {
		t.Errorf("slow: %v, %v", v, err)
	}
	if _, err := p.Call(ctx, "shutdown"); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != exitOK {
		t.Errorf("exit code %d; stderr:\n%s", code, r.stderr)
	}
	if _, err := p.Call(ctx, "echo", "after"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestEchoserverVerboseAndHost(t *testing.T) {
	r := startEcho(t, []string{"PYRO_HOST=localhost"}, "-v", "-q", "-H", "127.0.0.1")
	if !strings.HasPrefix(r.uri, "PYRO:test.echoserver@127.0.0.1:") {
		t.Errorf("uri %q (-H must override HOST)", r.uri)
	}
	if !strings.Contains(r.stdout.String(), "not using a name server.") {
		t.Errorf("-v -q must be verbose:\n%s", r.stdout)
	}
	p := pyrotest.Proxy(t, r.uri, nil)
	if _, err := p.Call(context.Background(), "echo", 42); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.stdout.WaitLine(" - echo: 42", r.finished); !ok {
		t.Errorf("no verbose echo line:\n%s", r.stdout)
	}
	r.cancel() // like SIGINT
	if code := r.wait(t); code != exitOK {
		t.Errorf("exit code %d", code)
	}
}

func TestEchoserverQuietUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "echo.sock")
	r := runEcho(t, nil, "-q", "-u", sock)
	uri := "PYRO:test.echoserver@./u:" + sock
	p := pyrotest.Proxy(t, uri, nil)
	var err error
	for deadline := time.Now().Add(waitLimit); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var v any
		if v, err = p.Call(context.Background(), "echo", "unix"); err == nil {
			if v != "unix" {
				t.Errorf("echo: %v", v)
			}
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(context.Background(), "shutdown"); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != exitOK {
		t.Errorf("exit code %d", code)
	}
	if out := r.stdout.String(); out != "" {
		t.Errorf("-q printed %q", out)
	}
}

func TestEchoserverHMACFromEnv(t *testing.T) {
	r := startEcho(t, []string{"PYRO_HMAC_KEY=sekrit"})
	if strings.Contains(r.stdout.String(), "HMAC key not set") {
		t.Errorf("HMAC warning printed with a key:\n%s", r.stdout)
	}
	ctx := context.Background()
	if _, err := pyrotest.Proxy(t, r.uri, nil).Call(ctx, "echo", 1); !errors.Is(err, pyro.ErrCommunication) {
		t.Errorf("call without key: %v", err)
	}
	p := pyrotest.Proxy(t, r.uri, nil, pyro.WithHMACKey([]byte("sekrit")))
	if v, err := p.Call(ctx, "echo", 1); err != nil || v != int64(1) {
		t.Fatalf("call with key: %v, %v", v, err)
	}
	p.Call(ctx, "shutdown")
	if code := r.wait(t); code != exitOK {
		t.Errorf("exit code %d", code)
	}
}

func TestEchoserverKeyFlag(t *testing.T) {
	r := startEcho(t, nil, "-k", "flagkey")
	if !strings.Contains(r.stderr.String(), "visible to other local users in the process list") {
		t.Errorf("no -k warning on stderr:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout.String(), "HMAC key not set") {
		t.Errorf("HMAC warning printed with a key")
	}
	p := pyrotest.Proxy(t, r.uri, nil, pyro.WithHMACKey([]byte("flagkey")))
	if _, err := p.Call(context.Background(), "shutdown"); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != exitOK {
		t.Errorf("exit code %d", code)
	}
}

func TestEchoserverStartErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		stderr  string
	}{
		{"key twice", []string{"PYRO_HMAC_KEY=a"}, []string{"-k", "b"}, "pyro echoserver: don't use -k and PYRO_HMAC_KEY at the same time"},
		{"bad env", []string{"PYRO_COMMTIMEOUT=soon"}, nil, "PYRO_COMMTIMEOUT"},
		{"extra args", nil, []string{"extra"}, "unexpected arguments"},
		{"bad port", nil, []string{"-p", "x"}, "invalid value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runEcho(t, tc.environ, tc.args...)
			if code := r.wait(t); code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if !strings.Contains(r.stderr.String(), tc.stderr) {
				t.Errorf("stderr %q, want %q", r.stderr, tc.stderr)
			}
			if strings.Contains(r.stdout.String(), "echo uri") {
				t.Errorf("server started:\n%s", r.stdout)
			}
		})
	}
	t.Run("no name server", func(t *testing.T) {
		// -n with no name server anywhere: NS_HOST direct, broadcast (2.1 s), NS_HOST again
		r := runEcho(t, []string{"PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=" + itoa(testkit.FreeTCPPort(t)), "PYRO_BROADCAST_ADDRS=127.0.0.1"}, "-H", "127.0.0.1", "-n")
		if code := r.wait(t); code != exitRemote || !strings.Contains(r.stderr.String(), "Failed to locate the nameserver") {
			t.Errorf("exit code %d, stderr %q", code, r.stderr)
		}
	})
	t.Run("port in use", func(t *testing.T) {
		first := startEcho(t, nil, "-H", "127.0.0.1")
		port := first.uri[strings.LastIndexByte(first.uri, ':')+1:]
		r := runEcho(t, nil, "-H", "127.0.0.1", "-p", port)
		if code := r.wait(t); code != exitRemote || !strings.Contains(r.stderr.String(), "cannot bind") {
			t.Errorf("exit code %d, stderr %q", code, r.stderr)
		}
	})
}

// TestEchoserverSignals runs the built binary and stops it with signals.
func TestEchoserverSignals(t *testing.T) {
	bin := testkit.PyroCommand(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "echoserver", "-H", "127.0.0.1")
			cmd.Env = cleanEnviron()
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				io.Copy(io.Discard, stdout)
				exited <- cmd.Wait()
			}()
			var uri string
			timeout := time.After(waitLimit)
			for uri == "" {
				select {
				case line, ok := <-lines:
					if !ok {
						t.Fatalf("server ended before printing its URI; stderr:\n%s", stderr.String())
					}
					if u, found := strings.CutPrefix(line, "echo uri: "); found {
						uri = u
					}
				case <-timeout:
					t.Fatal("no URI printed")
				}
			}
			p := pyrotest.Proxy(t, uri, nil)
			if v, err := p.Call(context.Background(), "echo", "before signal"); err != nil || v != "before signal" {
				t.Fatalf("echo: %v, %v", v, err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for range lines {
			}
			select {
			case err := <-exited:
				exited <- err // for the cleanup
				if err != nil {
					t.Errorf("exit after %v: %v; stderr:\n%s", sig, err, stderr.String())
				}
			case <-time.After(waitLimit):
				t.Fatalf("no exit after %v", sig)
			}
		})
	}
}
