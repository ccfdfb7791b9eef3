package pytest

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartWaitsForReady(t *testing.T) {
	s := Cmd{Args: []string{"-c", `
import sys, time
print("noise before")
sys.stderr.write("to stderr\n")
print("READY PYRO:x@127.0.0.1:1 extra")
time.sleep(60)
`}}.Start(t)
	if s.Ready != "PYRO:x@127.0.0.1:1 extra" {
		t.Errorf("Ready = %q", s.Ready)
	}
	start := time.Now()
	s.Stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %v", d)
	}
	s.Stop() // idempotent
	if out := s.Output(); !strings.Contains(out, "noise before") || !strings.Contains(out, "to stderr") {
		t.Errorf("Output = %q", out)
	}
}

func TestStartCustomReady(t *testing.T) {
	s := Cmd{
		Args:  []string{"-c", "import time; print('echo uri: PYRO:e@h:2'); time.sleep(60)"},
		Ready: regexp.MustCompile(`^echo uri: (\S+)`),
	}.Start(t)
	if s.Ready != "PYRO:e@h:2" {
		t.Errorf("Ready = %q", s.Ready)
	}
}

func TestRun(t *testing.T) {
	t.Setenv("PYRO_COMPRESSION", "true")
	t.Setenv("PYTHONDONTWRITEBYTECODE", "")
	res := Cmd{
		Args:  []string{"-c", `import os, sys; print(os.environ.get("PYRO_COMPRESSION"), os.environ.get("PYRO_X"), os.environ.get("PYTHONDONTWRITEBYTECODE"), sys.stdin.read()); sys.stderr.write("err"); sys.exit(3)`},
		Env:   []string{"PYRO_X=1"},
		Stdin: "input",
	}.Run(t)
	if res.Stdout != "None 1 1 input\n" || res.Stderr != "err" || res.ExitCode != 3 {
		t.Errorf("Run = %+v", res)
	}
}

// The Pyro4 servers start, announce their URIs and answer on them.
func TestStartPyroServers(t *testing.T) {
	echo := StartEchoServer(t)
	ns := StartNameServer(t, []string{"-n", "127.0.0.1", "-p", "0"})
	for _, uri := range []string{echo, ns.Ready} {
		_, addr, ok := strings.Cut(uri, "@")
		if !strings.HasPrefix(uri, "PYRO:") || !ok {
			t.Fatalf("URI %q", uri)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Errorf("%s: %v", uri, err)
			continue
		}
		c.Close()
	}
}
