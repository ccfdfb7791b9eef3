//go:build linux

package naming

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/netnstest"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
)

// failoverNet is three Go name servers in namespace A of a veth pair, on
// one host address, different TCP ports and one shared broadcast port
// (SO_REUSEADDR, as SOCK_REUSE gives), all with the registration "svc"
// for a Go object served in A.
type failoverNet struct {
	v       *netnstest.VethPair
	bcPort  int
	servers []*Server
	svc     pyro.URI
}

func startFailoverNet(t *testing.T) *failoverNet {
	t.Helper()
	f := &failoverNet{v: netnstest.New(t), bcPort: 19091}
	netnstest.In(t, f.v.A, func() {
		d, err := pyro.NewDaemon(testConfig(), pyro.WithHost(f.v.AddrA), pyro.WithPort(0))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); d.Serve(context.Background()) }()
		t.Cleanup(func() { d.Close(); <-done })
		if f.svc, err = d.Register(&thing{who: "svc"}, "svc"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			s, err := Start(testConfig(), WithHost(f.v.AddrA), WithPort(0), WithBroadcastPort(f.bcPort))
			if err != nil {
				t.Fatalf("name server %d: %v", i, err)
			}
			t.Cleanup(func() { s.Close() })
			if s.Responder() == nil {
				t.Fatalf("name server %d: no responder: %s", i, s.NoBroadcastReason())
			}
			if err := s.NameServer().register("svc", f.svc.String(), nil); err != nil {
				t.Fatal(err)
			}
			f.servers = append(f.servers, s)
		}
	})
	return f
}

// index is the number of the server whose URI is u, or -1.
func (f *failoverNet) index(u string) int {
	return slices.IndexFunc(f.servers, func(s *Server) bool { return s.URI().String() == u })
}

// askAll sends GET_NSURI from namespace B to addr:bcPort and gathers the
// distinct answers until want have come or, after the first, a quiet
// period passes (the bound only ends a wait; it decides nothing).
func (f *failoverNet) askAll(t *testing.T, addr string, want int) []string {
	t.Helper()
	var answers []string
	netnstest.In(t, f.v.B, func() {
		lc := net.ListenConfig{Control: udpControl(true)}
		pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		to := &net.UDPAddr{IP: net.ParseIP(addr), Port: f.bcPort}
		if _, err := pc.WriteTo([]byte(discoverRequest), to); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, maxDatagram)
		pc.SetReadDeadline(time.Now().Add(testbound.Scale(10 * time.Second)))
		for len(answers) < want {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			if a := string(buf[:n]); !slices.Contains(answers, a) {
				answers = append(answers, a)
			}
			pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		}
	})
	return answers
}

// What Linux delivers to name servers sharing the broadcast port: a
// broadcast request reaches every one of them, a unicast request only
// one; when that one is gone, another gets the unicast requests. So a
// client finds another name server by discovery after the one it used
// died, whichever way its request travels.
func TestDiscoverySharedPort(t *testing.T) {
	f := startFailoverNet(t)
	bc := f.askAll(t, "255.255.255.255", 3)
	if len(bc) != 3 {
		t.Fatalf("broadcast answered by %d name servers, want 3: %q", len(bc), bc)
	}
	uc := f.askAll(t, f.v.AddrA, 3)
	if len(uc) != 1 {
		t.Fatalf("unicast answered by %d name servers, want 1: %q", len(uc), uc)
	}
	first := f.index(uc[0])
	t.Logf("unicast requests go to name server %d of 0-2 (bound in that order)", first)
	f.servers[first].Close()
	uc2 := f.askAll(t, f.v.AddrA, 3)
	if len(uc2) != 1 || uc2[0] == uc[0] || f.index(uc2[0]) < 0 {
		t.Errorf("unicast after name server %d closed: %q", first, uc2)
	} else {
		t.Logf("then to name server %d", f.index(uc2[0]))
	}
	if bc2 := f.askAll(t, "255.255.255.255", 3); len(bc2) != 2 || slices.Contains(bc2, uc[0]) {
		t.Errorf("broadcast after name server %d closed: %q", first, bc2)
	}

	// a Go client in B locates by broadcast, loses that name server, and
	// locates another, until none is left
	cfg := testConfig()
	cfg.NSBcPort = f.bcPort
	cfg.NSHost, cfg.NSPort = f.v.AddrB, 1 // the last step: refused at once
	locateIn := func() (string, error) {
		var u string
		var err error
		netnstest.In(t, f.v.B, func() {
			var p *pyro.Proxy
			if p, err = Locate(context.Background(), WithConfig(cfg)); err != nil {
				return
			}
			defer p.Close()
			if err = NewClient(p).Ping(context.Background()); err == nil {
				u = p.URI().String()
			}
		})
		return u, err
	}
	alive := 2
	for alive > 0 {
		u, err := locateIn()
		i := f.index(u)
		if err != nil || i < 0 || i == first {
			t.Fatalf("Locate with %d alive: %q %v", alive, u, err)
		}
		f.servers[i].Close()
		first = i
		alive--
	}
	if u, err := locateIn(); err == nil {
		t.Errorf("Locate with none alive: %q", u)
	}
}

