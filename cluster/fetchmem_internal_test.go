package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// heapBytes returns the bytes of live and not yet collected heap
// objects (after a collection with gc).
func heapBytes(gc bool) uint64 {
	if gc {
		runtime.GC()
	}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// stuckListener accepts connections and never answers on them (a
// subscriber whose daemon hangs): deliveries to it wait for their
// timeout. Its connections are closed at the end of the test.
func stuckListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// fetchMemSubscribers is the number of stuck subscribers of
// TestEventFetchMemory (PYROGO_FETCHMEM_SUBS overrides it, for the
// figure in SECURITY.md).
func fetchMemSubscribers() int {
	if n, err := strconv.Atoi(os.Getenv("PYROGO_FETCHMEM_SUBS")); err == nil && n > 0 {
		return n
	}
	return 200
}

// TestEventFetchMemory: hundreds of subscribers whose deliveries hang
// (queues of one event) and a burst of 64 KiB events. Each subscriber's
// reader fetches up to 16 messages at once; before, a reader whose queue
// was full kept its fetched messages while it waited for room, so every
// stuck subscriber held a fetch (1 MiB here, up to 2 MiB): the heap grew
// by about 1 MiB per subscriber and stayed there. Now a reader stops at a
// full queue and gives its fetch back, and the fetches in flight are
// bounded by the instance's fetch budget; another subscriber is served
// meanwhile. The heap's growth is measured with runtime/metrics, at its
// peak during the burst and after it settled; the bound asserted is the
// stuck queues' own events (2 per subscriber, decoded) plus the budget
// and 24 MiB of slack, far below a fetch per subscriber. It runs with
// the instance's tail (readers that caught up share its window and
// decoded events), and with a tail window of one byte, which keeps no
// message: every reader then reads with a consumer of its own, as before
// the tail.
func TestEventFetchMemory(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window int64
	}{{"tail", 0}, {"own consumers", 1}} {
		t.Run(tc.name, func(t *testing.T) { testEventFetchMemory(t, tc.window) })
	}
}

func testEventFetchMemory(t *testing.T, window int64) {
	nSubs := fetchMemSubscribers()
	const evSize, nEvents = 64 << 10, 16
	c := natstest.Start(t, 1)
	budget := int64(DefaultFetchBudget)
	if v, err := strconv.ParseInt(os.Getenv("PYROGO_FETCHMEM_BUDGET"), 10, 64); err == nil && v > 0 {
		budget = v
	}
	es := startFlowServer(t, c.Spec("mem"), []Option{WithFetchBudget(budget), func(o *options) { o.tailWindow = window }},
		events.WithQueue(1, true, 10*time.Second), events.WithMaxSubscribers(nSubs+1))
	svc := es.srv.Service()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()

	addr := stuckListener(t)
	for i := range nSubs {
		if err := svc.Subscribe(ctx, "big", fmt.Sprintf("PYRO:stuck%d@%s", i, addr)); err != nil {
			t.Fatal(err)
		}
	}
	honest, err := events.Subscribe(ctx, es.srv.URI(), []string{"big"}, events.WithBuffer(nEvents+1))
	if err != nil {
		t.Fatal(err)
	}
	defer honest.Close(context.Background())

	base := heapBytes(true)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the heap's peak while the readers fetch
		defer close(sampled)
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if h := heapBytes(false); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	}()
	got := collect(ctx, honest, nEvents)
	pad := strings.Repeat("x", evSize-16)
	for i := range nEvents {
		if err := svc.Publish(ctx, "big", fmt.Sprintf("0:%d:%s", i, pad)); err != nil {
			t.Fatal(err)
		}
	}
	// the honest subscriber gets every event while the others hang
	msgs := got.waitUnpadded(ctx)
	checkAll(t, "the subscriber that answers", msgs, 1, nEvents)
	// every stuck subscriber has its queue full: its reader got there
	testkit.Eventually(t, "every stuck subscriber's queue full", func() bool {
		n := 0
		for k, s := range svc.Stats().Subs {
			if strings.Contains(k, "stuck") && s.Queued > 0 {
				n++
			}
		}
		return n == nSubs
	})
	time.Sleep(500 * time.Millisecond) // readers that fetched more settle
	close(stop)
	<-sampled
	settled := heapBytes(true)
	used, bpeak := es.st.budget.stats()
	grow := func(h uint64) float64 { return float64(int64(h)-int64(base)) / (1 << 20) }
	t.Logf("%d stuck subscribers, %d events of %d KiB, fetch budget %d MiB, tail window %d: heap %.1f MiB before, growth %.1f MiB at the peak, %.1f MiB settled; budget held now %d, at most %.1f MiB; consumers of readers %d",
		nSubs, nEvents, evSize>>10, budget>>20, es.st.tailWindow, float64(base)/(1<<20), grow(peak.Load()), grow(settled), used, float64(bpeak)/(1<<20), es.st.readConsumers.Load())
	bound := float64(int64(2*nSubs*2*evSize)+budget)/(1<<20) + 24 // decoded strings take about twice their bytes
	if grow(settled) > bound {
		t.Fatalf("heap grew by %.1f MiB with %d stuck subscribers (bound %.1f MiB): their readers hold what they fetched", grow(settled), nSubs, bound)
	}
	if used != es.st.tail.reserved { // the tail's window and fetch, taken at Attach
		t.Fatalf("the fetch budget holds %d bytes while every reader waits for its queue (the tail's %d)", used, es.st.tail.reserved)
	}
}
