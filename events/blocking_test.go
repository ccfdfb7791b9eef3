package events_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/testkit"
)

// stuckSub subscribes a subscription that is never read: its daemon
// stops reading once one event waits in the buffer, so the service's
// queue for it fills once the socket buffers are full.
func stuckSub(t *testing.T, ctx context.Context, es pyro.URI, subjects ...string) *events.Subscription {
	t.Helper()
	s, err := events.Subscribe(ctx, es, subjects, events.WithBuffer(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// A subscriber that never reads makes a blocking publisher wait the
// block timeout once, not at every publish: it is stalled until it takes
// an event again, and its full queue drops at once meanwhile. Before,
// every publish once its queue was full waited the whole timeout (60
// publishes of which some 40 dropped: 40 waits). The active subscriber
// gets every event.
func TestBlockingStalledSubscriberWaitsOnce(t *testing.T) {
	const timeout = 500 * time.Millisecond
	ctx := ctxT(t)
	svc, es := startES(t, events.WithQueue(2, true, timeout))
	stuckSub(t, ctx, es, "s")
	active := sub(t, ctx, es, false, "s")
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	pad := strings.Repeat("x", 256<<10)
	const n = 60
	waited := 0
	got := make(chan int, 1)
	go func() {
		k := 0
		for _, err := range active.Events(ctx) {
			if err != nil {
				break
			}
			if k++; k == n {
				break
			}
		}
		got <- k
	}()
	for range n {
		start := time.Now()
		if err := events.Publish(ctx, p, []string{"s"}, pad); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) >= timeout {
			waited++
		}
	}
	if k := <-got; k != n {
		t.Fatalf("active subscriber got %d of %d events", k, n)
	}
	st := svc.Stats()
	t.Logf("%d publishes waited the block timeout; dropped %d", waited, st.Dropped)
	if st.Dropped < 2 {
		t.Fatalf("dropped %d: the stuck subscriber's queue never filled", st.Dropped)
	}
	if waited > 3 {
		t.Errorf("%d publishes waited the block timeout for one stuck subscriber (%d drops), want one", waited, st.Dropped)
	}
}

// One publish waits the block timeout at most once in all, however many
// of its subjects have full queues. Ten subscribers on a port whose
// listener never accepts (each delivery stays in its connect) have full
// queues of 2, none stalled yet; one publish names their ten subjects.
// Before, it waited once per subscriber (ten timeouts); now once.
func TestBlockingPublishOneTimeout(t *testing.T) {
	const timeout = time.Second
	const k = 10
	ctx := ctxT(t)
	svc, es := startES(t, events.WithQueue(2, true, timeout))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // never accepts
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	var subjects []string
	for i := range k {
		subjects = append(subjects, fmt.Sprint("s", i))
		if _, err := p.Call(ctx, "subscribe", subjects[i], fmt.Sprintf("PYRO:s%d@%s", i, ln.Addr())); err != nil {
			t.Fatal(err)
		}
	}
	queued := func(n int) func() bool {
		return func() bool {
			st := svc.Stats()
			for _, s := range st.Subs {
				if s.Queued != n {
					return false
				}
			}
			return len(st.Subs) == k
		}
	}
	// two events each (the queue holds two: no wait), the first taken
	// into a delivery that never ends, then one more: full, not stalled
	for range 2 {
		if err := events.Publish(ctx, p, subjects, 1); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "every subscriber delivering its first event", queued(1))
	if err := events.Publish(ctx, p, subjects, 2); err != nil {
		t.Fatal(err)
	}
	if !queued(2)() || svc.Stats().Dropped != 0 {
		t.Fatalf("queues not full or events dropped: %+v", svc.Stats())
	}
	start := time.Now()
	if err := events.Publish(ctx, p, subjects, 3); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("one publish of %d subjects with full queues took %v", k, took)
	if took >= k/2*timeout {
		t.Errorf("one publish waited %v for %d full queues, block timeout %v: want it waited once", took, k, timeout)
	}
	if d := svc.Stats().Dropped; d != k {
		t.Errorf("dropped %d, want %d", d, k)
	}
}
