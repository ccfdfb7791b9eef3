package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
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
// of its subjects have full queues. Ten stuck subscribers, one per
// subject, are published to by calls naming all ten subjects: their
// queues fill at about the same call. Before, that call waited once per
// subscriber (ten timeouts); now the timeouts waited in all, counted in
// whole timeouts per call, are a few (one per call in which a queue
// first filled).
func TestBlockingPublishOneTimeout(t *testing.T) {
	const timeout = time.Second
	const k = 10
	ctx := ctxT(t)
	svc, es := startES(t, events.WithQueue(2, true, timeout))
	var subjects []string
	for i := range k {
		subjects = append(subjects, fmt.Sprint("s", i))
		stuckSub(t, ctx, es, subjects[i])
	}
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	pad := strings.Repeat("x", 1<<20)
	waits := 0
	for calls := 0; ; calls++ {
		stalled := 0
		for _, st := range svc.Stats().Subs {
			if st.Dropped > 0 {
				stalled++
			}
		}
		if stalled == k {
			t.Logf("%d calls, %d block timeouts waited in all", calls, waits)
			break
		}
		start := time.Now()
		if err := events.Publish(ctx, p, subjects, pad); err != nil {
			t.Fatal(err)
		}
		waits += int(time.Since(start) / timeout)
	}
	if waits > k/2 {
		t.Errorf("publishing waited %d block timeouts for %d stuck subscribers, want one per call", waits, k)
	}
}
