package naming

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testbound"
)

// regexAttack is the pattern of issue 8: 2048 characters of 1000-fold
// repeats of a Unicode class. Go's engine runs it in linear time, but the
// constant is its program of some 300,000 instructions: about 0.2 s per
// name.
var regexAttack = strings.Repeat(`(?:\w?){1000}`, MaxRegexLen/len(`(?:\w?){1000}`))

// regexCostly stays within MaxRegexProgram (about 8000 instructions) but
// matching it against many long names needs more than the default budget.
var regexCostly = strings.Repeat(`(?:\w?){1000}`, 4)

// registerVictims registers n names of 200 characters, the strings the
// hostile patterns are matched against.
func registerVictims(t *testing.T, s *Server, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("victim.%03d.%s", i, strings.Repeat("n", 189))
		if err := s.NameServer().register(name, "PYRO:x@127.0.0.1:1", nil); err != nil {
			t.Fatal(err)
		}
	}
}

// Issue 8, item 4: clients that only may connect send list(regex=...) and
// remove(regex=...) with the most expensive patterns they can; another
// client's register is never delayed by more than a second. (Before the
// fix, remove evaluated the regex while holding the name server's write
// lock and list while holding the storage's read lock, and the attack
// pattern took seconds per call: register waited for them.)
func TestRegexQueriesDoNotDelayRegister(t *testing.T) {
	s := startNS(t, nil)
	registerVictims(t, s, 200)
	ctx := ctxT(t)
	legit := nsClient(t, s.URI().String())
	register := func(i int) time.Duration {
		start := time.Now()
		if err := legit.Register(ctx, fmt.Sprintf("legit.%d", i), "PYRO:ok@127.0.0.1:2", false, nil); err != nil {
			t.Fatalf("register: %v", err)
		}
		return time.Since(start)
	}
	var baseline time.Duration
	for i := 0; i < 5; i++ {
		baseline = max(baseline, register(i))
	}

	// the attackers: each call alternates list and remove, the attack
	// pattern and the costly one
	actx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var calls, tooComplex, tooCostly atomic.Int64
	started := make(chan struct{}, 4)
	for a := 0; a < 4; a++ {
		p, err := pyro.NewProxy(s.URI().String(), testConfig())
		if err != nil {
			t.Fatal(err)
		}
		c := NewClient(p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.Close()
			for i := 0; actx.Err() == nil; i++ {
				pat := regexAttack
				if i%2 == 1 {
					pat = regexCostly
				}
				select {
				case started <- struct{}{}:
				default:
				}
				var err error
				if (i/2)%2 == 0 {
					_, err = c.RemoveRegex(actx, pat)
				} else {
					_, err = c.List(actx, Filter{Regex: pat})
				}
				calls.Add(1)
				switch {
				case err == nil:
				case strings.Contains(err.Error(), "pattern too complex"):
					tooComplex.Add(1)
				case strings.Contains(err.Error(), "regex too costly"):
					tooCostly.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	defer func() {
		stop()
		wg.Wait()
	}()
	for a := 0; a < 4; a++ {
		<-started
	}
	time.Sleep(200 * time.Millisecond) // the first hostile calls are being evaluated
	// register at least 10 times, and until a costly query has run to its
	// budget (several seconds under the race detector)
	var worst time.Duration
	n := 0
	for limit := time.Now().Add(testbound.Scale(20 * time.Second)); n < 10 || tooCostly.Load() == 0 && time.Now().Before(limit); n++ {
		worst = max(worst, register(100+n))
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	wg.Wait()
	t.Logf("register: %v before the attack, at most %v during it (%d calls); %d hostile calls (%d refused as too complex, %d as too costly)",
		baseline, worst, n, calls.Load(), tooComplex.Load(), tooCostly.Load())
	if worst > time.Second {
		t.Errorf("a register took %v during the regex attack (%v before it)", worst, baseline)
	}
	if tooComplex.Load() == 0 || tooCostly.Load() == 0 {
		t.Errorf("the hostile patterns were not refused: %d too complex, %d too costly of %d calls",
			tooComplex.Load(), tooCostly.Load(), calls.Load())
	}
	// nothing was removed
	if c, err := legit.Count(ctx); err != nil || c != 1+200+5+n {
		t.Errorf("count after the attack: %d %v", c, err)
	}
}

// Patterns over the limits are refused as Pyro refuses a bad pattern,
// with NamingError("invalid regex: ..."); a costly query fails without
// spending more than its budget, and a smaller budget refuses sooner.
func TestRegexLimitsOnTheWire(t *testing.T) {
	s := startNS(t, nil, WithRegexBudget(300_000))
	registerVictims(t, s, 50)
	ctx := ctxT(t)
	c := nsClient(t, s.URI().String())
	_, err := c.List(ctx, Filter{Regex: regexAttack})
	if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(err.Error(), "invalid regex: pattern too complex") {
		t.Errorf("attack pattern: %v", err)
	}
	_, err = c.RemoveRegex(ctx, strings.Repeat("a", MaxRegexLen+1))
	if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(err.Error(), "invalid regex: pattern too long") {
		t.Errorf("long pattern: %v", err)
	}
	start := time.Now()
	_, err = c.List(ctx, Filter{Regex: `\w+x`})
	if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(err.Error(), "regex too costly") {
		t.Errorf("costly query under a budget of 300,000 steps: %v", err)
	}
	if d := time.Since(start); d > testbound.Scale(5*time.Second) {
		t.Errorf("the refused query took %v", d)
	}
	// a pattern with a literal prefix is cheap for the names without it
	regs, err := c.List(ctx, Filter{Regex: `victim\.007\.`})
	if err != nil || len(regs) != 1 {
		t.Errorf("prefix pattern: %v %v", regs, err)
	}
	if n, err := c.RemoveRegex(ctx, `victim\.00[0-4]`); err != nil || n != 5 {
		t.Errorf("remove by regex: %d %v", n, err)
	}
}

// A regex query waits for a free slot, and gives up as busy when none
// frees up in time; the slot is returned after every query.
func TestRegexGateSlots(t *testing.T) {
	old := regexWait
	regexWait = 50 * time.Millisecond
	defer func() { regexWait = old }()
	g := newRegexGate(0)
	for i := 0; i < cap(g.slots); i++ {
		g.slots <- struct{}{}
	}
	p, err := compilePattern("a")
	if err != nil {
		t.Fatal(err)
	}
	entries := []string{"a", "b"}
	if _, err := g.match(context.Background(), p, entries); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("all slots taken: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.match(ctx, p, entries); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	<-g.slots
	out, err := g.match(context.Background(), p, entries)
	if err != nil || len(out) != 1 || out[0] != "a" {
		t.Errorf("one free slot: %v %v", out, err)
	}
	if len(g.slots) != cap(g.slots)-1 {
		t.Errorf("slot not returned: %d of %d taken", len(g.slots), cap(g.slots))
	}
}
