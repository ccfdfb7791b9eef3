package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/testkit"
)

// pyro ns --policy: alice (passphrase #0) owns lab.*, bob (#1) may only
// look up; pyro nsc shows bob's refusal. pyro echoserver -n registers
// through the passphrase-protected name server with its first passphrase.
func TestNSPolicyCommand(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "ns.policy")
	if err := os.WriteFile(policy, []byte(`# lab name server
allow connect
allow register,remove name=lab.*,test.* identity=#0
allow lookup,list name=*
`), 0o644); err != nil {
		t.Fatal(err)
	}
	server := writeSecret(t, "allowed", "alice pass\nbob pass\n", 0o600)
	alice := writeSecret(t, "alice", "alice pass\n", 0o600)
	bob := writeSecret(t, "bob", "bob pass\n", 0o600)

	ns := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0", "--passphrase-file", server, "--policy", policy)
	port := strconv.Itoa(ns.uri.Port)
	nsc := func(pass string, args ...string) nscResult {
		return nscRun(t, cleanEnviron(), "", append([]string{"--passphrase-file", pass, "-n", "127.0.0.1", "-p", port}, args...)...)
	}
	out := nsc(bob, "register", "lab.printer", "PYRO:evil@127.0.0.1:6666")
	if !strings.Contains(out.stdout, "Error: SecurityError") || !strings.Contains(out.stdout, "register") || !strings.Contains(out.stdout, "lab.printer") {
		t.Errorf("bob register: %+v", out)
	}
	if !strings.Contains(ns.stderr.String(), "denied by policy") {
		t.Errorf("refusal not logged: %s", ns.stderr)
	}
	if out := nsc(alice, "register", "lab.printer", "PYRO:obj@127.0.0.1:5555"); strings.Contains(out.stdout, "Error") {
		t.Errorf("alice register: %+v", out)
	}
	if out := nsc(bob, "remove", "lab.printer"); !strings.Contains(out.stdout, "Error: SecurityError") {
		t.Errorf("bob remove: %+v", out)
	}
	if out := nsc(bob, "lookup", "lab.printer"); !strings.Contains(out.stdout, "PYRO:obj@127.0.0.1:5555") {
		t.Errorf("bob lookup: %+v", out)
	}

	// echoserver -n with its passphrase file registers test.echoserver
	env := cleanEnviron("PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT="+port)
	echo := startEcho(t, env, "-H", "127.0.0.1", "-p", "0", "-n", "--passphrase-file", server)
	if out := nsc(bob, "lookup", "test.echoserver"); !strings.Contains(out.stdout, echo.uri) {
		t.Errorf("echoserver registration: %+v (echo %s)", out, echo.uri)
	}

	// a bad policy file: usage error naming the line
	bad := filepath.Join(dir, "bad.policy")
	os.WriteFile(bad, []byte("allow connect\nallow lookup sometimes\n"), 0o644)
	r := nsRun{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}}
	code := runNS(t.Context(), []string{"-n", "127.0.0.1", "-p", "0", "--policy", bad}, r.stdout, r.stderr, cleanEnviron())
	if code != exitUsage || !strings.Contains(r.stderr.String(), "policy line 2") {
		t.Errorf("bad policy: %d %s", code, r.stderr)
	}
}
