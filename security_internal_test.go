package pyro

// The security suite of issue 5, items 2, 3, 7, 8 and 9 (TLS has its own
// tests): connection validators and MAXCONNECTIONS, host lists, per-host
// limits, peer credentials and the unix socket mode, the exposure
// warning, the replay-protected HMAC mode, the handshake size limit and
// slow clients. Each countermeasure has a test that fails when it is
// removed. Items 1 and 6 with the name server are in
// naming/security_internal_test.go; passphrase authentication (item 9) and its
// hostile-client table are in auth_internal_test.go and
// auth_hostile_internal_test.go.

import (
	"bufio"
	"context"
	"errors"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/wire"
)

// ---------------------------------------------------------------------------
// helpers

// dialFrom connects to addr from the loopback address local (127.0.0.x),
// so tests can play several client hosts.
func dialFrom(t *testing.T, addr, local string) *rawClient {
	t.Helper()
	return &rawClient{rawpyro.DialFrom(t, addr, local)}
}

// wantDenied checks that err is a ConnectionDeniedError whose reason
// contains want.
func wantDenied(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrConnectionDenied) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want ConnectionDeniedError with %q", err, want)
	}
}

// validatorFn is a ConnValidator with a release.
type validatorFn func(ctx context.Context, c *ConnInfo) (func(), error)

func (f validatorFn) ValidateConn(ctx context.Context, c *ConnInfo) (func(), error) { return f(ctx, c) }

