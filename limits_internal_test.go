package pyro

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

func TestConnCapFor(t *testing.T) {
	for _, tt := range []struct {
		nofile uint64
		want   int
	}{
		{1200, 1050}, {1024, 896}, {256, 224}, {100, 68}, {20, 1}, {20000, 16384}, {1 << 62, 16384},
	} {
		if got := connCapFor(tt.nofile); got != tt.want {
			t.Errorf("connCapFor(%d) = %d, want %d", tt.nofile, got, tt.want)
		}
	}
}

func TestResolveLimits(t *testing.T) {
	l := resolveLimits(BuiltinConfig())
	if l.idle != 0 || l.request != 30*time.Second || l.minRate != 64<<10 || l.streams != 4096 || l.streamsConn != 64 ||
		l.oneway != 1024 || l.onewayConn != 64 || l.connCap <= 0 {
		t.Errorf("defaults: %+v", l)
	}
	cfg := &Config{} // the zero value is safe too
	if l := resolveLimits(cfg); l.request != 30*time.Second || l.streams != 4096 || l.oneway != 1024 {
		t.Errorf("zero config: %+v", l)
	}
	cfg = BuiltinConfig()
	cfg.CommTimeout, cfg.IdleTimeout, cfg.RequestTimeout = 2*time.Second, 5*time.Second, -1
	cfg.IterStreamMax, cfg.OnewayMaxConn, cfg.ConnectionCap = -1, 3, 7
	if l := resolveLimits(cfg); l.idle != 2*time.Second || l.request != 2*time.Second || l.streams != 0 || l.onewayConn != 3 || l.connCap != 7 {
		t.Errorf("set: %+v", l)
	}
	if err := cfg.ApplyEnv([]string{"PYRO_IDLE_TIMEOUT=600", "PYRO_ONEWAY_MAX=-1", "PYRO_CONNECTION_CAP=50"}); err != nil {
		t.Fatal(err)
	}
	if cfg.IdleTimeout != 600*time.Second || cfg.OnewayMax != -1 || cfg.ConnectionCap != 50 || cfg.Source("IDLE_TIMEOUT") != SourceEnv {
		t.Errorf("env: %+v", cfg)
	}
}

// connectRaw dials the daemon and completes the handshake.
func connectRaw(t *testing.T, u URI, obj string) *rawClient {
	t.Helper()
	c := dialRaw(t, u)
	c.Connect(obj)
	return c
}

// TestIdleTimeout: IDLE_TIMEOUT closes a connection that sends nothing
// between requests; by default (Pyro's behaviour) an idle connection
// stays.
func TestIdleTimeout(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.IdleTimeout = 300 * time.Millisecond
	_, u, _ := startLC(t, cfg, context.Background())
	c := connectRaw(t, u, "lc")
	c.Send(rawpyro.Invoke(1, 1, "lc", "echo", 1))
	if _, err := c.Recv(); err != nil {
		t.Fatal(err)
	}
	if !c.Closed() {
		t.Error("idle connection not closed after IDLE_TIMEOUT")
	}
	_, u2, _ := startLC(t, nil, context.Background())
	c2 := connectRaw(t, u2, "lc")
	time.Sleep(500 * time.Millisecond)
	c2.Send(rawpyro.Invoke(1, 1, "lc", "echo", 1))
	if m, err := c2.Recv(); err != nil || m.Flags&wire.FlagException != 0 {
		t.Errorf("default: idle connection not served: %v %v", m, err)
	}
}

