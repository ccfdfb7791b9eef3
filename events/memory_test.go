package events_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/py"
)

// heapLive returns the bytes of live heap objects after a collection.
func heapLive() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestQueueBytesBoundHostilePublisher: a publisher sends 1 MiB messages
// on 8 subjects, each with 4 frozen Python subscribers (SIGSTOP: they
// never read again), through the Go service with byte bounds of 4 MiB
// per subscriber and 16 MiB in all. The heap the service keeps stays
// within the bounds (twice the total, plus one in-flight message per
// subscriber and slack), far below what was published, while an active
// Go subscriber to every subject gets every event in order. Without the
// byte bounds (the queues counted in events only) the service kept
// every message: set PYROGO_ES_UNBOUNDED=1 to run the same publisher
// against the old limits and see (the test then only logs).
//
//	go test -run TestQueueBytesBoundHostilePublisher -v ./events
func TestQueueBytesBoundHostilePublisher(t *testing.T) {
	const (
		subjects = 8
		perSubj  = 4
		msgSize  = 1 << 20
		n        = 256
		perSub   = 4 << 20
		total    = 16 << 20
	)
	unbounded := os.Getenv("PYROGO_ES_UNBOUNDED") != ""
	bounds := events.WithQueueBytes(perSub, total)
	if unbounded {
		bounds = events.WithQueueBytes(1<<50, 1<<50)
	}
	ctx := ctxT(t)
	svc, es := goESStarter(t, pytest.PyES{BlockTimeout: 2 * time.Second, Timeout: 10 * time.Minute}, bounds)
	for i := range subjects {
		s := pytest.StartPySubscriber(t, pytest.PySub{ES: es.URI, Subjects: []string{"s" + strconv.Itoa(i)}, Count: perSubj, Quiet: true})
		if err := syscall.Kill(s.Pid(), syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(s.Pid(), syscall.SIGCONT) })
	}
	active, err := events.SubscribeMatch(ctx, es.URI, []string{`s\d`})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = active.Close(context.Background()) })
	// the active subscriber reads everything as it comes
	got := make(chan error, 1)
	go func() {
		k := 0
		for ev, err := range active.Events(ctx) {
			if err != nil {
				got <- fmt.Errorf("after %d events: %w", k, err)
				return
			}
			d := ev.Msg.(*py.Dict)
			seq, _ := d.GetString("seq")
			if seq != int64(k) || ev.Subject != "s"+strconv.Itoa(k%subjects) {
				got <- fmt.Errorf("event %d: %s seq %v", k, ev.Subject, seq)
				return
			}
			k++
			if k == n {
				got <- nil
				return
			}
		}
	}()

	base := heapLive()
	pub, err := pyro.NewProxy(es.URI, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pad := strings.Repeat("x", msgSize)
	for i := range n {
		if err := events.Publish(ctx, pub, []string{"s" + strconv.Itoa(i%subjects)}, map[string]any{"seq": i, "pad": pad}); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-got; err != nil {
		t.Fatalf("active subscriber: %v", err)
	}
	grown := heapLive() - base
	st := svc.Stats()
	t.Logf("published %d MiB to %d frozen subscribers + 1 active: heap grew %.1f MiB, queued %.1f MiB (estimated), dropped %d",
		n*msgSize>>20, subjects*perSubj, float64(grown)/(1<<20), float64(st.QueuedBytes)/(1<<20), st.Dropped)
	if unbounded {
		return
	}
	// the documented bound: twice total plus one message (and its
	// event's overhead) per subscriber
	if b := int64(2*total + (subjects*perSubj+1)*(msgSize+4096)); st.QueuedBytes > b {
		t.Errorf("queued %d bytes, bound %d", st.QueuedBytes, b)
	}
	// queues (≤ 2 × total) + one message being delivered per frozen
	// subscriber (the event and its encoding) + 32 MiB of slack
	limit := int64(2*total + subjects*perSubj*2*msgSize + 32<<20)
	if grown > limit {
		t.Errorf("heap grew by %d MiB, bound %d MiB", grown>>20, limit>>20)
	}
	if st.Dropped == 0 {
		t.Errorf("nothing dropped for %d frozen subscribers", subjects*perSubj)
	}
	if d := st.Subs[active.URI().String()].Dropped; d != 0 {
		t.Errorf("%d events dropped for the active subscriber", d)
	}
}