// goroutinesSettle waits until the goroutine count is back to at most
// base+slack.
func goroutinesSettle(t *testing.T, base, slack int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+slack {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, started with %d\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// item 8: connection validators

func TestConnValidatorChain(t *testing.T) {
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	got := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(order, ",") }
	mk := func(name string, refuse bool) ConnValidator {
		return validatorFn(func(_ context.Context, c *ConnInfo) (func(), error) {
			note(name)
			if refuse {
				return nil, errors.New("no " + name)
			}
			return func() { note("-" + name) }, nil
		})
	}
	// a refusal releases the validators that accepted, in reverse order
	_, err := ChainValidators(mk("a", false), mk("b", false), mk("c", true), mk("d", false)).ValidateConn(context.Background(), &ConnInfo{})
	if err == nil || err.Error() != "no c" || got() != "a,b,c,-b,-a" {
		t.Errorf("chain refusal: %v, order %s", err, got())
	}

	// in a daemon: every connection goes through the chain before it is
	// served, and the releases run when it ends
	order = nil
	rec := &testkit.LogRecorder{}
	_, u, _ := startDaemon(t, nil, WithLogger(rec.Logger()), WithConnValidators(ChainValidators(mk("a", false), mk("b", false)), mk("c", false)))
	p := newProxy(t, u, nil)
	if _, err := p.Call(context.Background(), "echo", 1); err != nil {
		t.Fatal(err)
	}
	if got() != "a,b,c" {
		t.Errorf("order %s", got())
	}
	p.Close()
	testkit.Eventually(t, "validators run and released in order", func() bool { return got() == "a,b,c,-c,-b,-a" })

	// a refusing validator: ConnectionDeniedError with the reason, logged
	// once with the peer address, nothing else decoded or called
	called := false
	rec2 := &testkit.LogRecorder{}
	_, u2, _ := startDaemon(t, nil, WithLogger(rec2.Logger()),
		WithHandshake(func(context.Context, *ConnInfo, any) (any, error) { called = true; return "hello", nil }),
		WithConnValidators(ConnValidatorFunc(func(_ context.Context, c *ConnInfo) error {
			return errors.New("closed for maintenance")
		})))
	p2 := newProxy(t, u2, nil)
	_, err = p2.Call(context.Background(), "echo", 1)
	wantDenied(t, err, "rejected: closed for maintenance")
	logs := rec2.Find("connection refused")
	if len(logs) != 1 || logs[0]["reason"] != "closed for maintenance" || !strings.HasPrefix(logs[0]["peer"], "127.0.0.1:") {
		t.Errorf("refusal log %v", logs)
	}
	if called {
		t.Error("HandshakeFunc ran for a refused connection")
	}
}

// TestMaxConnectionsExact: exactly MAXCONNECTIONS clients fit (Pyro3 fitted
// one less), the next is refused with the reason, established clients
// keep working, and a freed slot is usable again.
func TestMaxConnectionsExact(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.MaxConnections = 3
	d, u, _ := startDaemon(t, cfg)
	ctx := context.Background()
	var ps []*Proxy
	for i := 0; i < 3; i++ {
		p := newProxy(t, u, nil)
		if _, err := p.Call(ctx, "echo", i); err != nil {
			t.Fatalf("client %d of 3: %v", i+1, err)
		}
		ps = append(ps, p)
	}
	if n := d.Connections(); n != 3 {
		t.Errorf("Connections() = %d", n)
	}
	extra := newProxy(t, u, nil)
	_, err := extra.Call(ctx, "echo", 1)
	wantDenied(t, err, "server too busy: MAXCONNECTIONS (3) reached")
	if n := d.Connections(); n != 3 {
		t.Errorf("Connections() after refusal = %d", n)
	}
	for _, p := range ps {
		if _, err := p.Call(ctx, "echo", "still"); err != nil {
			t.Error(err)
		}
	}
	ps[0].Close()
	testkit.Eventually(t, "two connections open", func() bool { return d.Connections() == 2 })
	if _, err := extra.Call(ctx, "echo", 1); err != nil {
		t.Errorf("after a slot was freed: %v", err)
	}
}

// TestMaxConnectionsFlood: 200 connections beyond the limit, half of them
// silent, half asking to connect. They are refused with the reason; the
// established clients are served throughout within a bound; once the
// flood ends new clients get in at once, and nothing is left behind.
func TestMaxConnectionsFlood(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.MaxConnections = 8
	cfg.CommTimeout = 3 * time.Second // silent connections hold their slots while the flood lasts
	rec := &testkit.LogRecorder{}
	d, u, _ := startDaemon(t, cfg, WithLogger(rec.Logger()))
	ctx := context.Background()
	legit := make([]*Proxy, 4)
	for i := range legit {
		legit[i] = newProxy(t, u, nil)
		if _, err := legit[i].Call(ctx, "echo", i); err != nil {
			t.Fatal(err)
		}
	}
	base := runtime.NumGoroutine()

	const flood = 200
	var accepted, refused, dropped atomic.Int64
	var wg sync.WaitGroup
	conns := make(chan net.Conn, flood)
	for i := 0; i < flood; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.DialTimeout("tcp", u.Location(), 5*time.Second)
			if err != nil {
				dropped.Add(1)
				return
			}
			conns <- nc
			if i%2 == 1 {
				return // silent: holds its slot or is dropped at the deadline
			}
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			wire.WriteMessage(nc, rawpyro.ConnectMessage("thing"), nil)
			m, err := wire.ReadMessage(bufio.NewReader(nc), nil)
			switch {
			case err != nil:
				dropped.Add(1)
			case m.Type == wire.MsgConnectOK:
				accepted.Add(1)
			case m.Type == wire.MsgConnectFail:
				if v, _ := codec.Default(int(m.SerializerID)).Unmarshal(m.Data); v == "server too busy: MAXCONNECTIONS (8) reached" {
					refused.Add(1)
				}
			}
		}()
	}
	// the established clients are served during the flood
	var worst time.Duration
	for round := 0; round < 10; round++ {
		for _, p := range legit {
			start := time.Now()
			if _, err := p.Call(ctx, "echo", round); err != nil {
				t.Fatalf("established client during the flood: %v", err)
			}
			worst = max(worst, time.Since(start))
		}
	}
	wg.Wait()
	close(conns)
	if worst > testbound.Scale(time.Second) {
		t.Errorf("an established client waited %v during the flood", worst)
	}
	if accepted.Load() > 4 || refused.Load() < flood/2-4 {
		t.Errorf("flood: %d accepted (4 slots were free), %d refused with the reason, %d dropped", accepted.Load(), refused.Load(), dropped.Load())
	}
	if n := len(rec.Find("connection refused")); n < int(refused.Load()) {
		t.Errorf("%d refusals logged for %d refused", n, refused.Load())
	}
	for nc := range conns {
		nc.Close()
	}
	// once the flood is gone a new client is served within a bound
	testkit.Eventually(t, "four connections open", func() bool { return d.Connections() == 4 })
	start := time.Now()
	late := newProxy(t, u, nil)
	if _, err := late.Call(ctx, "echo", 1); err != nil || time.Since(start) > testbound.Scale(time.Second) {
		t.Errorf("new client after the flood: %v after %v", err, time.Since(start))
	}
	late.Close()
	goroutinesSettle(t, base, 4)
}

