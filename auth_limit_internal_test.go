package pyro

// Brute force against passphrase authentication (issue 8, weakness
// "authentication lockout keyed per IP"): guessing from many addresses is
// slowed down server-wide, and nobody is locked out — the real user
// authenticates from the very address an attacker guesses from.

import (
	"bufio"
	"container/heap"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// guessEvent is an attacker's next guess in the simulation.
type guessEvent struct {
	at  time.Time
	src string
}

type guessQueue []guessEvent

func (q guessQueue) Len() int           { return len(q) }
func (q guessQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q guessQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *guessQueue) Push(x any)        { *q = append(*q, x.(guessEvent)) }
func (q *guessQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// TestGuessLimiterSimulation plays an attack in virtual time against the
// limiter: 300 addresses guess as fast as the answers come (1 ms of
// network between an answer and the next guess) for ten minutes. The
// guesses are counted, not timed: without the limiter they would be
// 300·600000; with it each address gets about one guess per
// AuthPenaltyMax. During the attack a client that authenticated before
// gets its answers at once, a new client and the real user sharing an
// attacker's address get theirs within AuthPenaltyMax (the limiter only
// delays, it never refuses), and a single
// client that keeps failing does not slow anybody else down.
func TestGuessLimiterSimulation(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := &guessLimiter{now: clk.now}
	start := clk.t
	if d := l.settle("10.9.9.9", true); d != 0 { // a regular client, before the attack
		t.Fatalf("first answer delayed %v", d)
	}
	const sources = 300
	const duration = 10 * time.Minute
	q := &guessQueue{}
	for i := 0; i < sources; i++ {
		heap.Push(q, guessEvent{at: start, src: fmt.Sprintf("127.0.%d.%d", i/250, 1+i%250)})
	}
	guesses := 0
	nextProbe := start.Add(time.Minute)
	for q.Len() > 0 {
		ev := heap.Pop(q).(guessEvent)
		if ev.at.Sub(start) >= duration {
			break
		}
		for !ev.at.Before(nextProbe) { // the other clients, once a minute
			clk.t = nextProbe
			if d := l.settle("10.9.9.9", true); d != 0 {
				t.Errorf("%v into the attack: a known client waited %v", clk.t.Sub(start), d)
			}
			if d := l.settle(fmt.Sprintf("10.8.0.%d", nextProbe.Sub(start)/time.Minute), true); d > AuthPenaltyMax {
				t.Errorf("%v into the attack: a new client waited %v", clk.t.Sub(start), d)
			}
			if d := l.settle("127.0.0.1", true); d <= 0 || d > AuthPenaltyMax {
				t.Errorf("%v into the attack: the real user at an attacker's address waited %v", clk.t.Sub(start), d)
			}
			nextProbe = nextProbe.Add(time.Minute)
		}
		clk.t = ev.at
		d := l.settle(ev.src, false)
		guesses++
		heap.Push(q, guessEvent{at: ev.at.Add(d + time.Millisecond), src: ev.src})
	}
	perSource := float64(guesses) / sources
	bound := float64(duration/AuthPenaltyMax) + 3 // + the first, cheap guesses
	t.Logf("%d guesses from %d addresses in %v: %.1f each (bound %.0f; unlimited: %d)", guesses, sources, duration, perSource, bound, duration/time.Millisecond)
	if perSource > bound {
		t.Errorf("%.1f guesses per address in %v, want at most %.0f", perSource, duration, bound)
	}
	if got := l.failures.Load(); got != int64(guesses) {
		t.Errorf("failures counted %d, guesses %d", got, guesses)
	}

	// one client that keeps failing (a wrong passphrase in a retry loop)
	// slows down its own address only
	l2 := &guessLimiter{now: clk.now}
	for i := 0; i < 1000; i++ {
		clk.t = clk.t.Add(time.Second)
		l2.settle("10.1.1.1", false)
	}
	if d := l2.settle("10.2.2.2", true); d != 0 {
		t.Errorf("a new client waited %v because another one keeps failing", d)
	}
	if d := l2.settle("10.1.1.1", true); d != AuthPenaltyMax {
		t.Errorf("the failing address waited %v, want %v", d, AuthPenaltyMax)
	}
	// the counts fade: an hour later the address is answered at once
	clk.t = clk.t.Add(time.Hour)
	if d := l2.settle("10.1.1.1", true); d != 0 {
		t.Errorf("an hour later: %v", d)
	}
}

// TestGuessLimiterBounded: the limiter remembers at most maxAuthSources
// sources, however many addresses fail.
func TestGuessLimiterBounded(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := &guessLimiter{now: clk.now}
	for i := 0; i < 100_000; i++ {
		clk.t = clk.t.Add(time.Millisecond)
		l.settle(fmt.Sprintf("s%d", i), i%3 == 0)
		if n := l.size(); n > maxAuthSources {
			t.Fatalf("%d sources remembered after %d", n, i+1)
		}
	}
	// the table keeps working: a fresh failure is remembered
	l.settle("fresh", false)
	if l.sources["fresh"] == nil {
		t.Error("new source not remembered")
	}
}

// TestAuthSource: the limiter's sources.
func TestAuthSource(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:5000":            "127.0.0.1",
		"[::ffff:10.0.0.7]:5000":    "10.0.0.7",
		"[2001:db8:1:2:3:4:5:6]:80": "2001:db8:1:2::/64",
		"[::1]:80":                  "::1",
	} {
		ta, _ := net.ResolveTCPAddr("tcp", addr)
		if got := authSource(&ConnInfo{RemoteAddr: ta}); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

// guesser is an attacker's connection loop, from its own address, with
// its own measurements; it never calls t.Fatal (it runs in a goroutine).
type guesser struct {
	ip        string
	latencies []time.Duration // proof sent → answer, per answered guess
	refusals  int
	err       error
}

// guess makes one wrong guess on a new connection and waits for the
// answer.
func (g *guesser) guess(addr string, key []byte) (refused bool, err error) {
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(g.ip)}, Timeout: 10 * time.Second}
	nc, err := dl.Dial("tcp", addr)
	if err != nil {
		return false, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(testbound.Scale(30 * time.Second)))
	br := bufio.NewReader(nc)
	cd := codec.Default(codec.IDSerpent)
	data, _ := cd.Marshal(py.DictOf("handshake", py.DictOf("auth", AuthScheme, "data", "hello"), "object", "thing"))
	if err := wire.WriteMessage(nc, &wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: 1, Data: data}, nil); err != nil {
		return false, err
	}
	m, err := wire.ReadMessage(br, nil)
	if err != nil || m.Type != wire.MsgConnectOK {
		return false, fmt.Errorf("CONNECT: %v %v", m, err)
	}
	v, _ := cd.Unmarshal(m.Data)
	h, _ := v.(*py.Dict).GetString("handshake")
	ch, _ := h.(*py.Dict).GetString("challenge")
	args := proofArgs(key, ch.(string), clientEndpoint(nc.RemoteAddr()), "")
	sent := time.Now()
	if err := wire.WriteMessage(nc, rawpyro.Invoke(codec.IDSerpent, 1, DaemonObjectID, AuthMethod, args...), nil); err != nil {
		return false, err
	}
	m, err = wire.ReadMessage(br, nil)
	if err != nil {
		return false, err
	}
	g.latencies = append(g.latencies, time.Since(sent))
	return m.Flags&wire.FlagException != 0, nil
}

