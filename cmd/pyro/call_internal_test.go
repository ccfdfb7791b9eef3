package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
)

const valueErrorLine = "pyro call: ValueError: expected error from echoserver error() method\n"

func TestCallGoEcho(t *testing.T) {
	uri := startGoEcho(t)
	refused := "PYRO:test.echoserver@127.0.0.1:" + itoa(testkit.FreeTCPPort(t))
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // exact
		stderr string // contained ("" = must be empty)
	}{
		{"echo str", []string{uri, "echo", "'hi'"}, 0, "'hi'\n", ""},
		{"echo nested", []string{uri, "echo", "[1,(2,3)]"}, 0, "[1, (2, 3)]\n", ""},
		{"echo deeper", []string{uri, "echo", "[1, [(2, 3)], {'a': (4,)}, {5}]"}, 0, "[1, [(2, 3)], {'a': (4,)}, {5}]\n", ""},
		{"echo tuple", []string{uri, "echo", "(1, 'two', None, True, 1.5)"}, 0, "(1, 'two', None, True, 1.5)\n", ""},
		{"echo negative", []string{uri, "echo", "-5"}, 0, "-5\n", ""},
		{"echo bigint", []string{uri, "echo", "123456789012345678901234567890"}, 0, "123456789012345678901234567890\n", ""},
		{"echo unicode", []string{uri, "echo", "'h\u00e9\\n'"}, 0, "'h\u00e9\\n'\n", ""},
		{"echo bytes serpent", []string{uri, "echo", `b'\x00ab'`}, 0, "{'data': 'AGFi', 'encoding': 'base64'}\n", ""},
		{"kw", []string{"--kw", "message='x'", uri, "echo"}, 0, "'x'\n", ""},
		{"kw single dash", []string{"-kw", "message=[1]", uri, "echo"}, 0, "[1]\n", ""},
		{"error", []string{uri, "error"}, 1, "", valueErrorLine},
		{"error traceback", []string{"--traceback", uri, "error"}, 1, "", "Traceback"},
		{"error_with_text", []string{uri, "error_with_text"}, 1, "", "pyro call: ValueError: the message of the error\n"},
		{"generator", []string{uri, "generator"}, 0, "'one'\n'two'\n'three'\n", ""},
		{"attribute", []string{uri, "verbose"}, 0, "False\n", ""},
		{"nan", []string{uri, "nan"}, 0, "nan\n", ""},
		{"inf", []string{uri, "inf"}, 0, "inf\n", ""},
		{"dunder", []string{uri, "__dunder__"}, 0, "'should be allowed (dunder)'\n", ""},
		{"oneway", []string{uri, "oneway_echo", "1"}, 0, "None\n", ""},
		{"unknown method", []string{uri, "nosuch"}, 2, "", "pyro call: remote object 'PYRO:test.echoserver@"},
		{"wrong arg count", []string{uri, "echo"}, 1, "", "pyro call: TypeError: "},
		{"timeout", []string{"--timeout", "0.1", uri, "slow"}, 2, "", "pyro call: receiving: timeout\n"},
		{"bad uri", []string{"garbage", "echo", "1"}, 2, "", "pyro call: invalid uri"},
		{"refused", []string{refused, "echo", "1"}, 2, "", "pyro call: cannot connect to 127.0.0.1:"},
		{"pyroname unresolved", []string{"PYRONAME:test.echoserver@127.0.0.1:" + itoa(testkit.FreeTCPPort(t)), "echo", "1"}, 2, "", "pyro call: Failed to locate the nameserver"},
		{"bare word arg", []string{uri, "echo", "hello"}, 2, "", "pyro call: argument 1 (hello): "},
		{"second arg bad", []string{uri, "echo", "1", "[1,"}, 2, "", "pyro call: argument 2 ([1,): "},
		{"bad kw literal", []string{"--kw", "message=nope", uri, "echo"}, 2, "", "pyro call: keyword argument message (nope): "},
		{"kw without =", []string{"--kw", "message", uri, "echo"}, 2, "", "want name=LITERAL"},
		{"kw twice", []string{"--kw", "a=1", "--kw", "a=2", uri, "echo"}, 2, "", "repeated"},
		{"flag after uri", []string{uri, "echo", "--kw", "message=1"}, 2, "", "flags go before URI"},
		{"no method", []string{uri}, 2, "", "need URI and METHOD"},
		{"no args", nil, 2, "", "need URI and METHOD"},
		{"bad timeout", []string{"--timeout", "-1", uri, "echo", "1"}, 2, "", "invalid --timeout"},
		{"unknown serializer", []string{"--serializer", "yaml", uri, "echo", "1"}, 2, "", "--serializer"},
		{"pickle refused", []string{"--serializer", "pickle", uri, "echo", "1"}, 2, "", "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := callCmd(t, nil, tc.args...)
			if code != tc.code || out != tc.stdout {
				t.Errorf("code %d stdout %q, want %d %q; stderr %q", code, out, tc.code, tc.stdout, errs)
			}
			if tc.stderr == "" && errs != "" || !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr %q, want %q", errs, tc.stderr)
			}
		})
	}
}

