package naming

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/py"
)

// hungNS is a TCP listener on 127.0.0.1 that accepts connections and
// never answers: a name server that hangs. closed receives one value for
// each connection the client closed.
type hungNS struct {
	addr   string
	closed chan struct{}
}

func startHungNS(t testing.TB) *hungNS {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hungNS{addr: ln.Addr().String(), closed: make(chan struct{}, 64)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(io.Discard, c) // until the client (or the cleanup) closes it
				select {
				case h.closed <- struct{}{}:
				default:
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return h
}

// deadAddr is 127.0.0.1:PORT where nothing listens (connections are
// refused).
func deadAddr(t testing.TB) string {
	return "127.0.0.1:" + strconv.Itoa(testkit.FreeTCPPort(t))
}

// lostNS is a name server that answers ping and then drops the
// connection of every other call, as a name server dying mid-lookup
// does (a method raising a CommunicationError makes the daemon close the
// connection without a reply).
type lostNS struct {
	calls atomic.Int32 // calls other than ping
}

func (n *lostNS) Ping() {}
func (n *lostNS) Lookup(name string) (string, error) {
	n.calls.Add(1)
	return "", pyro.NewError(pyro.ErrConnectionClosed, "name server lost")
}

func startLostNS(t *testing.T) (*lostNS, pyro.URI) {
	t.Helper()
	d := pyrotest.Start(t, testConfig(), pyro.WithHost("127.0.0.1"))
	n := &lostNS{}
	return n, pyrotest.Register(t, d, ObjectID, n)
}

// listConfig is a config whose NS_HOST lists hosts; broadcast finds
// nothing (no responder on NS_BCPORT, sent to 127.0.0.1 only).
func listConfig(t *testing.T, hosts ...string) *pyro.Config {
	cfg := testConfig()
	cfg.NSHost = strings.Join(hosts, ",")
	cfg.NSBcPort = testkit.FreeUDPPort(t)
	cfg.BroadcastAddrs = []string{"127.0.0.1"}
	return cfg
}

// Locate tries the name servers of a list in order: the first that
// answers wins, whether the list comes from NS_HOST or WithNSHost.
func TestLocateListOrder(t *testing.T) {
	ctx := ctxT(t)
	s1, s2 := startNS(t, nil), startNS(t, nil)
	a1, a2 := nsLoc(s1.URI()), nsLoc(s2.URI())
	for _, c := range []struct {
		hosts []string
		want  pyro.URI
	}{
		{[]string{a1, a2}, s1.URI()},
		{[]string{a2, a1}, s2.URI()},
		{[]string{deadAddr(t), a2, a1}, s2.URI()},
	} {
		p, err := Locate(ctx, WithConfig(listConfig(t, c.hosts...)), WithoutBroadcast())
		if err != nil || !p.URI().Equal(c.want) {
			t.Errorf("NS_HOST %v: %v %v, want %v", c.hosts, p, err, c.want)
		}
		if p != nil {
			p.Close()
		}
		p, err = Locate(ctx, WithConfig(testConfig()), WithNSHost(strings.Join(c.hosts, ",")))
		if err != nil || !p.URI().Equal(c.want) {
			t.Errorf("WithNSHost %v: %v %v, want %v", c.hosts, p, err, c.want)
		}
		if p != nil {
			p.Close()
		}
	}
	// an item without a port takes WithNSPort's, else NS_PORT
	p, err := Locate(ctx, WithConfig(testConfig()), WithNSHost(deadAddr(t)+",127.0.0.1"), WithNSPort(s2.URI().Port))
	if err != nil || !p.URI().Equal(s2.URI()) {
		t.Errorf("default port: %v %v", p, err)
	}
	if p != nil {
		p.Close()
	}
}

// A first name server that accepts connections but never answers costs
// Locate the head start, not the whole attempt: the second one wins and
// the hung attempt is cancelled (its connection closed) before Locate
// returns. The time it took is logged, not asserted.
func TestLocateListFirstHung(t *testing.T) {
	ctx := ctxT(t)
	h := startHungNS(t)
	s := startNS(t, nil)
	cfg := listConfig(t, h.addr, nsLoc(s.URI()))
	cfg.CommTimeout = 0 // the attempt bound is then verifyTimeout; the hung one must not wait for it
	start := time.Now()
	p, err := Locate(ctx, WithConfig(cfg), WithoutBroadcast())
	took := time.Since(start)
	if err != nil || !p.URI().Equal(s.URI()) {
		t.Fatalf("Locate: %v %v", p, err)
	}
	p.Close()
	t.Logf("Locate with a hung first name server took %v (head start %v)", took, nsStagger)
	select {
	case <-h.closed:
		t.Logf("closed after %v", time.Since(start))
	case <-time.After(testbound.Scale(10 * time.Second)):
		t.Fatal("the connection to the hung name server stayed open after Locate returned")
	}
	// all hung or dead: each attempt is bounded, and the error names them
	old := verifyTimeout
	verifyTimeout = 200 * time.Millisecond
	defer func() { verifyTimeout = old }()
	dead := deadAddr(t)
	cfg = listConfig(t, h.addr, dead)
	cfg.CommTimeout = 0
	_, err = Locate(ctx, WithConfig(cfg), WithoutBroadcast())
	if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(err.Error(), "Failed to locate the nameserver") {
		t.Fatalf("all lost: %v", err)
	}
	if text := chainText(err); !strings.Contains(text, h.addr) || !strings.Contains(text, dead) {
		t.Errorf("the error does not name both name servers: %s", text)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the hung one's timeout is not in the error: %s", chainText(err))
	}
}

// A list whose name servers are all gone falls back to broadcast
// discovery, as a single NS_HOST does.
func TestLocateListThenBroadcast(t *testing.T) {
	s := startNS(t, nil, withLoopbackBroadcast(), WithBroadcastHost("127.0.0.1"), WithBroadcastPort(0))
	cfg := listConfig(t, deadAddr(t), deadAddr(t))
	cfg.NSBcPort = s.Responder().Addr().Port
	p, err := Locate(ctxT(t), WithConfig(cfg))
	if err != nil || !p.URI().Equal(s.URI()) {
		t.Fatalf("Locate: %v %v", p, err)
	}
	p.Close()
	// without broadcast: the list's error
	_, err = Locate(ctxT(t), WithConfig(cfg), WithoutBroadcast())
	if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(errors.Unwrap(err).Error(), "none of the 2 name servers") {
		t.Errorf("without broadcast: %v", err)
	}
}

// An NS_HOST that is no valid list is an error that says so, before
// anything is tried.
func TestLocateListInvalid(t *testing.T) {
	for _, bad := range []string{"a,,b", strings.Repeat("127.0.0.1,", 40) + "x"} {
		cfg := listConfig(t)
		cfg.NSHost = bad
		if _, err := Locate(ctxT(t), WithConfig(cfg)); !errors.Is(err, ErrNSHosts) || !errors.Is(err, pyro.ErrNaming) {
			t.Errorf("NS_HOST %.30q: %v", bad, err)
		}
		if _, err := Locate(ctxT(t), WithConfig(testConfig()), WithNSHost(bad)); !errors.Is(err, ErrNSHosts) {
			t.Errorf("WithNSHost %.30q: %v", bad, err)
		}
	}
}

// A PYRONAME proxy keeps working when the name server that resolved it
// dies (its URI is the object's, which lives on); a new resolution finds
// the next name server of NS_HOST.
func TestResolverFailoverMidRun(t *testing.T) {
	ctx := ctxT(t)
	s1, s2 := startNS(t, nil), startNS(t, nil)
	_, target := serveThing(t, "svc")
	for _, s := range []*Server{s1, s2} { // two name servers with the same registrations
		if err := nsClient(t, s.URI().String()).Register(ctx, "svc", target, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	cfg := listConfig(t, nsLoc(s1.URI()), nsLoc(s2.URI()))
	r := NewResolver(WithResolveTTL(0), WithoutBroadcast())
	bound, err := pyro.NewProxy("PYRONAME:svc", cfg, pyro.WithResolver(r))
	if err != nil {
		t.Fatal(err)
	}
	defer bound.Close()
	if got, err := pyro.CallT[string](ctx, bound, "whoami"); err != nil || got != "svc" {
		t.Fatalf("before: %q %v", got, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	s1.Shutdown(sctx)
	cancel()
	if got, err := pyro.CallT[string](ctx, bound, "whoami"); err != nil || got != "svc" {
		t.Errorf("bound proxy after its name server died: %q %v", got, err)
	}
	for i := 0; i < 3; i++ {
		p, err := pyro.NewProxy("PYRONAME:svc", cfg, pyro.WithResolver(r))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := pyro.CallT[string](ctx, p, "whoami"); err != nil || got != "svc" {
			t.Errorf("new proxy %d after the first name server died: %q %v", i, got, err)
		}
		p.Close()
	}
	// the location in a PYRONAME URI is one name server, as in Pyro,
	// never a list (a URI from elsewhere does not fan out)
	if got, err := r.Resolve(ctx, mustURI(t, "PYRONAME:svc@127.0.0.2,"+nsLoc(s2.URI())), nil); err == nil {
		t.Errorf("PYRONAME with a list as its location resolved to %v", got)
	}
	// the default resolver does the same
	p, _ := pyro.NewProxy("PYRONAME:svc", cfg)
	defer p.Close()
	if got, err := pyro.CallT[string](ctx, p, "whoami"); err != nil || got != "svc" {
		t.Errorf("default resolver: %q %v", got, err)
	}
}

// A name server lost during the lookup (it answered ping, then dropped
// the connection) is replaced once: the resolver locates again, avoiding
// it, and asks the next one. Two lost in a row fail, after exactly one
// retry.
func TestResolverLostDuringLookup(t *testing.T) {
	ctx := ctxT(t)
	lost1, u1 := startLostNS(t)
	lost2, u2 := startLostNS(t)
	s := startNS(t, nil)
	_, target := serveThing(t, "svc")
	if err := nsClient(t, s.URI().String()).Register(ctx, "svc", target, false, nil); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(WithResolveTTL(0), WithoutBroadcast())
	got, err := r.Resolve(ctx, mustURI(t, "PYRONAME:svc"), proxyWith(t, listConfig(t, nsLoc(u1), nsLoc(s.URI()))))
	if err != nil || !got.Equal(target) {
		t.Fatalf("Resolve: %v %v", got, err)
	}
	if n := lost1.calls.Load(); n != 1 {
		t.Errorf("the lost name server was asked %d times, want 1", n)
	}
	// both lost: one retry, then the error
	lost1.calls.Store(0)
	_, err = r.Resolve(ctx, mustURI(t, "PYRONAME:svc"), proxyWith(t, listConfig(t, nsLoc(u1), nsLoc(u2))))
	if !errors.Is(err, pyro.ErrConnectionClosed) {
		t.Errorf("both lost: %v", err)
	}
	if n1, n2 := lost1.calls.Load(), lost2.calls.Load(); n1 != 1 || n2 != 1 {
		t.Errorf("lookups: %d and %d, want 1 and 1", n1, n2)
	}
	// an answer from the name server is no loss: no retry
	lost1.calls.Store(0)
	_, err = r.Resolve(ctx, mustURI(t, "PYRONAME:unknown"), proxyWith(t, listConfig(t, nsLoc(s.URI()), nsLoc(u1))))
	if !errors.Is(err, pyro.ErrNaming) || lost1.calls.Load() != 0 {
		t.Errorf("unknown name: %v (lost one asked %d times)", err, lost1.calls.Load())
	}
}

// proxyWith is a proxy with cfg, only to give a resolver its config.
func proxyWith(t *testing.T, cfg *pyro.Config) *pyro.Proxy {
	p, err := pyro.NewProxy("PYRO:x@127.0.0.1:1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func mustURI(t *testing.T, text string) pyro.URI {
	u, err := pyro.ParseURI(text)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// chainText is the text of err and of every error it wraps.
func chainText(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	switch x := err.(type) {
	case interface{ Unwrap() error }:
		text += " / " + chainText(x.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			text += " / " + chainText(e)
		}
	}
	return text
}

// A name server found by discovery that is gone when the resolver looks
// the name up (its answer came from a stale or lying responder: the
// connection is refused) is skipped: the resolver discovers again,
// ignores that answer, and uses the next name server that answers.
func TestResolverSkipsDeadDiscoveredNS(t *testing.T) {
	ctx := ctxT(t)
	s := startNS(t, nil, withLoopbackBroadcast(), WithBroadcastHost("127.0.0.1"), WithBroadcastPort(0))
	bcPort := s.Responder().Addr().Port
	_, target := serveThing(t, "svc")
	if err := nsClient(t, s.URI().String()).Register(ctx, "svc", target, false, nil); err != nil {
		t.Fatal(err)
	}
	dead := mustURI(t, "PYRO:"+ObjectID+"@"+deadAddr(t))
	spoofer(t, bcPort, dead)                                        // answers first, from 127.0.0.2
	slowRelay(t, bcPort, s.Responder().Addr(), 50*time.Millisecond) // the live one answers later, from 127.0.0.3
	cfg := testConfig()
	cfg.BroadcastAddrs = []string{"127.0.0.2", "127.0.0.3"}
	cfg.NSHost, cfg.NSPort, cfg.NSBcPort = "192.0.2.1", 1, bcPort
	cfg.CommTimeout = 2 * time.Second // the last step of Locate (NS_HOST) is never reached
	r := NewResolver(WithResolveTTL(0))
	got, err := r.Resolve(ctx, mustURI(t, "PYRONAME:svc"), proxyWith(t, cfg))
	if err != nil || !got.Equal(target) {
		t.Fatalf("Resolve: %v %v", got, err)
	}
}

// IsLost: a broken connection or a timeout is a lost name server; an
// answer (an exception raised by the name server, even a Pyro one) or a
// refusal by protocol or security is not.
func TestIsLost(t *testing.T) {
	remote := func(class string) error {
		return &pyro.RemoteError{Exception: &py.Exception{Class: class, Args: py.Tuple{"x"}}}
	}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{pyro.NewError(pyro.ErrCommunication, "cannot connect"), true},
		{pyro.NewError(pyro.ErrConnectionClosed, "receiving"), true},
		{pyro.NewError(pyro.ErrTimeout, "timed out"), true},
		{fmt.Errorf("wrapped: %w", pyro.NewError(pyro.ErrConnectionClosed, "x")), true},
		{pyro.NewError(pyro.ErrProtocol, "bad message"), false},
		{pyro.NewError(pyro.ErrConnectionDenied, "denied"), false},
		{pyro.NewError(pyro.ErrSecurity, "hmac"), false},
		{pyro.NewError(pyro.ErrNaming, "unknown name"), false},
		{remote("Pyro4.errors.CommunicationError"), false},
		{remote("Pyro4.errors.NamingError"), false},
		{context.DeadlineExceeded, false},
		{errors.New("other"), false},
		{nil, false},
	} {
		if got := IsLost(c.err); got != c.want {
			t.Errorf("IsLost(%v) = %v", c.err, got)
		}
	}
}

// What Python clients make of an NS_HOST list (documented in the
// README): Pyro4 and Pyro5 read it as one host, which they bracket as an
// IPv6 address, and fail once broadcast discovery found nothing.
func TestPythonNSHostList(t *testing.T) {
	for _, c := range []struct {
		name  string
		pyro5 bool
		code  string
	}{
		{"pyro4", false, "import Pyro4\ntry:\n    Pyro4.locateNS(broadcast=False)\nexcept Exception as e:\n    print(type(e).__name__, e)"},
		{"pyro5", true, "import Pyro5.api\ntry:\n    Pyro5.api.locate_ns(broadcast=False)\nexcept Exception as e:\n    print(type(e).__name__, e)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := pytest.Cmd{Args: []string{"-c", c.code}, Pyro5: c.pyro5, Env: []string{"PYRO_NS_HOST=127.0.0.1,127.0.0.2:9095", "PYRO_COMMTIMEOUT=3"}}.Run(t)
			if got := strings.TrimSpace(res.Stdout); !strings.HasPrefix(got, "PyroError invalid ipv6 address") {
				t.Errorf("%s with an NS_HOST list: %q (stderr %s)", c.name, got, res.Stderr)
			}
		})
	}
}
