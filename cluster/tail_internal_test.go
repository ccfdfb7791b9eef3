package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// TestEventReadTailSwitch: a Read that follows the instance's tail is
// slow for a while (its fn takes 40 ms an event for the first 24
// events) while 64 events of 8 KiB are published, with a tail window of
// 160 KiB: the window moves past it, it reads on with a consumer of its
// own, catches up and joins the tail again. One message its own consumer
// delivers is lost on its way: its gap check ends that Read with an
// error, and the Read started again after the last event it took reads
// on. It gets every event once, in order, with its seq; once back on
// the tail, 16 more events come without a consumer of its own.
func TestEventReadTailSwitch(t *testing.T) {
	c := natstest.Start(t, 1)
	es := startFlowServer(t, c.Spec("switch"), []Option{func(o *options) { o.tailWindow = 160 << 10 }})
	st := es.st
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()
	testkit.Eventually(t, "the tail at the log's end", func() bool { return st.tail.covers(0) })

	const slow, n, more = 24, 64, 16
	// the third message its own consumer delivers, once, is lost on its
	// way
	var lostOwn atomic.Uint64
	hook := func(tail bool, streamSeq, consumerSeq uint64) bool {
		return tail || consumerSeq != 3 || !lostOwn.CompareAndSwap(0, streamSeq)
	}
	readHook.Store(&hook)
	defer readHook.Store(nil)

	var mu sync.Mutex
	var msgs []string
	var last uint64
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(msgs)
	}
	readErrs := 0
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for ctx.Err() == nil {
			mu.Lock()
			after := last
			mu.Unlock()
			err := st.Read(ctx, after, func(s events.Stored) bool {
				mu.Lock()
				defer mu.Unlock()
				if s.Seq <= last || s.Event.Seq != s.Seq {
					msgs = append(msgs, fmt.Sprintf("bad seq %d after %d", s.Seq, last))
				}
				last = s.Seq
				m := s.Event.Msg.(string)
				if !strings.HasPrefix(m, fmt.Sprintf("0:%d:", len(msgs))) {
					cancel() // lost, repeated or out of order: checkAll says which
				}
				msgs = append(msgs, m)
				if len(msgs) <= slow {
					time.Sleep(40 * time.Millisecond)
				}
				return len(msgs) < n+more
			})
			if err != nil {
				readErrs++
				t.Logf("read: %v", err)
				continue
			}
			if count() >= n+more {
				return
			}
		}
	}()
	checkRead := func() {
		<-readDone
		mu.Lock()
		got := append([]string(nil), msgs...)
		mu.Unlock()
		for i, m := range got {
			if j := strings.LastIndexByte(m, ':'); j > 0 {
				got[i] = m[:j]
			}
		}
		checkAll(t, "the Read", got, 1, n+more)
	}
	pad := strings.Repeat("x", 8<<10)
	for i := range n {
		if err := st.Publish(ctx, []events.Event{{Subject: "s", Time: 1, Msg: fmt.Sprintf("0:%d:%s", i, pad)}}); err != nil {
			if ctx.Err() != nil {
				checkRead()
			}
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "the first events read", func() bool { return count() >= n || ctx.Err() != nil })
	testkit.Eventually(t, "the Read back on the tail", func() bool { return st.tail.joins.Load() > 0 || ctx.Err() != nil })
	if ctx.Err() != nil {
		checkRead()
	}
	owned := st.readConsumers.Load()
	for i := n; i < n+more; i++ {
		if err := st.Publish(ctx, []events.Event{{Subject: "s", Time: 1, Msg: fmt.Sprintf("0:%d:%s", i, pad)}}); err != nil {
			if ctx.Err() != nil {
				checkRead()
			}
			t.Fatal(err)
		}
	}
	checkRead()
	falls, joins := st.tail.falls.Load(), st.tail.joins.Load()
	t.Logf("left the tail %d times, joined it %d times; %d consumers of its own; %d failed reads (message %d lost once)",
		falls, joins, st.readConsumers.Load(), readErrs, lostOwn.Load())
	if falls == 0 || joins == 0 {
		t.Fatalf("the slow Read left the tail %d times and joined it %d times, want both", falls, joins)
	}
	if lostOwn.Load() == 0 || readErrs == 0 {
		t.Fatalf("no message lost on the Read's own consumer (%d) or no failed read (%d)", lostOwn.Load(), readErrs)
	}
	if now := st.readConsumers.Load(); now != owned {
		t.Fatalf("the Read back on the tail created %d consumers for the last %d events", now-owned, more)
	}
}