func TestCallSerializers(t *testing.T) {
	uri := startGoEcho(t)
	for _, tc := range []struct {
		serializer, nested, bytes string
	}{
		{"serpent", "[1, (2, 3)]", "{'data': 'AGFi', 'encoding': 'base64'}"},
		{"json", "[1, [2, 3]]", ""},
		{"marshal", "[1, (2, 3)]", `b'\x00ab'`},
		{"msgpack", "[1, [2, 3]]", `b'\x00ab'`},
	} {
		t.Run(tc.serializer, func(t *testing.T) {
			for _, flagArgs := range [][]string{{"--serializer", tc.serializer}, {"-serializer=" + tc.serializer}} {
				args := append(flagArgs, uri, "echo", "[1,(2,3)]")
				if code, out, errs := callCmd(t, nil, args...); code != 0 || out != tc.nested+"\n" {
					t.Errorf("%v: code %d stdout %q stderr %q", args, code, out, errs)
				}
			}
			// PYRO_SERIALIZER picks the serializer too
			env := []string{"PYRO_SERIALIZER=" + tc.serializer}
			if code, out, errs := callCmd(t, env, uri, "echo", "[1,(2,3)]"); code != 0 || out != tc.nested+"\n" {
				t.Errorf("PYRO_SERIALIZER: code %d stdout %q stderr %q", code, out, errs)
			}
			if code, out, errs := callCmd(t, env, uri, "error"); code != 1 || errs != valueErrorLine || out != "" {
				t.Errorf("error: code %d stdout %q stderr %q", code, out, errs)
			}
			if code, out, _ := callCmd(t, env, uri, "generator"); code != 0 || out != "'one'\n'two'\n'three'\n" {
				t.Errorf("generator: code %d stdout %q", code, out)
			}
			if tc.bytes != "" {
				if code, out, errs := callCmd(t, env, uri, "echo", `b'\x00ab'`); code != 0 || out != tc.bytes+"\n" {
					t.Errorf("bytes: code %d stdout %q stderr %q", code, out, errs)
				}
			}
		})
	}
}

func TestCallHMAC(t *testing.T) {
	uri := startGoEcho(t, pyro.WithHMACKey([]byte("k3y")))
	if code, out, errs := callCmd(t, []string{"PYRO_HMAC_KEY=k3y"}, uri, "echo", "1"); code != 0 || out != "1\n" || errs != "" {
		t.Errorf("key from env: code %d stdout %q stderr %q", code, out, errs)
	}
	code, out, errs := callCmd(t, nil, "-k", "k3y", uri, "echo", "1")
	if code != 0 || out != "1\n" || !strings.Contains(errs, "visible to other local users") {
		t.Errorf("-k: code %d stdout %q stderr %q", code, out, errs)
	}
	if code, _, errs := callCmd(t, nil, uri, "echo", "1"); code != 2 || !strings.Contains(errs, "hmac") {
		t.Errorf("no key: code %d stderr %q", code, errs)
	}
	if code, _, errs := callCmd(t, []string{"PYRO_HMAC_KEY=k3y"}, "-k", "k3y", uri, "echo", "1"); code != 2 ||
		!strings.Contains(errs, "don't use -k and PYRO_HMAC_KEY at the same time") {
		t.Errorf("both keys: code %d stderr %q", code, errs)
	}
}

func TestCallUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "call.sock")
	uri := startGoEcho(t, pyro.WithUnixSocket(sock))
	if !strings.Contains(uri, "./u:") {
		t.Fatalf("uri %s", uri)
	}
	if code, out, errs := callCmd(t, nil, uri, "echo", "'unix'"); code != 0 || out != "'unix'\n" {
		t.Errorf("code %d stdout %q stderr %q", code, out, errs)
	}
}

func TestCallBadEnvironment(t *testing.T) {
	uri := startGoEcho(t)
	code, _, errs := callCmd(t, []string{"PYRO_MAX_RETRIES=lots"}, uri, "echo", "1")
	if code != 2 || !strings.Contains(errs, "PYRO_MAX_RETRIES") {
		t.Errorf("code %d stderr %q", code, errs)
	}
}

// TestCallAgainstEchoserverCommand runs both commands in-process: "pyro
// call" against "pyro echoserver", ending with shutdown.
func TestCallAgainstEchoserverCommand(t *testing.T) {
	r := startEcho(t, []string{"PYRO_HMAC_KEY=shared"})
	env := []string{"PYRO_HMAC_KEY=shared"}
	if code, out, errs := callCmd(t, env, r.uri, "echo", "{'a': [1, 2]}"); code != 0 || out != "{'a': [1, 2]}\n" {
		t.Errorf("echo: code %d stdout %q stderr %q", code, out, errs)
	}
	if code, out, errs := callCmd(t, env, r.uri, "shutdown"); code != 0 || out != "None\n" {
		t.Errorf("shutdown: code %d stdout %q stderr %q", code, out, errs)
	}
	if code := r.wait(t); code != exitOK {
		t.Errorf("echoserver exit %d", code)
	}
}