// A Python Pyro4 (and Pyro5) client locates a name server by broadcast,
// loses it (the name server shuts down), and locates another one; its
// PYRONAME proxy keeps working, and re-resolves through a live name
// server on _pyroReconnect.
func TestPythonClientLocatesAgain(t *testing.T) {
	t.Run("pyro4", func(t *testing.T) { testPythonLocatesAgain(t, false) })
	t.Run("pyro5", func(t *testing.T) { testPythonLocatesAgain(t, true) })
}

func testPythonLocatesAgain(t *testing.T, pyro5 bool) {
	var extra []string
	if pyro5 {
		extra = append(extra, "PYTHONPATH="+pytest.Pyro5(t).Source)
	}
	f := startFailoverNet(t)
	flag := filepath.Join(t.TempDir(), "lost")
	script := `import os, sys, time, Pyro4, Pyro4.errors
flag = sys.argv[1]
ns = Pyro4.locateNS()
ns.ping()
print("FIRST", ns._pyroUri, flush=True)
svc = Pyro4.Proxy("PYRONAME:svc")
print("CALL", svc.whoami(), flush=True)
for _ in range(1200):
    if os.path.exists(flag):
        break
    time.sleep(0.05)
try:
    ns.ping()
    print("OLD alive", flush=True)
except Pyro4.errors.CommunicationError as e:
    print("OLD lost", type(e).__name__, flush=True)
ns = Pyro4.locateNS()
ns.ping()
print("SECOND", ns._pyroUri, flush=True)
print("CALL", svc.whoami(), flush=True)
svc._pyroReconnect()
print("RECONNECT", svc.whoami(), flush=True)
print("DONE", flush=True)
time.sleep(600)
`
	if pyro5 {
		for _, r := range [][2]string{{"Pyro4.errors", "Pyro5.errors"}, {"Pyro4.locateNS", "Pyro5.api.locate_ns"}, {"Pyro4.Proxy", "Pyro5.api.Proxy"}, {"Pyro4", "Pyro5.api"}} {
			script = strings.ReplaceAll(script, r[0], r[1])
		}
	}
	env := pytest.Env(append(extra, "PYRO_NS_BCPORT="+strconv.Itoa(f.bcPort), "PYRO_NS_HOST="+f.v.AddrB, "PYRO_NS_PORT=1", "PYRO_COMMTIMEOUT=5")...)
	// the name server is shut down only after the client used it twice
	// (locating, and resolving svc, which may find another one)
	p := netnstest.Start(t, f.v.B, env, "CALL", pytest.Python(t), "-u", "-c", script, flag)
	firstURI := strings.TrimPrefix(p.Lines()[0], "FIRST ")
	i := f.index(firstURI)
	if i < 0 {
		t.Fatalf("python located %q", firstURI)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	f.servers[i].Shutdown(sctx)
	cancel()
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	lines := waitLines(t, p, "DONE")
	want := []string{"FIRST " + firstURI, "CALL svc", "OLD lost ConnectionClosedError", "", "CALL svc", "RECONNECT svc", "DONE"}
	if len(lines) != len(want) {
		t.Fatalf("python client: %q", lines)
	}
	second := strings.TrimPrefix(lines[3], "SECOND ")
	if j := f.index(second); j < 0 || j == i {
		t.Errorf("python located %q after losing %q", second, firstURI)
	}
	lines[3] = ""
	for k := range want {
		if lines[k] != want[k] && !(k == 2 && strings.HasPrefix(lines[k], "OLD lost ")) {
			t.Errorf("python client line %d: %q, want %q", k, lines[k], want[k])
		}
	}
}

// waitLines waits for a stdout line of p starting with last and returns
// the lines; the process exiting first fails the test, and the bound
// only catches a hang.
func waitLines(t *testing.T, p *netnstest.Proc, last string) []string {
	t.Helper()
	deadline := time.After(testbound.Scale(60 * time.Second))
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		lines := p.Lines()
		if len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], last) {
			return lines
		}
		select {
		case <-tick.C:
			continue
		case <-p.Done():
			if lines := p.Lines(); len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], last) {
				return lines
			}
			t.Fatalf("exited before a %q line: %q\nstderr: %s", last, p.Lines(), p.Stderr())
		case <-deadline:
			t.Fatalf("no %q line: %q\nstderr: %s", last, p.Lines(), p.Stderr())
		}
		return nil
	}
}
