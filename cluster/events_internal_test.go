package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
}

// startEventServer starts an event server on name of c, preferring
// node i.
func startEventServer(t *testing.T, c *natstest.Cluster, i int, name string) *esInstance {
	t.Helper()
	st, err := OpenEvents(rotated(c, i, name), WithLease(testLease))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := events.Start(nil, events.WithStore(st), events.WithServerHost("127.0.0.1"),
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
