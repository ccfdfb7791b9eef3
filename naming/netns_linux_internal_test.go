//go:build linux

package naming

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/netnstest"
	"github.com/pyrogo/pyro/internal/pytest"
)

// Broadcast discovery over a real (virtual) link between two network
// namespaces: a Go name server in A is found from B by Python's locateNS
// and by Go's Locate; a Python name server in A is found by Go's Locate.
func TestBroadcastAcrossNamespaces(t *testing.T) {
	v := netnstest.New(t)
	bcPort := 19091 // namespaces are private, any port is free
	var srv *Server
	var err error
	netnstest.In(t, v.A, func() {
		srv, err = Start(testConfig(), WithHost(v.AddrA), WithPort(0), WithBroadcastPort(bcPort))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Responder() == nil {
		t.Fatalf("no responder: %s", srv.NoBroadcastReason())
	}
	// Python client in B, default BROADCAST_ADDRS (<broadcast>, 0.0.0.0)
	stdout, stderr := runInNetns(t, v.B, []string{"PYRO_NS_BCPORT=" + strconv.Itoa(bcPort), "PYRO_NS_HOST=10.231.255.254", "PYRO_COMMTIMEOUT=3"},
		"-c", "import Pyro4\nns = Pyro4.locateNS()\nns.ping()\nprint(ns._pyroUri)\nprint(ns.lookup('Pyro.NameServer'))")
	want := srv.URI().String() + "\n" + srv.URI().String() + "\n"
	if stdout != want {
		t.Errorf("python locateNS from B: %q, want %q\nstderr: %s", stdout, want, stderr)
	}
	// Go client in B
	cfg := testConfig()
	cfg.NSBcPort = bcPort
	cfg.NSHost = "10.231.255.254"
	locateIn := func() (pyro.URI, error) {
		var u pyro.URI
		var err error
		netnstest.In(t, v.B, func() {
			var p *pyro.Proxy
			if p, err = Locate(context.Background(), WithConfig(cfg)); err != nil {
				return
			}
			defer p.Close()
			var got pyro.URI
			if got, err = NewClient(p).Lookup(context.Background(), ObjectID); err == nil {
				u = got
			}
		})
		return u, err
	}
	if u, err := locateIn(); err != nil || !u.Equal(srv.URI()) {
		t.Errorf("go Locate from B: %v %v", u, err)
	}
	srv.Close()

	// Python name server in A, Go client in B
	pyPort := 19090
	startInNetns(t, v.A, "URI = ", "-m", "Pyro4.naming", "-n", v.AddrA, "-p", strconv.Itoa(pyPort), "--bcport", strconv.Itoa(bcPort))
	u, err := locateIn()
	if err != nil || u.String() != fmt.Sprintf("PYRO:Pyro.NameServer@%s:%d", v.AddrA, pyPort) {
		t.Errorf("go Locate of pyro4-ns from B: %v %v", u, err)
	}
}

// runInNetns runs python with args inside namespace ns and returns its
// output.
func runInNetns(t *testing.T, ns string, env []string, args ...string) (string, string) {
	t.Helper()
	return netnstest.Run(t, ns, pytest.Env(env...), append([]string{pytest.Python(t), "-u"}, args...)...)
}

// startInNetns starts python with args inside namespace ns and waits for
// a stdout line starting with ready; the process is stopped in t.Cleanup.
func startInNetns(t *testing.T, ns, ready string, args ...string) {
	t.Helper()
	netnstest.Start(t, ns, pytest.Env(), ready, append([]string{pytest.Python(t), "-u"}, args...)...)
}
