package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// testLease is the ownership lease of the in-process event servers.
const testLease = 2 * time.Second

// esInstance is an event server (events.Start) on a shared EventStore.
type esInstance struct {
	srv *events.Server
	st  *EventStore
	log *testkit.Buffer // startFlowServer's
}

// startEventServer starts an event server on name of c, preferring
// node i.
func startEventServer(t *testing.T, c *natstest.Cluster, i int, name string) *esInstance {
	t.Helper()
	lg, buf := testkit.TextLogger(slog.LevelInfo)
	lg = lg.With("instance", i)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("event server %d's log:\n%s", i, buf)
		}
	})
	st, err := OpenEvents(rotated(c, i, name), WithLease(testLease), WithLogger(lg))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := events.Start(nil, events.WithStore(st), events.WithServerHost("127.0.0.1"), events.WithLogger(lg),
		events.WithRetry(1000, 50*time.Millisecond, 500*time.Millisecond))
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	if err := srv.Service().Err(); err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &esInstance{srv: srv, st: st}
}

// received collects a subscription's events by message until ctx ends
// or want of them arrived.
type received struct {
	mu   sync.Mutex
	msgs []string
	seqs []uint64
	done chan struct{}
}

func collect(ctx context.Context, sub *events.Subscription, want int) *received {
	r := &received{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev, err := range sub.Events(ctx) {
			if err != nil {
				return
			}
			r.mu.Lock()
			r.msgs = append(r.msgs, ev.Msg.(string))
			r.seqs = append(r.seqs, ev.Seq)
			n := len(r.msgs)
			r.mu.Unlock()
			if n == want {
				return
			}
		}
	}()
	return r
}

// waitUnpadded waits until r is done (or ctx ends) and returns what it
// received without the padding after each message's last colon.
func (r *received) waitUnpadded(ctx context.Context) []string {
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	msgs := r.snapshot()
	for i, m := range msgs {
		msgs[i] = m[:strings.LastIndexByte(m, ':')]
	}
	return msgs
}

func (r *received) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// checkAll fails unless got holds, for every publisher p < pubs, exactly
// the messages "p:0" ... "p:n-1" in that order (and nothing else).
func checkAll(t *testing.T, who string, got []string, pubs, n int) {
	t.Helper()
	next := make([]int, pubs)
	for _, m := range got {
		var p, k int
		if _, err := fmt.Sscanf(m, "%d:%d", &p, &k); err != nil || p < 0 || p >= pubs {
			t.Fatalf("%s: unexpected message %q", who, m)
		}
		if k != next[p] {
			t.Fatalf("%s: publisher %d's message %d arrived when %d was next (lost, repeated or out of order)", who, p, k, next[p])
		}
		next[p]++
	}
	for p, k := range next {
		if k != n {
			t.Fatalf("%s: got %d of publisher %d's %d messages", who, k, p, n)
		}
	}
}

