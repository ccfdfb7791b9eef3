//go:build linux

package cluster

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/netnstest"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
)

// pyDiscover is a Pyro4 client that finds a name server by broadcast,
// looks svc up and calls it, waits for the file sys.argv[1], then
// (its name server SIGKILLed meanwhile) finds another one by broadcast,
// asks it for Pyro.NameServer and calls svc.later through PYRONAME.
const pyDiscover = `import os, sys, time, Pyro4, Pyro4.errors
flag = sys.argv[1]
ns = Pyro4.locateNS()
print("FIRST", ns._pyroUri, flush=True)
print("CALL", Pyro4.Proxy(ns.lookup("svc")).whoami(), flush=True)
for _ in range(1200):
    if os.path.exists(flag):
        break
    time.sleep(0.05)
try:
    ns.ping()
    print("OLD alive", flush=True)
except Pyro4.errors.CommunicationError as e:
    print("OLD lost", flush=True)
ns = Pyro4.locateNS()
print("SECOND", ns._pyroUri, flush=True)
print("SELF", ns.lookup("Pyro.NameServer"), flush=True)
print("CALL", Pyro4.Proxy("PYRONAME:svc.later").whoami(), flush=True)
print("DONE", flush=True)
time.sleep(600)
`

// TestPythonDiscoveryFailoverNATS: three `pyro ns -s nats://...`
// processes sharing a bucket answer broadcast discovery in namespace A
// (a nats-server process there too); a Python Pyro4 client in namespace
// B finds one by broadcast, which is then SIGKILLed; the client finds
// another by broadcast, which says it is Pyro.NameServer itself, and
// resolves a name registered at a survivor after the kill.
func TestPythonDiscoveryFailoverNATS(t *testing.T) {
	v := netnstest.New(t)
	python := pytest.Python(t)
	natsBin := testkit.GoBuild(t, natstest.ServerPackage, true)
	pyroBin := testkit.PyroCommand(t)
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	// nats-server logs to stderr; the shell sends it to stdout, where
	// Start waits for a first line.
	netnstest.Start(t, v.A, env, "", "/bin/sh", "-c", `exec "$0" "$@" 2>&1`, natsBin,
		"-a", "127.0.0.1", "-p", "4222", "-js", "-sd", filepath.Join(dir, "js"), "-n", "n0")
	const bcPort = "19091"
	nsEnv := append(env, "PYRO_NS_BCPORT="+bcPort)
	var procs []*netnstest.Proc
	var uris, hosts []string
	for i := range 3 {
		port := strconv.Itoa(19090 - 10*i)
		p := netnstest.Start(t, v.A, nsEnv, "URI = ", pyroBin, "ns", "-n", v.AddrA, "-p", port, "-s", "nats://127.0.0.1:4222/disc")
		line := p.Lines()[slices.IndexFunc(p.Lines(), func(l string) bool { return strings.HasPrefix(l, "URI = ") })]
		procs, uris, hosts = append(procs, p), append(uris, strings.TrimPrefix(line, "URI = ")), append(hosts, v.AddrA+":"+port)
	}
	// svc is served in A.
	var svc pyro.URI
	netnstest.In(t, v.A, func() {
		d, err := pyro.NewDaemon(pyro.BuiltinConfig(), pyro.WithHost(v.AddrA), pyro.WithPort(0))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); d.Serve(context.Background()) }()
		t.Cleanup(func() { d.Close(); <-done })
		if svc, err = d.Register(&who{"svc"}, "svc"); err != nil {
			t.Fatal(err)
		}
	})
	nsc := func(args ...string) {
		t.Helper()
		netnstest.Run(t, v.A, env, append([]string{pyroBin, "nsc", "-n", strings.Join(hosts, ",")}, args...)...)
	}
	nsc("register", "svc", svc.String())

	flag := filepath.Join(t.TempDir(), "lost")
	cl := netnstest.Start(t, v.B, pytest.Env("PYRO_NS_BCPORT="+bcPort, "PYRO_NS_HOST="+v.AddrB, "PYRO_NS_PORT=1", "PYRO_COMMTIMEOUT=5"),
		"CALL", python, "-u", "-c", pyDiscover, flag)
	first := slices.Index(uris, strings.TrimPrefix(cl.Lines()[0], "FIRST "))
	if first < 0 {
		t.Fatalf("python located %q; the name servers are %q", cl.Lines()[0], uris)
	}
	procs[first].Kill()
	nsc("register", "svc.later", svc.String())
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	lines := waitForLine(t, cl, "DONE")
	t.Logf("python client: %q", lines)
	if len(lines) != 7 || lines[1] != "CALL svc" || lines[2] != "OLD lost" || lines[5] != "CALL svc" || lines[6] != "DONE" {
		t.Fatalf("python client: %q\nstderr: %s", lines, cl.Stderr())
	}
	second := strings.TrimPrefix(lines[3], "SECOND ")
	if j := slices.Index(uris, second); j < 0 || j == first {
		t.Errorf("python located %q after losing %q", second, uris[first])
	}
	if lines[4] != "SELF "+second {
		t.Errorf("the second name server says Pyro.NameServer is %q, want itself %s", lines[4], second)
	}
}

// waitForLine waits for a stdout line of p starting with last and returns
// the lines; the process exiting first fails the test, and the bound
// only catches a hang.
func waitForLine(t *testing.T, p *netnstest.Proc, last string) []string {
	t.Helper()
	deadline := time.After(testbound.Scale(60 * time.Second))
	for {
		lines := p.Lines()
		if len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], last) {
			return lines
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-p.Done():
			if lines := p.Lines(); len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], last) {
				return lines
			}
			t.Fatalf("exited before a %q line: %q\nstderr: %s", last, p.Lines(), p.Stderr())
		case <-deadline:
			t.Fatalf("no %q line: %q\nstderr: %s", last, p.Lines(), p.Stderr())
		}
	}
}
