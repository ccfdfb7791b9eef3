package main

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
)

// TestCallPythonEcho runs "pyro call" against Pyro4's echo server.
func TestCallPythonEcho(t *testing.T) {
	uri := pytest.StartEchoServer(t)
	for _, ser := range []string{"serpent", "json", "marshal"} {
		t.Run(ser, func(t *testing.T) {
			code, out, errs := callCmd(t, nil, "--serializer", ser, uri, "echo", "'hi'")
			if code != 0 || out != "'hi'\n" || errs != "" {
				t.Errorf("echo: code %d stdout %q stderr %q", code, out, errs)
			}
			code, out, errs = callCmd(t, nil, "--serializer", ser, uri, "error")
			if code != 1 || out != "" || errs != valueErrorLine {
				t.Errorf("error: code %d stdout %q stderr %q", code, out, errs)
			}
			code, out, errs = callCmd(t, nil, "--serializer", ser, "--kw", "message=[1, {'a': None}]", uri, "echo")
			if code != 0 || out != "[1, {'a': None}]\n" {
				t.Errorf("kw echo: code %d stdout %q stderr %q", code, out, errs)
			}
			code, out, errs = callCmd(t, nil, "--serializer", ser, uri, "generator")
			if code != 0 || out != "'one'\n'two'\n'three'\n" {
				t.Errorf("generator: code %d stdout %q stderr %q", code, out, errs)
			}
		})
	}
	code, out, errs := callCmd(t, nil, uri, "echo", "[1,(2,3)]")
	if code != 0 || out != "[1, (2, 3)]\n" {
		t.Errorf("echo nested: code %d stdout %q stderr %q", code, out, errs)
	}
	code, out, errs = callCmd(t, nil, "--traceback", uri, "error")
	if code != 1 || !strings.Contains(errs, "Traceback") || !strings.Contains(errs, "raise ValueError") || !strings.HasSuffix(errs, valueErrorLine) {
		t.Errorf("error --traceback: code %d stdout %q stderr %q", code, out, errs)
	}
	// msgpack is not among a default Python daemon's SERIALIZERS_ACCEPTED
	code, _, errs = callCmd(t, nil, "--serializer", "msgpack", uri, "echo", "1")
	if code != 2 || !strings.Contains(errs, "not accepted") {
		t.Errorf("msgpack: code %d stderr %q", code, errs)
	}
}

// TestCallPythonEchoHMAC: the key from PYRO_HMAC_KEY reaches Pyro4's echo
// server, which reads the same variable.
func TestCallPythonEchoHMAC(t *testing.T) {
	uri := pytest.StartEchoServer(t, "PYRO_HMAC_KEY=py-key")
	if code, out, errs := callCmd(t, []string{"PYRO_HMAC_KEY=py-key"}, uri, "echo", "'signed'"); code != 0 || out != "'signed'\n" {
		t.Errorf("with key: code %d stdout %q stderr %q", code, out, errs)
	}
	if code, _, errs := callCmd(t, nil, uri, "echo", "1"); code != 2 || !strings.Contains(errs, "hmac") {
		t.Errorf("without key: code %d stderr %q", code, errs)
	}
}

// runPythonClient runs testdata/echo_client.py against uri and returns
// its output (stdout, then stderr); it fails the test if the script
// fails.
func runPythonClient(t *testing.T, uri, serializers string, shutdown bool, extraEnv ...string) string {
	t.Helper()
	args := []string{"testdata/echo_client.py", uri, serializers}
	if shutdown {
		args = append(args, "shutdown")
	}
	res := pytest.Cmd{Args: args, Env: extraEnv}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("Python client failed: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	return res.Stdout + res.Stderr
}

// TestPythonClientAgainstEchoserver: Pyro4 clients call "pyro echoserver"
// with every serializer, then shut it down.
func TestPythonClientAgainstEchoserver(t *testing.T) {
	pytest.Python(t)
	r := startEcho(t, []string{"PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack"})
	out := runPythonClient(t, r.uri, "serpent,json,marshal,msgpack", true)
	for _, want := range []string{"OK serpent\n", "OK json\n", "OK marshal\n", "OK shutdown\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in Python output:\n%s", want, out)
		}
	}
	if code := r.wait(t); code != exitOK {
		t.Errorf("echoserver exit %d; stderr:\n%s", code, r.stderr)
	}
	// the client switched verbose on for one echo call per serializer
	for _, ser := range []string{"serpent", "json"} {
		if !strings.Contains(r.stdout.String(), " - echo: 'logged by "+ser+"'\n") {
			t.Errorf("no verbose line for the %s call in\n%s", ser, r.stdout)
		}
	}
	if strings.Contains(r.stdout.String(), "echo: 'hi'") {
		t.Errorf("calls logged while verbose was off:\n%s", r.stdout)
	}
}

// TestPythonClientAgainstEchoserverHMAC: the same with a key on both sides.
func TestPythonClientAgainstEchoserverHMAC(t *testing.T) {
	pytest.Python(t)
	r := startEcho(t, []string{"PYRO_HMAC_KEY=both-sides"})
	out := runPythonClient(t, r.uri, "serpent", true, "ECHO_TEST_KEY=both-sides")
	if !strings.Contains(out, "OK serpent\n") || !strings.Contains(out, "OK shutdown\n") {
		t.Errorf("Python output:\n%s", out)
	}
	if code := r.wait(t); code != exitOK {
		t.Errorf("echoserver exit %d", code)
	}
}
