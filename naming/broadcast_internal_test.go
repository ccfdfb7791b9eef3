package naming

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// withLoopbackBroadcast lets a test start the responder on a loopback
// bind, which pyro4-ns's rule (kept by Start) forbids.
func withLoopbackBroadcast() ServerOption {
	return serverOption(func(o *serverConfig) { o.loopbackBroadcast = true })
}

// udpAsk sends payload to addr and returns the answer, or "" after wait.
func udpAsk(t *testing.T, c *net.UDPConn, addr *net.UDPAddr, payload []byte, wait time.Duration) string {
	t.Helper()
	if _, err := c.WriteToUDP(payload, addr); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 200)
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// The responder answers exactly "GET_NSURI", nothing else, and at most
// responderPerPeer times a second to one peer.
func TestResponderDirect(t *testing.T) {
	nsURI := pyro.URI{Protocol: "PYRO", Object: ObjectID, Host: "127.0.0.1", Port: 9999}
	r, err := StartResponder("127.0.0.1", 0, nsURI, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := udpAsk(t, c, r.Addr(), []byte("GET_NSURI"), 2*time.Second); got != "PYRO:Pyro.NameServer@127.0.0.1:9999" {
		t.Fatalf("answer %q", got)
	}
	for _, junk := range []string{"GET_NSURIx", "get_nsuri", "GET_NSUR", "", "GET_NSURI" + strings.Repeat("x", 200)} {
		if got := udpAsk(t, c, r.Addr(), []byte(junk), 150*time.Millisecond); got != "" {
			t.Errorf("%q answered with %q", junk, got)
		}
	}
	// rate limit: a burst from one peer gets at most responderPerPeer
	// answers per second (wait for a fresh second first)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	for i := 0; i < 3*responderPerPeer; i++ {
		c.WriteToUDP([]byte("GET_NSURI"), r.Addr())
	}
	answers := 0
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 200)
	for {
		if _, _, err := c.ReadFromUDP(buf); err != nil {
			break
		}
		answers++
	}
	if answers == 0 || answers > responderPerPeer {
		t.Errorf("%d answers to a burst of %d", answers, 3*responderPerPeer)
	}
	if r.Location() != "127.0.0.1:"+strconv.Itoa(r.Addr().Port) {
		t.Errorf("location %q", r.Location())
	}
}

// An unspecified URI host (0.0.0.0) is replaced by the address that
// routes to the requester.
func TestResponderUnspecifiedHost(t *testing.T) {
	r, err := StartResponder("127.0.0.1", 0, pyro.URI{Protocol: "PYRO", Object: ObjectID, Host: "0.0.0.0", Port: 9090}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer c.Close()
	if got := udpAsk(t, c, r.Addr(), []byte("GET_NSURI"), 2*time.Second); got != "PYRO:Pyro.NameServer@127.0.0.1:9090" {
		t.Fatalf("answer %q", got)
	}
}

// Start's broadcast rules, and discovery (Discover and Locate) of a Go
// name server through its responder, with the broadcast sent to
// 127.0.0.1.
func TestServerBroadcastAndLocate(t *testing.T) {
	if s := startNS(t, nil); s.NoBroadcastReason() != "localhost" || s.Responder() != nil {
		t.Errorf("loopback bind: responder %v, reason %q", s.Responder(), s.NoBroadcastReason())
	}
	if s := startNS(t, nil, WithBroadcast(false), withLoopbackBroadcast()); s.NoBroadcastReason() != "disabled" {
		t.Errorf("-x: reason %q", s.NoBroadcastReason())
	}
	s := startNS(t, nil, withLoopbackBroadcast(), WithBroadcastHost("127.0.0.1"), WithBroadcastPort(0))
	if s.Responder() == nil {
		t.Fatalf("no responder: %q", s.NoBroadcastReason())
	}
	bcPort := s.Responder().Addr().Port
	cfg := testConfig()
	cfg.BroadcastAddrs = []string{"127.0.0.1"}
	ctx := ctxT(t)
	u, err := Discover(ctx, cfg, bcPort)
	if err != nil || !u.Equal(s.URI()) {
		t.Fatalf("Discover: %v %v", u, err)
	}
	// Locate: NS_HOST is not local, so broadcast is tried before it
	cfg.NSHost = "192.0.2.1"
	cfg.NSBcPort = bcPort
	p, err := Locate(ctx, WithConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := NewClient(p).Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// nobody answers: NamingError after three rounds
	old := discoverRound
	discoverRound = 50 * time.Millisecond
	defer func() { discoverRound = old }()
	if _, err := Discover(ctx, cfg, testkit.FreeUDPPort(t)); err == nil || !strings.Contains(err.Error(), "no name server answered") {
		t.Errorf("silent network: %v", err)
	}
}

// Python's locateNS finds the Go responder; Go's Discover finds Python's
// BroadcastServer.
func TestBroadcastInteropLoopback(t *testing.T) {
	s := startNS(t, nil, withLoopbackBroadcast(), WithBroadcastHost("127.0.0.1"), WithBroadcastPort(0))
	bcPort := s.Responder().Addr().Port
	res := pytest.Cmd{
		Args: []string{"-c", "import Pyro4\nns = Pyro4.locateNS()\nns.ping()\nprint(ns._pyroUri)"},
		Env:  []string{"PYRO_BROADCAST_ADDRS=127.0.0.1", "PYRO_NS_BCPORT=" + strconv.Itoa(bcPort), "PYRO_NS_HOST=192.0.2.1", "PYRO_COMMTIMEOUT=3"},
	}.Run(t)
	if got := strings.TrimSpace(res.Stdout); got != s.URI().String() {
		t.Errorf("python locateNS: %q (stderr %s)", got, res.Stderr)
	}

	pyBC := testkit.FreeTCPPort(t)
	ns := startPyNS(t)
	pytest.Cmd{Args: []string{"-c", `import sys, time, Pyro4.naming
bc = Pyro4.naming.BroadcastServer(Pyro4.core.URI(sys.argv[1]), bchost="127.0.0.1", bcport=int(sys.argv[2]))
bc.runInThread()
print("READY bc")
time.sleep(600)`, ns.String(), strconv.Itoa(pyBC)}}.Start(t)
	cfg := testConfig()
	cfg.BroadcastAddrs = []string{"127.0.0.1"}
	u, err := Discover(ctxT(t), cfg, pyBC)
	if err != nil || !u.Equal(ns) {
		t.Errorf("Discover of pyro4 responder: %v %v", u, err)
	}
}