// TestBruteForceManyAddresses: 24 attackers guess at once, each from its
// own loopback address, one of them 127.0.0.1; the daemon's delays are
// scaled down to a unit of 10 ms (so AuthPenaltyMax is 300 ms). Shown:
//   - once an address has failed six times, every answer it gets took at
//     least the full delay (a lower bound, measured by the attacker: a
//     slow machine only makes it longer), so its guess rate is bounded;
//   - the real user authenticates from 127.0.0.1 during the attack (its
//     answer waits for that address's delay, it is not refused), and a
//     client that had authenticated before the attack is answered at
//     once (the delay the daemon imposed is recorded, not timed);
//   - the old lockout is gone: failures never turn into refusals of
//     right proofs.
func TestBruteForceManyAddresses(t *testing.T) {
	const unit = 10 * time.Millisecond
	maxDelay := AuthPenaltyMax / authPenaltyUnit * unit
	var mu sync.Mutex
	delays := map[string][]time.Duration{} // right proofs' delays, by source
	record := withDaemonHook(func(d *Daemon) {
		d.sec.auth.limit.onSettle = func(src string, ok bool, delay time.Duration) {
			if ok {
				mu.Lock()
				delays[src] = append(delays[src], delay)
				mu.Unlock()
			}
		}
	})
	d, u, _, _ := authDaemon(t, map[string]string{"user": "right"}, withPenaltyUnit(unit), record)
	key, wrong := deriveAuthKey("right"), deriveAuthKey("guess")
	// a client that authenticated before the attack
	known := dialFrom(t, u.Location(), "127.0.0.200")
	if !accepted(known.login(key)) {
		t.Fatal("known client refused before the attack")
	}
	known.NC.Close()

	var stop atomic.Bool
	var wg sync.WaitGroup
	attackers := make([]*guesser, 24)
	for i := range attackers {
		g := &guesser{ip: fmt.Sprintf("127.0.0.%d", i+1)}
		attackers[i] = g
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				refused, err := g.guess(u.Location(), wrong)
				if err != nil {
					g.err = err
					return
				}
				if !refused {
					g.err = fmt.Errorf("a wrong proof was accepted")
					return
				}
				g.refusals++
			}
		}()
	}
	attackStart := time.Now()
	defer func() { stop.Store(true); wg.Wait() }()
	deadline := time.Now().Add(testbound.Scale(60 * time.Second))
	for d.sec.auth.limit.failures.Load() < 24*8 {
		if time.Now().After(deadline) {
			t.Fatalf("the attack made only %d guesses", d.sec.auth.limit.failures.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// during the attack: the real user at 127.0.0.1, a known client, a
	// new client
	for _, ip := range []string{"127.0.0.1", "127.0.0.200", "127.0.0.201"} {
		c := dialFrom(t, u.Location(), ip)
		if m := c.login(key); !accepted(m) {
			t.Errorf("%s: right passphrase refused during the attack: %v", ip, m)
			continue
		}
		c.Send(rawpyro.Invoke(codec.IDSerpent, 2, "thing", "echo", ip))
		if m, err := c.Recv(); err != nil || m.Type != wire.MsgResult || m.Flags&wire.FlagException != 0 {
			t.Errorf("%s: call after authenticating: %v %v", ip, m, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(attackStart)

	mu.Lock()
	if ds := delays["127.0.0.200"]; len(ds) != 2 || ds[1] != 0 {
		t.Errorf("the known client's answers waited %v, want 0 during the attack", ds)
	}
	if ds := delays["127.0.0.1"]; len(ds) != 1 || ds[0] <= 0 || ds[0] > maxDelay {
		t.Errorf("the real user at 127.0.0.1 waited %v, want a delay up to %v", ds, maxDelay)
	}
	if ds := delays["127.0.0.201"]; len(ds) != 1 || ds[0] > maxDelay {
		t.Errorf("a new client waited %v, want at most %v", ds, maxDelay)
	}
	mu.Unlock()
	total := 0
	for _, g := range attackers {
		if g.err != nil {
			t.Errorf("%s: %v", g.ip, g.err)
		}
		total += g.refusals
		for k, lat := range g.latencies {
			if k >= 6 && lat < maxDelay {
				t.Errorf("%s: guess %d answered after %v, before the delay %v", g.ip, k+1, lat, maxDelay)
				break
			}
		}
		if bound := 7 + int(elapsed/maxDelay); len(g.latencies) > bound {
			t.Errorf("%s: %d guesses answered in %v, want at most %d", g.ip, len(g.latencies), elapsed, bound)
		}
	}
	t.Logf("%d wrong guesses from 24 addresses in %v (at most %d per address after the first 6)", total, elapsed, int(elapsed/maxDelay))
}