// TestSlowRequestDropped: after the handshake, a client that sends its
// request a byte at a time, or announces a large one and sends little, is
// dropped once REQUEST_TIMEOUT passes (the default COMMTIMEOUT 0 does not
// bound it); other clients are served meanwhile.
func TestSlowRequestDropped(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.RequestTimeout = 500 * time.Millisecond
	_, u, _ := startLC(t, cfg, context.Background())
	good := newProxy(t, u, nil)
	raw, _ := wire.AppendMessage(nil, rawpyro.Invoke(1, 1, "lc", "echo", strings.Repeat("x", 100)), nil)
	for name, send := range map[string]func(c *rawClient){
		"a byte at a time": func(c *rawClient) {
			for i := 0; i < len(raw); i++ {
				if _, err := c.NC.Write(raw[i : i+1]); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		},
		"announces 100 MB, sends 10 bytes": func(c *rawClient) {
			h := wire.Header{Type: wire.MsgInvoke, PayloadLen: 100 << 20, SerializerID: 1}.AppendHeader(nil)
			c.NC.Write(append(h, "0123456789"...))
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := connectRaw(t, u, "lc")
			c.NC.SetDeadline(time.Now().Add(testbound.Scale(20 * time.Second)))
			done := make(chan bool, 1)
			go func() {
				send(c)
				_, err := c.BR.ReadByte()
				done <- err != nil
			}()
			if v, err := good.Call(context.Background(), "echo", "ok"); err != nil || v != "ok" {
				t.Errorf("other client during the attack: %v %v", v, err)
			}
			if closed := testkit.Receive(t, done, "slow client dropped"); !closed {
				t.Error("slow client got data instead of being dropped")
			}
		})
	}
}

// TestSlowLargeUploadAccepted: a message larger than REQUEST_TIMEOUT lets
// through, arriving steadily faster than REQUEST_MINRATE, gets through.
func TestSlowLargeUploadAccepted(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.RequestTimeout = 2 * time.Second
	cfg.RequestMinRate = 64 << 10
	_, u, _ := startLC(t, cfg, context.Background())
	c := connectRaw(t, u, "lc")
	c.NC.SetDeadline(time.Now().Add(testbound.Scale(60 * time.Second)))
	payload := strings.Repeat("y", 800<<10)
	raw, _ := wire.AppendMessage(nil, rawpyro.Invoke(1, 1, "lc", "echo", payload), nil)
	// 800 KiB at about 256 KiB/s: some 3.2 s, past REQUEST_TIMEOUT
	start := time.Now()
	for off := 0; off < len(raw); off += 16 << 10 {
		end := min(off+16<<10, len(raw))
		if _, err := c.NC.Write(raw[off:end]); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
		time.Sleep(62 * time.Millisecond)
	}
	m, err := c.Recv()
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	if v, err := codecFor(m).Unmarshal(m.Data); err != nil || v != payload {
		t.Errorf("echo: %v, %d bytes", err, len(fmt.Sprint(v)))
	}
	if time.Since(start) < 2*time.Second {
		t.Skip("the upload was not slower than REQUEST_TIMEOUT; nothing shown")
	}
}

// TestConnectionCapEvictsIdle: at CONNECTION_CAP a new connection closes
// the longest-idle one; when none is idle the new client is refused with
// "server too busy"; MAXCONNECTIONS keeps its own reason.
func TestConnectionCapEvictsIdle(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.ConnectionCap = 3
	d, u, o := startLC(t, cfg, context.Background())
	var idle []*rawClient
	for i := 0; i < 3; i++ {
		idle = append(idle, connectRaw(t, u, "lc"))
		time.Sleep(10 * time.Millisecond) // a clear order of idleness
	}
	// the most recently active one is not the victim
	idle[0].Send(rawpyro.Invoke(1, 1, "lc", "echo", 1))
	if _, err := idle[0].Recv(); err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u, nil)
	if v, err := p.Call(context.Background(), "echo", "new"); err != nil || v != "new" {
		t.Fatalf("new client at the cap: %v %v", v, err)
	}
	if !idle[1].Closed() {
		t.Error("longest-idle connection not evicted")
	}
	for _, c := range []*rawClient{idle[0], idle[2]} {
		c.Send(rawpyro.Invoke(1, 2, "lc", "echo", 2))
		if _, err := c.Recv(); err != nil {
			t.Errorf("other idle connection: %v", err)
		}
	}
	// all three busy: a fourth client is refused with the reason
	for _, c := range []*rawClient{idle[0], idle[2]} {
		c.Send(rawpyro.Invoke(1, 3, "lc", "block"))
	}
	blocked := make(chan error, 1)
	go func() { _, err := p.Call(context.Background(), "block"); blocked <- err }()
	for i := 0; i < 3; i++ {
		testkit.Receive(t, o.entered, "blocked")
	}
	p2 := newProxy(t, u, nil)
	_, err := p2.Call(context.Background(), "echo", 1)
	if !errors.Is(err, ErrConnectionDenied) || !strings.Contains(err.Error(), "server too busy: too many open connections (CONNECTION_CAP=3)") {
		t.Errorf("refusal: %v", err)
	}
	close(o.release)
	if err := testkit.Receive(t, blocked, "released"); err != nil {
		t.Error(err)
	}
	testkit.Eventually(t, "refused connection gone", func() bool {
		d.connMu.Lock()
		defer d.connMu.Unlock()
		return d.refusing == 0
	})
}

