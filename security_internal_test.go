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
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
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
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/trojan"
	"github.com/pyrogo/pyro/py"
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

// ---------------------------------------------------------------------------
// item 3: unix sockets and peer credentials

func TestUnixSocketMode(t *testing.T) {
	dir := t.TempDir()
	mode := func(opts ...DaemonOption) os.FileMode {
		t.Helper()
		path := filepath.Join(dir, fmt.Sprintf("s%d", time.Now().UnixNano()))
		d, err := NewDaemon(nil, append([]DaemonOption{WithUnixSocket(path)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(); m != 0o600 {
		t.Errorf("default mode %#o, want 0600", m)
	}
	if m := mode(WithUnixSocketMode(0o660)); m != 0o660 {
		t.Errorf("mode %#o, want 0660", m)
	}
}

func TestPeerCredentials(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SO_PEERCRED is Linux only")
	}
	uid := os.Getuid()
	var got PeerCred
	var mu sync.Mutex
	record := WithHandshake(func(_ context.Context, c *ConnInfo, _ any) (any, error) {
		pc, err := c.PeerCredentials()
		mu.Lock()
		got = pc
		mu.Unlock()
		return "hello", err
	})
	// only another uid listed: we are refused
	_, u, _ := startDaemon(t, nil, WithUnixSocket(filepath.Join(t.TempDir(), "a")), WithConnValidators(AllowPeerCredentials([]int{uid + 4242}, nil)))
	_, err := newProxy(t, u, nil).Call(context.Background(), "echo", 1)
	wantDenied(t, err, fmt.Sprintf("security reasons: uid %d not allowed", uid))
	// our uid (or our gid) listed: accepted, and the handshake sees who we are
	for _, v := range []ConnValidator{AllowPeerCredentials([]int{uid + 1, uid}, nil), AllowPeerCredentials(nil, []int{os.Getgid()})} {
		_, u2, _ := startDaemon(t, nil, WithUnixSocket(filepath.Join(t.TempDir(), "b")), WithConnValidators(v), record)
		if _, err := newProxy(t, u2, nil).Call(context.Background(), "echo", 1); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if got.UID != uid || got.PID != os.Getpid() || got.GID != os.Getgid() {
			t.Errorf("peer credentials %+v", got)
		}
		mu.Unlock()
	}
	// TCP connections have no peer credentials: refused
	_, u3, _ := startDaemon(t, nil, WithConnValidators(AllowPeerCredentials([]int{uid}, nil)))
	_, err = newProxy(t, u3, nil).Call(context.Background(), "echo", 1)
	wantDenied(t, err, "peer credentials unavailable")
}

// ---------------------------------------------------------------------------
// item 2: network binding

// servingDaemon starts d with a Thing and waits until its accept loop
// runs (the exposure warning is logged before that).
func servingDaemon(t *testing.T, d *Daemon) {
	t.Helper()
	if _, err := d.Register(&Thing{}, "thing"); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	t.Cleanup(func() { d.Close(); <-served })
	network, addr := "tcp", ""
	switch a := d.Addr().(type) {
	case *net.TCPAddr:
		addr = net.JoinHostPort("127.0.0.1", fmt.Sprint(a.Port))
	case *net.UnixAddr:
		network, addr = "unix", a.Name
	}
	// a dial alone completes in the kernel's backlog: wait for an answer
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	wire.WriteMessage(nc, rawpyro.ConnectMessage("thing"), nil)
	if _, err := wire.ReadMessage(bufio.NewReader(nc), nil); err != nil && !errors.Is(err, wire.ErrSecurity) {
		t.Fatalf("daemon not serving: %v", err)
	}
}

func TestExposureWarning(t *testing.T) {
	const warning = "anyone who can connect can call its objects"
	cases := []struct {
		name string
		opts func(t *testing.T) []DaemonOption
		warn string
	}{
		{"all interfaces", func(*testing.T) []DaemonOption { return []DaemonOption{WithHost("0.0.0.0")} }, "bound to the network address "},
		{"all interfaces with HMAC", func(*testing.T) []DaemonOption {
			return []DaemonOption{WithHost("0.0.0.0"), WithHMACKey([]byte("k"))}
		}, ""},
		{"all interfaces with passphrases", func(*testing.T) []DaemonOption {
			return []DaemonOption{WithHost("0.0.0.0"), WithAllowedIdentifications([]string{"p"})}
		}, ""},
		{"loopback", func(*testing.T) []DaemonOption { return nil }, ""},
		{"unix socket", func(t *testing.T) []DaemonOption {
			return []DaemonOption{WithUnixSocket(filepath.Join(t.TempDir(), "s"))}
		}, ""},
		{"shared unix socket", func(t *testing.T) []DaemonOption {
			return []DaemonOption{WithUnixSocket(filepath.Join(t.TempDir(), "s")), WithUnixSocketMode(0o666)}
		}, "unix socket other users may connect to (mode 0666)"},
		{"abstract socket", func(*testing.T) []DaemonOption {
			return []DaemonOption{WithUnixSocket(fmt.Sprintf("@pyrogo-warn-%d", time.Now().UnixNano()))}
		}, "abstract unix socket"},
		{"abstract socket with peer credentials", func(*testing.T) []DaemonOption {
			return []DaemonOption{WithUnixSocket(fmt.Sprintf("@pyrogo-warn-%d", time.Now().UnixNano())),
				WithConnValidators(AllowPeerCredentials([]int{os.Getuid()}, nil))}
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &testkit.LogRecorder{}
			d, err := NewDaemon(nil, append(tc.opts(t), WithLogger(rec.Logger()))...)
			if err != nil {
				t.Fatal(err)
			}
			servingDaemon(t, d)
			logs := rec.Find(warning)
			switch {
			case tc.warn == "" && len(logs) > 0:
				t.Errorf("unexpected warning %v", logs)
			case tc.warn != "" && (len(logs) != 1 || !strings.Contains(logs[0]["msg"], tc.warn) || logs[0]["level"] != "WARN"):
				t.Errorf("warning %v, want one containing %q", logs, tc.warn)
			}
		})
	}
}

// TestHostInCodeWinsOverEnv: a host given in code beats PYRO_HOST, even
// with the environment-reading config.
func TestHostInCodeWinsOverEnv(t *testing.T) {
	t.Setenv("PYRO_HOST", "0.0.0.0")
	cfg, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDaemon(cfg, WithHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if ip := d.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Errorf("bound to %v", ip)
	}
	cfg.Host = "localhost" // set in code after loading the environment
	d2, err := NewDaemon(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if ip := d2.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Errorf("bound to %v", ip)
	}
}

// ---------------------------------------------------------------------------
// item 7: replay-protected HMAC

// counter counts its calls.
type counter struct{ n atomic.Int64 }

func (c *counter) Incr() int64 { return c.n.Add(1) }

// TestReplayProtectedHMAC: with Pyro4's HMAC a captured CONNECT+INVOKE
// replayed on a new connection runs the call again; with the
// replay-protected mode it is refused and has no effect.
func TestReplayProtectedHMAC(t *testing.T) {
	key := []byte("shared key")
	for _, bound := range []bool{false, true} {
		t.Run(fmt.Sprint("bound=", bound), func(t *testing.T) {
			dopt, popt := WithHMACKey(key), WithHMACKey(key)
			if bound {
				dopt, popt = WithReplayProtectedHMAC(key), WithReplayProtectedHMAC(key)
			}
			d, err := NewDaemon(nil, dopt)
			if err != nil {
				t.Fatal(err)
			}
			cnt := &counter{}
			u, _ := d.Register(cnt, "counter")
			go d.Serve(context.Background())
			defer d.Close()
			tp := testkit.TCPRelay(t, u.Location())
			tu := u
			tu.Host, tu.Port = tp.Host(), tp.Port()
			p := newProxy(t, tu, nil, popt)
			if v, err := p.Call(context.Background(), "incr"); err != nil || v != int64(1) {
				t.Fatalf("call: %v %v", v, err)
			}
			p.Close()
			msgs := rawpyro.Split(t, tp.Sent())
			if len(msgs) != 2 {
				t.Fatalf("captured %d messages", len(msgs))
			}
			c := dialRaw(t, u)
			c.NC.Write(msgs[0])
			m, err := wire.ReadMessage(c.BR, &wire.Options{HMACKey: key})
			if err != nil || m.Type != wire.MsgConnectOK {
				t.Fatalf("replayed CONNECT: %v %v", m, err) // valid in both modes
			}
			c.NC.Write(msgs[1])
			_, err = wire.ReadMessage(c.BR, &wire.Options{HMACKey: key})
			if !bound {
				if err != nil || cnt.n.Load() != 2 {
					t.Errorf("Pyro4 HMAC: replayed call not executed (%v, count %d): the test does not show the attack", err, cnt.n.Load())
				}
				return
			}
			if err == nil || !c.Closed() || cnt.n.Load() != 1 {
				t.Errorf("replayed INVOKE: err %v, count %d", err, cnt.n.Load())
			}
		})
	}
}

// TestReplayProtectedHMACModes: the mode works end to end (calls, oneway,
// streams, batches, autoproxies over many connections), refuses clients
// without it, and a proxy in the mode refuses daemons without it.
func TestReplayProtectedHMACModes(t *testing.T) {
	key := []byte("k")
	ctx := context.Background()
	_, u, thing := startDaemon(t, nil, WithReplayProtectedHMAC(key))
	p := newProxy(t, u, nil, WithReplayProtectedHMAC(key))
	callSuite(t, p, thing, "serpent")

	_, err := newProxy(t, u, nil, WithHMACKey(key)).Call(ctx, "echo", 1)
	wantDenied(t, err, "requires replay-protected HMAC")

	_, u2, _ := startDaemon(t, nil, WithHMACKey(key))
	_, err = newProxy(t, u2, nil, WithReplayProtectedHMAC(key)).Call(ctx, "echo", 1)
	if !errors.Is(err, ErrSecurity) || !strings.Contains(err.Error(), "does not use replay-protected HMAC") {
		t.Errorf("downgrade: %v", err)
	}
	if _, err := NewDaemon(nil, WithReplayProtectedHMAC(nil)); err == nil {
		t.Error("mode without a key accepted")
	}
}

// TestHMACPython: the default (Pyro4) HMAC interoperates with Python; a
// daemon in the replay-protected mode refuses a Python client with the
// reason.
func TestHMACPython(t *testing.T) {
	pytest.Python(t)
	key := "py key"
	_, u, _ := startDaemon(t, nil, WithHMACKey([]byte(key)))
	_, ub, _ := startDaemon(t, nil, WithReplayProtectedHMAC([]byte(key)))
	for _, tc := range []struct {
		u    URI
		want string
	}{
		{u, "echo: 'hi'"},
		{ub, "rejected: security reasons: this daemon requires replay-protected HMAC"},
	} {
		r := pytest.Cmd{Args: []string{"testdata/auth/hmac_client.py", tc.u.String(), key}}.Run(t)
		if !strings.Contains(r.Stdout, tc.want) {
			t.Errorf("%s: exit %d, want %q\n%s%s", tc.u, r.ExitCode, tc.want, r.Stdout, r.Stderr)
		}
	}
}

// ---------------------------------------------------------------------------
// pre-authentication limits and slow clients

// TestHandshakeSizeLimit: a CONNECT larger than MaxHandshakeSize (or
// expanding beyond it) is refused unread, even without MAX_MESSAGE_SIZE.
func TestHandshakeSizeLimit(t *testing.T) {
	rec := &testkit.LogRecorder{}
	_, u, _ := startDaemon(t, nil, WithLogger(rec.Logger()))
	big := strings.Repeat("x", MaxHandshakeSize)
	data, _ := codec.Default(codec.IDSerpent).Marshal(py.DictOf("handshake", big, "object", "thing"))
	c := dialRaw(t, u)
	c.Send(&wire.Message{Type: wire.MsgConnect, SerializerID: 1, Data: data})
	if !c.Closed() {
		t.Error("oversized CONNECT answered")
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	c2 := dialRaw(t, u)
	hd := wire.Header{Type: wire.MsgConnect, Flags: wire.FlagCompressed, SerializerID: 1, PayloadLen: z.Len()}
	c2.NC.Write(append(hd.AppendHeader(nil), z.Bytes()...))
	if !c2.Closed() {
		t.Error("CONNECT expanding beyond the limit answered")
	}
	if n := len(rec.Find("oversized CONNECT")); n != 2 {
		t.Errorf("%d oversized CONNECTs logged", n)
	}
	// a normal CONNECT still fits
	dialRaw(t, u).Connect("thing")
}

// TestSlowloris: clients that send part of a CONNECT and then stall, or
// drip it byte by byte, are dropped at the handshake deadline and leave
// no goroutine behind; other clients are served meanwhile.
func TestSlowloris(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.CommTimeout = 500 * time.Millisecond
	_, u, _ := startDaemon(t, cfg)
	good := newProxy(t, u, nil)
	if _, err := good.Call(context.Background(), "echo", 1); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	connect, _ := wire.AppendMessage(nil, rawpyro.ConnectMessage("thing"), nil)
	var wg sync.WaitGroup
	var lingered atomic.Int64
	start := time.Now()
	for i := 0; i < 30; i++ {
		c := dialRaw(t, u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0: // part of the header, then silence
				c.NC.Write(connect[:10])
			case 1: // the header, then silence
				c.NC.Write(connect[:wire.HeaderSize])
			case 2: // a byte every 100 ms
				go func() {
					for j := range connect {
						if _, err := c.NC.Write(connect[j : j+1]); err != nil {
							return
						}
						time.Sleep(100 * time.Millisecond)
					}
				}()
			}
			c.NC.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.BR.ReadByte(); err == nil || time.Since(start) > testbound.Scale(2*time.Second) {
				lingered.Add(1)
			}
			c.NC.Close()
		}()
	}
	for i := 0; i < 5; i++ {
		if _, err := good.Call(context.Background(), "echo", i); err != nil {
			t.Errorf("during the attack: %v", err)
		}
	}
	wg.Wait()
	if lingered.Load() > 0 {
		t.Errorf("%d slow clients not dropped at the handshake deadline", lingered.Load())
	}
	goroutinesSettle(t, base, 2)
}

// ---------------------------------------------------------------------------
// item 1: the pickle trojan

// trojanPayloads returns the exploit pickles (made by Python's pickle
// module too, when /usr/bin/python3 exists) and the python path ("" when
// none).
func trojanPayloads(t *testing.T, marker string) ([]trojan.Payload, string) {
	t.Helper()
	ps := trojan.Handmade(marker)
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Logf("no %s: only the hand-made pickles", python)
		return ps, ""
	}
	more, err := trojan.FromPython(python, marker)
	if err != nil {
		t.Fatal(err)
	}
	return append(ps, more...), python
}

// TestPickleTrojan: the os.system pickle exploit, as pickle (id 4) and
// disguised under the ids of serpent, json, marshal and msgpack, in a
// CONNECT and in an INVOKE, plain and compressed, is refused by a daemon
// accepting every serializer pyrogo has, and has no effect. The payloads
// are shown to work on Python afterwards.
func TestPickleTrojan(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	payloads, python := trojanPayloads(t, marker)
	cfg := BuiltinConfig()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	_, u, _ := startDaemon(t, cfg)
	for _, p := range payloads {
		results, err := trojan.Send("tcp", u.Location(), "thing", p.Data)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		for _, r := range results {
			if r.Accepted {
				t.Errorf("%s, %s: accepted: %s", p.Name, r.How, r.Answer)
			}
			if strings.HasPrefix(r.How, "CONNECT id 4") && r.Answer != "CONNECTFAIL: 'message used serializer that is not accepted: 4'" {
				t.Errorf("%s, %s: %s", p.Name, r.How, r.Answer)
			}
		}
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the exploit ran: %s exists (%v)", marker, err)
	}
	// pickle cannot even be configured
	cfg.SerializersAccepted = []string{"pickle"}
	if _, err := NewDaemon(cfg); err == nil {
		t.Error("a daemon accepting pickle was created")
	}
	if python == "" {
		return
	}
	if err := trojan.Fire(python, payloads[0].Data); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the payload does not work on Python, so the test proves nothing: %v", err)
	}
}
