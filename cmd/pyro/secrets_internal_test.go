package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// writeSecret writes a file with the given mode.
func writeSecret(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMaxConnectionsEnv: PYRO_MAXCONNECTIONS limits every server command.
func TestMaxConnectionsEnv(t *testing.T) {
	ctx := context.Background()
	env := cleanEnviron("PYRO_MAXCONNECTIONS=1")
	echo := startEcho(t, env, "-p", "0")
	ns := startNSCmd(t, env, "-n", "127.0.0.1", "-p", "0")
	es := startESCmd(t, env, esOptions{}, "-n", "127.0.0.1", "-N")
	for _, uri := range []string{echo.uri, ns.uri.String(), es.uri.String()} {
		first := pyrotest.Proxy(t, uri, nil)
		if _, err := first.Call(ctx, "ping"); err != nil && !strings.Contains(err.Error(), "no exposed attribute") {
			// the echo server has no ping(): any reply means connected
			var re *pyro.RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("%s: first client: %v", uri, err)
			}
		}
		_, err := pyrotest.Proxy(t, uri, nil).Call(ctx, "ping")
		if !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "MAXCONNECTIONS (1)") {
			t.Errorf("%s: second client: %v", uri, err)
		}
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"genkey", "-o", keyPath}, &out, &errb, nil); code != 0 || out.Len() != 0 {
		t.Fatalf("genkey -o: %d %q %q", code, out.String(), errb.String())
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	// never overwrites
	if code := run(context.Background(), []string{"genkey", "-o", keyPath}, &out, &errb, nil); code == 0 {
		t.Error("genkey -o overwrote a file")
	}
	echo := startEcho(t, cleanEnviron(), "-p", "0", "--key-file", keyPath)
	if strings.Contains(echo.stdout.String(), "HMAC key not set") {
		t.Errorf("no-key warning with a key file:\n%s", echo.stdout)
	}
	if code, stdout, stderr := callCmd(t, cleanEnviron(), "--key-file", keyPath, echo.uri, "echo", "'hi'"); code != 0 || stdout != "'hi'\n" {
		t.Errorf("call --key-file: %d %q %q", code, stdout, stderr)
	}
	if code, stdout, stderr := callCmd(t, cleanEnviron("PYRO_HMAC_KEY_FILE="+keyPath), echo.uri, "echo", "'hi'"); code != 0 || stdout != "'hi'\n" {
		t.Errorf("call with PYRO_HMAC_KEY_FILE: %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := callCmd(t, cleanEnviron(), echo.uri, "echo", "'hi'"); code != exitUsage || !strings.Contains(stderr, "hmac") {
		t.Errorf("call without the key: %d %q", code, stderr)
	}
	// the key is the file's text without the line end
	key, _ := os.ReadFile(keyPath)
	k := strings.TrimSpace(string(key))
	if code, _, stderr := callCmd(t, cleanEnviron("PYRO_HMAC_KEY="+k), echo.uri, "echo", "'hi'"); code != 0 {
		t.Errorf("call with the key in PYRO_HMAC_KEY: %d %q", code, stderr)
	}

	// refused: a file others may read, an empty file, two key sources
	open := writeSecret(t, "open", k, 0o644)
	empty := writeSecret(t, "empty", "\n", 0o600)
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--key-file", open}, "accessible by other users (mode 0644): chmod 600 it"},
		{nil, []string{"--key-file", empty}, "is empty"},
		{nil, []string{"--key-file", filepath.Join(dir, "missing")}, "no such file"},
		{nil, []string{"-k", "x", "--key-file", keyPath}, "use only one of -k, PYRO_HMAC_KEY and a key file"},
		{[]string{"PYRO_HMAC_KEY=x"}, []string{"--key-file", keyPath}, "use only one of"},
	} {
		code, _, stderr := callCmd(t, cleanEnviron(tc.env...), append(tc.args, echo.uri, "echo", "1")...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v %v: %d %q, want %q", tc.env, tc.args, code, stderr, tc.want)
		}
	}
}

func TestPassphraseFile(t *testing.T) {
	server := writeSecret(t, "allowed", "# who may connect\nfirst passphrase\n\nsecond passphrase\n", 0o600)
	client := writeSecret(t, "mine", "second passphrase\n", 0o600)
	wrong := writeSecret(t, "wrong", "third passphrase\n", 0o600)

	echo := startEcho(t, cleanEnviron(), "-p", "0", "--passphrase-file", server)
	if code, stdout, stderr := callCmd(t, cleanEnviron(), "--passphrase-file", client, echo.uri, "echo", "'hi'"); code != 0 || stdout != "'hi'\n" {
		t.Errorf("call --passphrase-file: %d %q %q", code, stdout, stderr)
	}
	if code, stdout, stderr := callCmd(t, cleanEnviron("PYRO_PASSPHRASE_FILE="+client), echo.uri, "echo", "'hi'"); code != 0 || stdout != "'hi'\n" {
		t.Errorf("call with PYRO_PASSPHRASE_FILE: %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := callCmd(t, cleanEnviron(), echo.uri, "echo", "'hi'"); code != exitUsage || !strings.Contains(stderr, "rejected: security reasons: passphrase authentication required") {
		t.Errorf("call without a passphrase: %d %q", code, stderr)
	}
	if code, _, stderr := callCmd(t, cleanEnviron(), "--passphrase-file", wrong, echo.uri, "echo", "'hi'"); code != exitUsage || !strings.Contains(stderr, "authentication failed") {
		t.Errorf("call with a wrong passphrase: %d %q", code, stderr)
	}

	ns := startNSCmd(t, cleanEnviron("PYRO_PASSPHRASE_FILE="+server), "-n", "127.0.0.1", "-p", "0")
	port := strconv.Itoa(ns.uri.Port)
	if out := nscRun(t, cleanEnviron(), "", "--passphrase-file", client, "-n", "127.0.0.1", "-p", port, "ping"); out.stdout != "Name server ping ok.\n" {
		t.Errorf("nsc with a passphrase: %+v", out)
	}
	if out := nscRun(t, cleanEnviron(), "", "-n", "127.0.0.1", "-p", port, "ping"); !strings.HasPrefix(out.stdout, "Error:") {
		t.Errorf("nsc without a passphrase: %+v", out)
	}
	open := writeSecret(t, "open", "p\n", 0o640)
	if code, _, stderr := callCmd(t, cleanEnviron(), "--passphrase-file", open, echo.uri, "echo", "1"); code != exitUsage || !strings.Contains(stderr, "chmod 600") {
		t.Errorf("passphrase file readable by others: %d %q", code, stderr)
	}
}