// TestEventServersShareEvents: three event servers on one three-node
// NATS cluster behave as one: events published at any of them reach the
// subscribers of all three, in per-publisher order, each once.
func TestEventServersShareEvents(t *testing.T) {
	c := natstest.Start(t, 3)
	var ess []*esInstance
	for i := range 3 {
		ess = append(ess, startEventServer(t, c, i, "share"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()
	const n = 40
	var recs []*received
	for i, es := range ess {
		sub, err := events.Subscribe(ctx, es.srv.URI(), []string{"burst"})
		if err != nil {
			t.Fatalf("subscribe at instance %d: %v", i, err)
		}
		t.Cleanup(func() { sub.Close(context.Background()) })
		recs = append(recs, collect(ctx, sub, 3*n))
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for p, es := range ess {
		wg.Go(func() {
			for k := range n {
				if err := events.Publish(ctx, es.srv.URI(), []string{"Burst"}, fmt.Sprintf("%d:%d", p, k)); err != nil {
					errs[p] = fmt.Errorf("publish %d at instance %d: %w", k, p, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range recs {
		<-r.done
		checkAll(t, fmt.Sprintf("subscriber at instance %d", i), r.snapshot(), 3, n)
	}
}

// crash ends an in-process event server as a crash would for the
// others: its NATS connection goes first (no more heartbeats, no
// removal of its heartbeat), then the server.
func (es *esInstance) crash() {
	es.st.nc.Close()
	es.srv.Close()
}

// TestEventServerTakeoverInProcess: three event servers, a Go
// subscription at each (one by pattern); publishers at each. Mid-burst a
// NATS node is killed and then the event server of the first
// subscription crashes: another instance takes over its subscriber from
// its last confirmed event. Every acknowledged publish reaches every
// subscription exactly once (after the Subscription dropped repeats by
// seq), in per-publisher order.
func TestEventServerTakeoverInProcess(t *testing.T) {
	c := natstest.Start(t, 3)
	var ess []*esInstance
	for i := range 3 {
		ess = append(ess, startEventServer(t, c, i, "takeover"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*testkit.Bound())
	defer cancel()
	var subs []*events.Subscription
	for i, es := range ess {
		var sub *events.Subscription
		var err error
		if i == 2 {
			sub, err = events.SubscribeMatch(ctx, es.srv.URI(), []string{`lab\.b.*`})
		} else {
			sub, err = events.Subscribe(ctx, es.srv.URI(), []string{"lab.burst"})
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			sub.Close(cctx)
		})
		subs = append(subs, sub)
	}
	type arrival struct{ p, i int }
	got := make([][]arrival, len(subs))
	var gmu sync.Mutex
	for k, sub := range subs {
		go func() {
			for ev, err := range sub.Events(ctx) {
				if err != nil {
					return
				}
				p, i, ok := msgKey(ev.Msg)
				if !ok {
					continue
				}
				gmu.Lock()
				got[k] = append(got[k], arrival{p, i})
				gmu.Unlock()
			}
		}()
	}
	const n = 300
	pubs := []*burstPublisher{{p: 0}, {p: 1}, {p: 2}}
	var wg sync.WaitGroup
	for k, b := range pubs {
		wg.Go(func() { b.run(ctx, ess[k].srv.URI().String(), n, 3*time.Millisecond, k == 0) })
	}
	testkit.Eventually(t, "100 publishes at instance 1", func() bool { return pubs[1].done() >= 100 })
	c.Nodes[2].Kill()
	testkit.Eventually(t, "150 publishes at instance 1", func() bool { return pubs[1].done() >= 150 })
	crashed := time.Now()
	ess[0].crash()
	wg.Wait()
	missing := func(k int) []arrival {
		gmu.Lock()
		defer gmu.Unlock()
		seen := map[arrival]bool{}
		for _, a := range got[k] {
			seen[a] = true
		}
		var out []arrival
		for _, b := range pubs {
			for i, a := range b.acked {
				if a && !seen[arrival{b.p, i}] {
					out = append(out, arrival{b.p, i})
				}
			}
		}
		return out
	}
	for k := range subs {
		deadline := time.Now().Add(testkit.Bound())
		for m := missing(k); len(m) > 0; m = missing(k) {
			if time.Now().After(deadline) {
				st, _ := ess[1].st.js.Stream(ctx, ess[1].st.stream)
				gmu.Lock()
				defer gmu.Unlock()
				t.Fatalf("subscription %d misses %d acknowledged publishes after %v (first: %v; %d received, %d repeats dropped; log %+v)",
					k, len(m), testkit.Bound(), m[:min(5, len(m))], len(got[k]), subs[k].Repeats(), st.CachedInfo().State)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("subscription 0 had everything %v after its event server crashed (lease %v); repeats dropped: %d", time.Since(crashed), testLease, subs[0].Repeats())
	gmu.Lock()
	defer gmu.Unlock()
	for k := range subs {
		last := map[int]int{0: -1, 1: -1, 2: -1}
		for _, a := range got[k] {
			if a.i <= last[a.p] {
				t.Fatalf("subscription %d: publisher %d's event %d after %d (repeated or out of order)", k, a.p, a.i, last[a.p])
			}
			last[a.p] = a.i
		}
	}
}

// TestEventPublishWithoutNATS: with NATS gone a publish fails within the
// spec's timeout with an error matching ErrUnavailable (nothing is
// buffered), and works again once NATS is back.
func TestEventPublishWithoutNATS(t *testing.T) {
	c := natstest.Start(t, 1)
	st, err := OpenEvents(c.Spec("gone")+"?timeout=500ms", WithLease(testLease))
	if err != nil {
		t.Fatal(err)
	}
	svc := events.NewService(nil, events.WithStore(st))
	defer svc.Close()
	if err := svc.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Publish(ctx, "x", "before"); err != nil {
		t.Fatal(err)
	}
	if n := svc.Counters().Published; n != 1 {
		t.Fatalf("Counters().Published = %d after one publish", n)
	}
	c.Nodes[0].Stop()
	start := time.Now()
	err = svc.Publish(ctx, "x", "while gone")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("publish with NATS gone: %v, want ErrUnavailable", err)
	}
	t.Logf("publish failed after %v: %v", time.Since(start), err)
	c.Nodes[0].Restart(t, c)
	testkit.Eventually(t, "publish after NATS came back", func() bool { return svc.Publish(ctx, "x", "after") == nil })
}

// TestEventLogFull: a log at its max_bytes that nobody may trim (a
// subscriber that confirmed nothing, and whose queue is not full, holds
// it) refuses new publishes with JetStream's error once the request's
// timeout passed waiting for a trim; nothing is dropped silently.
func TestEventLogFull(t *testing.T) {
	c := natstest.Start(t, 1)
	st, err := OpenEvents(c.Spec("full")+"?max_bytes=65536&timeout=1s", WithLease(testLease))
	if err != nil {
		t.Fatal(err)
	}
	svc := events.NewService(nil, events.WithStore(st), events.WithRetry(1000, 50*time.Millisecond, 500*time.Millisecond))
	defer svc.Close()
	ctx := context.Background()
	dead := "PYRO:nobody@127.0.0.1:" + strconv.Itoa(testkit.FreeTCPPort(t))
	if err := svc.Subscribe(ctx, "x", dead); err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("x", 4096)
	for i := range 100 {
		if err := svc.Publish(ctx, "x", msg); err != nil {
			if !strings.Contains(err.Error(), "maximum bytes") {
				t.Fatalf("publish %d into a full log: %v", i, err)
			}
			t.Logf("publish %d refused: %v", i, err)
			return
		}
	}
	t.Fatal("100 publishes of 4 KiB fit into a log of 64 KiB")
}

// TestEventLimitsPerInstance: the subscriber limit applies to the
// subscribers each instance delivers to.
func TestEventLimitsPerInstance(t *testing.T) {
	c := natstest.Start(t, 1)
	var svcs []*events.Service
	for range 2 {
		st, err := OpenEvents(c.Spec("limits"), WithLease(testLease))
		if err != nil {
			t.Fatal(err)
		}
		svc := events.NewService(nil, events.WithStore(st), events.WithMaxSubscribers(1))
		defer svc.Close()
		svcs = append(svcs, svc)
	}
	ctx := context.Background()
	if err := svcs[0].Subscribe(ctx, "a", "PYRO:one@127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	err := svcs[0].Subscribe(ctx, "a", "PYRO:two@127.0.0.1:1")
	var pe *pyro.PythonError
	if !errors.As(err, &pe) || pe.Class != "ValueError" || !strings.Contains(pe.Msg, "too many subscribers") {
		t.Fatalf("second subscriber at instance 0: %v, want ValueError too many subscribers", err)
	}
	if err := svcs[1].Subscribe(ctx, "a", "PYRO:two@127.0.0.1:1"); err != nil {
		t.Fatalf("second subscriber at instance 1: %v", err)
	}
	if n := svcs[0].Counters().Subscribers + svcs[1].Counters().Subscribers; n != 2 {
		t.Fatalf("%d subscribers delivered to, want 2", n)
	}
}

// TestEventLogTrimmed: the log is trimmed up to what every subscriber
// confirmed, never past the cursor of one that confirmed nothing, and
// once that one is gone, past it.
func TestEventLogTrimmed(t *testing.T) {
	c := natstest.Start(t, 1)
	es := startEventServer(t, c, 0, "trim")
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()
	sub, err := events.Subscribe(ctx, es.srv.URI(), []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(context.Background())
	svc := es.srv.Service()
	// a subscriber that never takes an event (nothing listens there)
	dead := "PYRO:nobody@127.0.0.1:" + strconv.Itoa(testkit.FreeTCPPort(t))
	if err := svc.Subscribe(context.Background(), "x", dead); err != nil {
		t.Fatal(err)
	}
	first := func() (uint64, uint64) {
		st, err := es.st.js.Stream(ctx, es.st.stream)
		if err != nil {
			t.Fatal(err)
		}
		return st.CachedInfo().State.FirstSeq, st.CachedInfo().State.LastSeq
	}
	const n = 20
	for i := range n {
		if err := svc.Publish(ctx, "x", int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for _, err := range sub.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if got++; got == n {
			break
		}
	}
	// two trimming rounds pass: the dead subscriber holds the log
	time.Sleep(2 * es.st.purgeEvery())
	if f, l := first(); f > 1 || l != n {
		t.Fatalf("log trimmed to %d..%d while a subscriber confirmed nothing", f, l)
	}
	if err := svc.Unsubscribe(context.Background(), "x", dead); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "log trimmed to what the live subscriber confirmed", func() bool {
		f, _ := first()
		return f >= n
	})
	// and delivery goes on
	if err := svc.Publish(ctx, "x", "after"); err != nil {
		t.Fatal(err)
	}
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Msg != "after" {
			t.Fatalf("after trimming: got %v", ev.Msg)
		}
		break
	}
}
