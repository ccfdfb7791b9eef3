package cluster

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

// startESProcess runs `pyro es --backend spec` on port.
func startESProcess(t *testing.T, port int, spec string) *testkit.Process {
	t.Helper()
	cmd := exec.Command(testkit.PyroCommand(t), "es", "-v", "-N", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "--backend", spec)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	p := testkit.StartProcess(t, cmd, testkit.Prefix("URI = "))
	if _, ok := p.Output.WaitLine("Event Server started.", p.Exited); !ok {
		t.Fatalf("pyro es not started:\n%s", p.Output)
	}
	return p
}

// burstPublisher publishes {"p": p, "seq": i} for i < n at uri, pausing
// between publishes, and records which publishes returned without error.
type burstPublisher struct {
	p     int
	mu    sync.Mutex
	acked []bool
	count int
}

func (b *burstPublisher) run(ctx context.Context, uri string, n int, pause time.Duration, stopOnError bool) {
	b.acked = make([]bool, n)
	for i := range n {
		err := events.Publish(ctx, uri, []string{"lab.burst"}, map[string]any{"p": b.p, "seq": i})
		b.mu.Lock()
		if err == nil {
			b.acked[i] = true
		}
		b.count++
		b.mu.Unlock()
		if err != nil && (stopOnError || ctx.Err() != nil) {
			return
		}
		time.Sleep(pause)
	}
}

func (b *burstPublisher) done() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// eventually is testkit.Eventually with three times its bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * testkit.Bound())
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v", what, 3*testkit.Bound())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// msgKey reads the publisher and index of a burst message (a *py.Dict
// at a Go subscriber, a JSON object at a Python one).
func msgKey(msg any) (p, i int, ok bool) {
	num := func(v any, ok bool) (int, bool) {
		switch x := v.(type) {
		case int64:
			return int(x), ok
		case float64:
			return int(x), ok
		case int:
			return x, ok
		}
		return 0, false
	}
	var ok1, ok2 bool
	switch m := msg.(type) {
	case *py.Dict:
		p, ok1 = num(m.GetString("p"))
		i, ok2 = num(m.GetString("seq"))
	case map[string]any:
		p, ok1 = num(m["p"], true)
		i, ok2 = num(m["seq"], true)
	}
	return p, i, ok1 && ok2
}

