package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// TestEchoserverBothGenerations runs `pyro echoserver` as a process and
// calls it from Python Pyro4 and Pyro5 clients at once
// (testdata/interop5/both.py: eight threads, each with a connection of
// each generation open at the same time); each generation gets its own
// echo server's error() text, generator() and oneway_echo(), and Pyro5's
// shutdown() ends the process cleanly.
func TestEchoserverBothGenerations(t *testing.T) {
	pytest.Python(t)
	pytest.Pyro5(t)
	cmd := exec.Command(testkit.PyroCommand(t), "echoserver", "-H", "127.0.0.1")
	cmd.Env = cleanEnviron()
	proc := testkit.StartProcess(t, cmd, testkit.Prefix("echo uri: "))
	const threads, calls = 8, 10
	res := pytest.Cmd{Args: []string{"../../testdata/interop5/both.py", proc.Ready, itoa(threads), itoa(calls), "shutdown"},
		Pyro5: true}.Run(t)
	type more struct {
		Generator []string
		Oneway    any
		Error     string
	}
	var out struct {
		OK4            int `json:"ok4"`
		OK5            int `json:"ok5"`
		Errors         []string
		Error4, Error5 string
		More4, More5   more
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &out); err != nil {
		t.Fatalf("both.py: exit %d, output %q: %v\n%s", res.ExitCode, res.Stdout, err, res.Stderr)
	}
	if out.OK4 != threads*calls || out.OK5 != threads*calls || len(out.Errors) > 0 {
		t.Errorf("Pyro4 calls %d, Pyro5 calls %d (want %d each), errors %v", out.OK4, out.OK5, threads*calls, out.Errors)
	}
	if want := "builtins.ValueError: expected error from echoserver error() method"; out.Error4 != want {
		t.Errorf("Pyro4 client: %s, want %s", out.Error4, want)
	}
	if want := "builtins.ValueError: this is the generated error from echoserver echo() method"; out.Error5 != want {
		t.Errorf("Pyro5 client: %s, want %s", out.Error5, want)
	}
	for gen, m := range map[string]more{"4": out.More4, "5": out.More5} {
		if strings.Join(m.Generator, ",") != "one,two,three" || m.Oneway != nil || m.Error != "" {
			t.Errorf("Pyro%s client: generator %v, oneway_echo %v, error %q", gen, m.Generator, m.Oneway, m.Error)
		}
	}
	select {
	case <-proc.Exited:
		if !proc.Cmd.ProcessState.Success() {
			t.Errorf("pyro echoserver after shutdown(): %v\n%s", proc.Cmd.ProcessState, proc.Output)
		}
	case <-time.After(testkit.Bound()):
		t.Errorf("pyro echoserver still runs after shutdown() from a Pyro5 client")
	}
}