// TestOnewayBackpressure: a client pipelining oneway calls that block
// gets at most ONEWAY_MAXCONN of them running; the rest wait unread,
// none is dropped, goroutines stay bounded, and other clients are served.
func TestOnewayBackpressure(t *testing.T) {
	const calls = 5000
	cfg := BuiltinConfig()
	cfg.OnewayMaxConn = 16
	_, u, o := startLC(t, cfg, context.Background())
	base := runtime.NumGoroutine()
	p := newProxy(t, u, nil)
	sent := make(chan error, 1)
	go func() {
		for i := 0; i < calls; i++ {
			if err := p.Oneway(context.Background(), "oneway_block"); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	testkit.Eventually(t, "oneway calls running", func() bool { return o.running.Load() == 16 })
	time.Sleep(200 * time.Millisecond) // give more a chance to start, if they could
	if n := runtime.NumGoroutine(); n > base+16+50 {
		t.Errorf("%d goroutines for %d blocked oneway calls (started with %d)", n, calls, base)
	}
	if r := o.running.Load(); r != 16 {
		t.Errorf("%d oneway calls running, limit 16", r)
	}
	if v, err := newProxy(t, u, nil).Call(context.Background(), "echo", "ok"); err != nil || v != "ok" {
		t.Errorf("other client: %v %v", v, err)
	}
	close(o.release)
	if err := testkit.Receive(t, sent, "all sent"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "all oneway calls run", func() bool { return o.finished.Load() == calls })
	if m := o.maxRun.Load(); m > 16 {
		t.Errorf("up to %d oneway calls ran at once, limit 16", m)
	}
}

// TestOnewayDaemonLimit: ONEWAY_MAX bounds oneway calls over all
// connections; ONEWAY_THREADED=false still runs them one by one, inline.
func TestOnewayDaemonLimit(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.OnewayMax, cfg.OnewayMaxConn = 5, 4
	_, u, o := startLC(t, cfg, context.Background())
	for i := 0; i < 3; i++ {
		p := newProxy(t, u, nil)
		for j := 0; j < 4; j++ {
			go p.Oneway(context.Background(), "oneway_block")
		}
	}
	testkit.Eventually(t, "oneway calls running", func() bool { return o.running.Load() == 5 })
	time.Sleep(200 * time.Millisecond)
	if r := o.running.Load(); r != 5 {
		t.Errorf("%d running, ONEWAY_MAX 5", r)
	}
	close(o.release)
	testkit.Eventually(t, "all run", func() bool { return o.finished.Load() == 12 })

	cfg2 := BuiltinConfig()
	cfg2.OnewayThreaded = false
	_, u2, o2 := startLC(t, cfg2, context.Background())
	close(o2.release)
	p := newProxy(t, u2, nil)
	for i := 0; i < 20; i++ {
		if err := p.Oneway(context.Background(), "oneway_block"); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := p.Call(context.Background(), "echo", 1); err != nil || py.Repr(v) != "1" {
		t.Fatal(v, err)
	}
	if f, m := o2.finished.Load(), o2.maxRun.Load(); f != 20 || m != 1 {
		t.Errorf("inline oneway: %d finished before the next call, %d at once", f, m)
	}
}

// TestStreamLimits: ITER_STREAM_MAXCONN streams per connection, then a
// DaemonError; ITER_STREAM_MAX over the daemon, where lingering streams
// count and make room for live ones.
func TestStreamLimitsPerConnectionAndDaemon(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.IterStreamMaxConn, cfg.IterStreamMax = 4, 10
	d, u, _ := startLC(t, cfg, context.Background())
	ctx := context.Background()
	open := func(p *Proxy) (*Stream, error) {
		v, err := p.Call(ctx, "items", 100)
		if err != nil {
			return nil, err
		}
		return v.(*Stream), nil
	}
	a := newProxy(t, u, nil)
	var as []*Stream
	for i := 0; i < 4; i++ {
		s, err := open(a)
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, s)
	}
	_, err := open(a)
	var re *RemoteError
	if !errors.As(err, &re) || re.Class() != "Pyro4.errors.DaemonError" || !strings.Contains(re.Message(), "ITER_STREAM_MAXCONN=4") {
		t.Errorf("fifth stream: %v", err)
	}
	// closing one makes room
	if err := as[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "stream closed", func() bool { return d.streams.count() == 3 })
	if _, err := open(a); err != nil {
		t.Errorf("after a close: %v", err)
	}
	// a's four streams linger once it leaves; b and c take 8 of 10
	a.Close()
	testkit.Eventually(t, "streams lingering", func() bool {
		d.streams.mu.Lock()
		defer d.streams.mu.Unlock()
		n := 0
		for s := d.streams.lingering.front(); s != nil; s = s.lingerLink.next {
			n++
		}
		return n >= 4
	})
	var live []*Stream
	for _, p := range []*Proxy{newProxy(t, u, nil), newProxy(t, u, nil)} {
		for i := 0; i < 4; i++ {
			s, err := open(p)
			if err != nil {
				t.Fatalf("live stream %d: %v", len(live), err)
			}
			live = append(live, s)
		}
	}
	if n := d.streams.count(); n != 10 {
		t.Errorf("%d streams, want 10 (ITER_STREAM_MAX)", n)
	}
	for _, s := range live {
		if _, ok, err := s.Next(ctx); !ok || err != nil {
			t.Errorf("live stream: %v %v", ok, err)
		}
	}
	// the two longest-lingering of a's streams made room: another
	// connection pulling from them learns they are gone
	du := u
	du.Object = DaemonObjectID
	pd := newProxy(t, du, nil)
	for i, s := range as[1:] {
		_, err := pd.Call(ctx, "get_next_stream_item", s.id)
		if i < 2 && (!errors.As(err, &re) || re.Message() != "item stream terminated") {
			t.Errorf("evicted lingering stream %d: %v", i, err)
		}
		if i == 2 && err != nil {
			t.Errorf("lingering stream: %v", err)
		}
	}
	// as[3] went to pd when it pulled from it; the last lingering one
	// makes room once more, then every stream is live and the daemon
	// refuses
	if _, err := open(newProxy(t, u, nil)); err != nil {
		t.Errorf("in place of the last lingering stream: %v", err)
	}
	_, err = open(newProxy(t, u, nil))
	if !errors.As(err, &re) || !strings.Contains(re.Message(), "ITER_STREAM_MAX=10") {
		t.Errorf("over the daemon's limit: %v", err)
	}
}

// TestStreamFloodBounded: many clients opening streams without end hold
// at most ITER_STREAM_MAX of them; memory and goroutines stay bounded and
// another client is served.
func TestStreamFloodBounded(t *testing.T) {
	const clients, each = 40, 100
	cfg := BuiltinConfig()
	cfg.IterStreamMax, cfg.IterStreamMaxConn = 1000, 50
	d, u, _ := startLC(t, cfg, context.Background())
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := 0; i < clients; i++ {
		p := newProxy(t, u, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if _, err := p.Call(context.Background(), "items", 10); err != nil {
					mu.Lock()
					refused++
					mu.Unlock()
				}
			}
		}()
	}
	if v, err := newProxy(t, u, nil).Call(context.Background(), "echo", "ok"); err != nil || v != "ok" {
		t.Errorf("other client during the flood: %v %v", v, err)
	}
	wg.Wait()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	n := d.streams.count()
	goroutines := runtime.NumGoroutine() - g0
	t.Logf("%d stream requests: %d streams held, %d refused, %+d goroutines, heap %+.1f MB",
		clients*each, n, refused, goroutines, float64(int64(after.HeapInuse)-int64(before.HeapInuse))/1e6)
	if n > 1000 || refused < clients*each-1000 {
		t.Errorf("%d streams held, %d refused: limit 1000", n, refused)
	}
	// the proxies' connections and the iterators of the streams held
	if goroutines > 1000+3*clients+20 {
		t.Errorf("%+d goroutines", goroutines)
	}
}