// TestEventServerProcesses: three `pyro es --backend nats://...`
// processes on three nats-server processes. A Go subscription and a
// Python Pyro4 subscriber subscribe at instance 0; three publishers
// publish a burst, one at each instance. Mid-burst instance 0 is
// SIGKILLed, later a NATS node too. Every publish that returned reaches
// both subscribers, in per-publisher order: the Go subscription exactly
// once (it drops repeats by "seq"), the Python subscriber at least once,
// with every repeat carrying the seq of its first copy.
func TestEventServerProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server and pyro es processes")
	}
	c := natstest.StartProcesses(t, 3)
	const name = "esprocs"
	var ports []int
	var procs []*testkit.Process
	for i := range 3 {
		ports = append(ports, testkit.FreeTCPPort(t))
		procs = append(procs, startESProcess(t, ports[i], rotated(c, i, name)))
	}
	uri := func(i int) string { return "PYRO:" + events.ObjectID + "@127.0.0.1:" + strconv.Itoa(ports[i]) }
	ctx, cancel := context.WithTimeout(context.Background(), 4*testkit.Bound())
	defer cancel()

	gosub, err := events.Subscribe(ctx, uri(0), []string{"lab.burst"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gosub.Close(context.Background()) })
	// Python subscribers at instance 0 (killed) and at instance 1
	pysubs := []*pytest.PySubscriber{
		pytest.StartPySubscriber(t, pytest.PySub{ES: uri(0), Subjects: []string{"lab.burst"}}),
		pytest.StartPySubscriber(t, pytest.PySub{ES: uri(1), Subjects: []string{"lab.burst"}}),
	}

	type arrival struct {
		p, i int
		seq  uint64
		at   time.Time
	}
	var gmu sync.Mutex
	var got []arrival
	go func() {
		for ev, err := range gosub.Events(ctx) {
			if err != nil {
				return
			}
			p, i, ok := msgKey(ev.Msg)
			if !ok {
				t.Errorf("Go subscriber: unexpected message %#v", ev.Msg)
				return
			}
			gmu.Lock()
			got = append(got, arrival{p, i, ev.Seq, time.Now()})
			gmu.Unlock()
		}
	}()

	const n = 400
	pubs := []*burstPublisher{{p: 0}, {p: 1}, {p: 2}}
	var wg sync.WaitGroup
	for k, b := range pubs {
		wg.Go(func() { b.run(ctx, uri(k), n, 5*time.Millisecond, k == 0) })
	}
	testkit.Eventually(t, "100 publishes at instance 1", func() bool { return pubs[1].done() >= 100 })
	killed := time.Now()
	if err := procs[0].Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[0].Exited
	testkit.Eventually(t, "100 more publishes at instance 1", func() bool { return pubs[1].done() >= 200 })
	c.Nodes[1].Kill()
	wg.Wait()

	total := 0
	for _, b := range pubs {
		for _, a := range b.acked {
			if a {
				total++
			}
		}
	}
	t.Logf("publishes acknowledged: %d (instance 0 until its SIGKILL: %d)", total, func() int {
		k := 0
		for _, a := range pubs[0].acked {
			if a {
				k++
			}
		}
		return k
	}())
	ackedAll := func(seen func(p, i int) bool) bool {
		for _, b := range pubs {
			for i, a := range b.acked {
				if a && !seen(b.p, i) {
					return false
				}
			}
		}
		return true
	}

	// Go: every acknowledged publish, once, in per-publisher order.
	// the takeover waits for NATS to elect new leaders after its node's
	// SIGKILL (seen: 8 s on 2 busy cores), then for the lease
	eventually(t, "every acknowledged publish at the Go subscriber", func() bool {
		gmu.Lock()
		defer gmu.Unlock()
		seen := map[[2]int]bool{}
		for _, a := range got {
			seen[[2]int{a.p, a.i}] = true
		}
		return ackedAll(func(p, i int) bool { return seen[[2]int{p, i}] })
	})
	gmu.Lock()
	last := map[int]int{0: -1, 1: -1, 2: -1}
	var gap time.Duration
	prev := killed
	for _, a := range got {
		if a.i <= last[a.p] {
			t.Fatalf("Go subscriber: publisher %d's event %d after %d (repeated or out of order)", a.p, a.i, last[a.p])
		}
		last[a.p] = a.i
		if a.at.After(killed) {
			gap = max(gap, a.at.Sub(prev))
			prev = a.at
		}
	}
	gmu.Unlock()
	t.Logf("Go subscriber: %d events, %d repeats dropped; longest pause in deliveries after the SIGKILL: %v", len(got), gosub.Repeats(), gap)

	// Python: every acknowledged publish at least once; a repeat carries
	// the seq of the first copy and comes after it.
	for k, pysub := range pysubs {
		var evs []pytest.Event
		eventually(t, "every acknowledged publish at Python subscriber "+strconv.Itoa(k), func() bool {
			evs = pysub.Events(t)
			seen := map[[2]int]bool{}
			for _, ev := range evs {
				if p, i, ok := msgKey(ev.Msg); ok {
					seen[[2]int{p, i}] = true
				}
			}
			return ackedAll(func(p, i int) bool { return seen[[2]int{p, i}] })
		})
		first := map[[2]int]uint64{}
		lastPy := map[int]int{0: -1, 1: -1, 2: -1}
		repeats := 0
		for _, ev := range evs {
			p, i, ok := msgKey(ev.Msg)
			if !ok {
				t.Fatalf("Python subscriber %d: unexpected message %#v", k, ev.Msg)
			}
			key := [2]int{p, i}
			if s, dup := first[key]; dup {
				repeats++
				if s != ev.EvSeq {
					t.Fatalf("Python subscriber %d: repeat of publisher %d's event %d has seq %d, the first copy %d", k, p, i, ev.EvSeq, s)
				}
				continue
			}
			if ev.EvSeq == 0 {
				t.Fatalf("Python subscriber %d: event without seq: %+v", k, ev)
			}
			first[key] = ev.EvSeq
			if i <= lastPy[p] {
				t.Fatalf("Python subscriber %d: publisher %d's event %d first arrived after %d", k, p, i, lastPy[p])
			}
			lastPy[p] = i
		}
		t.Logf("Python subscriber %d: %d events, %d repeats (each with its first copy's seq)", k, len(evs), repeats)
	}
}
