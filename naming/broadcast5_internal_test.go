package naming

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
)

// Pyro5's broadcast discovery is Pyro4's: the request is the datagram
// "GET_NSURI" to NS_BCPORT, the answer the name server's URI as text
// (Pyro5/nameserver.py BroadcastServer.processRequest, core.locate_ns).
// Pyro5's locate_ns finds the Go responder, and Go's Discover finds
// Pyro5's BroadcastServer.
func TestBroadcastPyro5Loopback(t *testing.T) {
	pytest.Pyro5(t)
	s := startNS(t, nil, withLoopbackBroadcast(), WithBroadcastHost("127.0.0.1"), WithBroadcastPort(0))
	bcPort := s.Responder().Addr().Port
	// NS_HOST is not localhost, so locate_ns goes straight to broadcast;
	// it returns the proxy without connecting
	res := pytest.Cmd{
		Args:  []string{"-c", "import Pyro5.core\nns = Pyro5.core.locate_ns()\nprint(ns._pyroUri)"},
		Env:   []string{"PYRO_BROADCAST_ADDRS=127.0.0.1", "PYRO_NS_BCPORT=" + strconv.Itoa(bcPort), "PYRO_NS_HOST=192.0.2.1", "PYRO_COMMTIMEOUT=3"},
		Pyro5: true,
	}.Run(t)
	if got := strings.TrimSpace(res.Stdout); got != s.URI().String() {
		t.Errorf("Pyro5 locate_ns: %q (stderr %s)", got, res.Stderr)
	}

	ns5 := pytest.StartNameServer5(t, pytest.NS5{Broadcast: true})
	cfg := testConfig()
	cfg.BroadcastAddrs = []string{"127.0.0.1"}
	u, err := Discover(ctxT(t), cfg, ns5.BcPort)
	if err != nil || u.String() != ns5.URI {
		t.Errorf("Discover of Pyro5's responder: %v %v (want %s)", u, err, ns5.URI)
	}
}
