package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/netnstest"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// Issue 9, item 5: "pyro ns -n 0.0.0.0" (and -n "") serves every IPv4
// interface as pyro4-ns does: same startup lines, URI host 0.0.0.0, and a
// broadcast responder, through which "pyro nsc" and Python's
// Pyro4.locateNS() in another network namespace find it. Wildcard binds
// and broadcasts happen in private network namespaces only.
func TestNSWildcardHostDiscovery(t *testing.T) {
	v := netnstest.New(t)
	python := pytest.Python(t)
	bin := testkit.PyroCommand(t)
	env := cleanEnviron()
	const nsPort, bcPort = 19090, 19091
	startupLines := func(p *netnstest.Proc) string {
		var keep []string
		for _, l := range p.Lines() {
			keep = append(keep, portRE.ReplaceAllString(l, ":PORT"))
		}
		return strings.Join(keep, "\n")
	}
	// with NAT, the internal URI carries 0.0.0.0 too
	nat := []string{"--nathost", "nat.example", "--natport", "4242"}
	py := netnstest.Start(t, v.A, pytest.Env(), "external URI = ", append([]string{python, "-u", "-W", "ignore", "-m", "Pyro4.naming",
		"-n", "0.0.0.0", "-p", fmt.Sprint(nsPort + 4), "--bcport", fmt.Sprint(bcPort + 4)}, nat...)...)
	want := startupLines(py)
	py.Stop()
	goNS := netnstest.Start(t, v.A, env, "external URI = ", append([]string{bin, "ns", "-n", "0.0.0.0", "-p", fmt.Sprint(nsPort + 4),
		"--bcport", fmt.Sprint(bcPort + 4)}, nat...)...)
	if got := startupLines(goNS); got != want || !strings.Contains(got, "internal URI = PYRO:Pyro.NameServer@0.0.0.0:PORT") {
		t.Errorf("pyro ns -n 0.0.0.0 with NAT printed:\n%s\npyro4-ns printed:\n%s", got, want)
	}
	goNS.Stop()

	for _, host := range []string{"0.0.0.0", ""} {
		t.Run(fmt.Sprintf("host=%q", host), func(t *testing.T) {
			// the reference: pyro4-ns in namespace A
			py := netnstest.Start(t, v.A, pytest.Env(), "URI = ", python, "-u", "-W", "ignore", "-m", "Pyro4.naming",
				"-n", host, "-p", fmt.Sprint(nsPort+2), "--bcport", fmt.Sprint(bcPort+2))
			want := startupLines(py)
			py.Stop()

			goNS := netnstest.Start(t, v.A, env, "URI = ", bin, "ns", "-n", host, "-p", fmt.Sprint(nsPort), "--bcport", fmt.Sprint(bcPort))
			if got := startupLines(goNS); got != want {
				t.Errorf("pyro ns -n %q printed:\n%s\npyro4-ns -n %q printed:\n%s", host, got, host, want)
			}
			if got := goNS.Lines(); !slices.Contains(got, fmt.Sprintf("URI = PYRO:Pyro.NameServer@0.0.0.0:%d", nsPort)) ||
				!slices.Contains(got, fmt.Sprintf("Broadcast server running on 0.0.0.0:%d", bcPort)) {
				t.Errorf("pyro ns -n %q: %q", host, got)
			}
			// found from namespace B by broadcast: "pyro nsc" (-p is also
			// the broadcast port when no host is given, as in pyro4-nsc).
			// NS_HOST is not local, so that locateNS skips its localhost
			// step, whose reverse lookup of 127.0.1.1 waits for DNS
			// timeouts in a namespace without DNS.
			bEnv := cleanEnviron("PYRO_NS_HOST=10.231.255.254")
			found := fmt.Sprintf("PYRO:Pyro.NameServer@%s:%d", v.AddrA, nsPort)
			out, _ := netnstest.Run(t, v.B, bEnv, bin, "nsc", "-v", "-p", fmt.Sprint(bcPort), "ping")
			if !strings.Contains(out, "Name server found: "+found+"\n") || !strings.Contains(out, "Name server ping ok.\n") {
				t.Errorf("pyro nsc from B:\n%s", out)
			}
			out, _ = netnstest.Run(t, v.B, bEnv, bin, "nsc", "-p", fmt.Sprint(bcPort), "lookup", "Pyro.NameServer")
			if want := fmt.Sprintf("PYRO:Pyro.NameServer@0.0.0.0:%d\nmetadata: ['class:Pyro4.naming.NameServer']\n", nsPort); out != want {
				t.Errorf("pyro nsc lookup from B: %q, want %q (the URI pyro4-ns registers)", out, want)
			}
			// and Python's locateNS
			out, errs := netnstest.Run(t, v.B, pytest.Env("PYRO_NS_HOST=10.231.255.254", "PYRO_NS_BCPORT="+fmt.Sprint(bcPort), "PYRO_COMMTIMEOUT=5"),
				python, "-u", "-c", "import Pyro4\nns = Pyro4.locateNS()\nns.ping()\nprint(ns._pyroUri)")
			if strings.TrimSpace(out) != found {
				t.Errorf("Pyro4.locateNS() from B: %q, want %q\n%s", out, found, errs)
			}
			if lines := goNS.Stop(); len(lines) == 0 || lines[len(lines)-1] != "NS shut down." {
				t.Errorf("pyro ns did not shut down cleanly: %q", lines)
			}
		})
	}
}

// Issue 9, item 5, for "pyro echoserver -H": a wildcard host binds every
// IPv4 interface and goes into the URI as pyro4-test-echoserver puts it,
// and the server answers calls on the namespace's address.
func TestEchoserverWildcardHost(t *testing.T) {
	v := netnstest.New(t)
	python := pytest.Python(t)
	bin := testkit.PyroCommand(t)
	for i, host := range []string{"0.0.0.0", ""} {
		pyPort, goPort := 19190+2*i, 19191+2*i
		py := netnstest.Start(t, v.A, pytest.Env(), "echo uri: ", python, "-u", "-W", "ignore", "-m", "Pyro4.test.echoserver",
			"-H", host, "-p", fmt.Sprint(pyPort))
		goEcho := netnstest.Start(t, v.A, cleanEnviron(), "echo uri: ", bin, "echoserver", "-H", host, "-p", fmt.Sprint(goPort))
		uriLine := func(p *netnstest.Proc, port int) string {
			for _, l := range p.Lines() {
				if strings.HasPrefix(l, "echo uri: ") {
					return strings.ReplaceAll(l, fmt.Sprint(port), "PORT")
				}
			}
			return ""
		}
		want := uriLine(py, pyPort)
		if got := uriLine(goEcho, goPort); got != want || want != "echo uri: PYRO:test.echoserver@0.0.0.0:PORT" {
			t.Errorf("-H %q: pyro echoserver %q, pyro4-test-echoserver %q", host, got, want)
		}
		// a Python client in B reaches it through A's address
		out, errs := netnstest.Run(t, v.B, pytest.Env("PYRO_COMMTIMEOUT=5"), python, "-u", "-c",
			fmt.Sprintf("import Pyro4\nprint(Pyro4.Proxy('PYRO:test.echoserver@%s:%d').echo('hi'))", v.AddrA, goPort))
		if strings.TrimSpace(out) != "hi" {
			t.Errorf("-H %q: echo from B: %q %s", host, out, errs)
		}
	}
}