func TestMaxConnectionsPerHost(t *testing.T) {
	_, u, _ := startDaemon(t, nil, WithConnValidators(MaxConnectionsPerHost(2)))
	a1, a2 := dialFrom(t, u.Location(), "127.0.0.1"), dialFrom(t, u.Location(), "127.0.0.1")
	a1.Connect("thing")
	a2.Connect("thing")
	a3 := dialFrom(t, u.Location(), "127.0.0.1")
	if r := a3.ConnectWith("hello", "thing"); r == nil || rawpyro.ConnectFailReason(t, r) != "server too busy: too many connections from your host (limit 2)" {
		t.Errorf("third connection from one host: %v", r)
	}
	// another host is not affected
	b := dialFrom(t, u.Location(), "127.0.0.2")
	b.Connect("thing")
	// a host's slot frees up when its connection ends
	a1.NC.Close()
	time.Sleep(50 * time.Millisecond)
	testkit.Eventually(t, "connections released", func() bool {
		c := dialFrom(t, u.Location(), "127.0.0.1")
		r := c.ConnectWith("hello", "thing")
		return r != nil && r.Type == wire.MsgConnectOK
	})
}

func TestHostLists(t *testing.T) {
	deny, err := DenyHosts("127.0.0.2", "10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	_, u, _ := startDaemon(t, nil, WithConnValidators(deny))
	if r := dialFrom(t, u.Location(), "127.0.0.2").ConnectWith("hello", "thing"); r == nil || rawpyro.ConnectFailReason(t, r) != ReasonHost {
		t.Errorf("denied host: %v", r)
	}
	dialFrom(t, u.Location(), "127.0.0.3").Connect("thing")

	allow, err := AllowHosts("127.0.0.1", "127.0.1.0/24")
	if err != nil {
		t.Fatal(err)
	}
	_, u2, _ := startDaemon(t, nil, WithConnValidators(allow))
	dialFrom(t, u2.Location(), "127.0.0.1").Connect("thing")
	dialFrom(t, u2.Location(), "127.0.1.7").Connect("thing")
	if r := dialFrom(t, u2.Location(), "127.0.0.3").ConnectWith("hello", "thing"); r == nil || rawpyro.ConnectFailReason(t, r) != ReasonHost {
		t.Errorf("host not on the allow list: %v", r)
	}
	// a Go client sees a ConnectionDeniedError
	allowNone, _ := AllowHosts("192.0.2.1")
	_, u3, _ := startDaemon(t, nil, WithConnValidators(allowNone))
	_, err = newProxy(t, u3, nil).Call(context.Background(), "echo", 1)
	wantDenied(t, err, "rejected: host blocked")
	// unix peers have no IP: only an explicit "unix" entry admits them
	unixAllow, _ := AllowHosts("localhost")
	_, u4, _ := startDaemon(t, nil, WithUnixSocket(filepath.Join(t.TempDir(), "s")), WithConnValidators(unixAllow))
	_, err = newProxy(t, u4, nil).Call(context.Background(), "echo", 1)
	wantDenied(t, err, "host blocked")

	for _, bad := range []string{"example.com", "10.0.0.0/33", "1.2.3"} {
		if _, err := AllowHosts(bad); err == nil {
			t.Errorf("AllowHosts(%q) accepted", bad)
		}
	}
}
