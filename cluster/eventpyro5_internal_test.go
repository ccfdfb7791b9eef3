package cluster

import (
	"context"
	"testing"

	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// TestEventServerPyro5Subscriber: a Python Pyro5 subscriber subscribed
// at instance A of two event servers sharing a NATS store gets the
// events published at instance B, in order, each with a "seq"; once A
// is stopped (a clean Close), B delivers the rest from the subscriber's
// last confirmed event: every event arrives, first copies in order, a
// repeat with its first copy's seq.
func TestEventServerPyro5Subscriber(t *testing.T) {
	c := natstest.Start(t, 1)
	a := startEventServer(t, c, 0, "pyro5")
	b := startEventServer(t, c, 0, "pyro5")
	psub := pytest.StartPySubscriber(t, pytest.PySub{ES: a.srv.URI().String(), Pyro5: true, Subjects: []string{"lab.py5"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*testkit.Bound())
	defer cancel()
	const n = 30
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := events.Publish(ctx, b.srv.URI(), []string{"Lab.Py5"}, map[string]any{"p": 0, "seq": i}); err != nil {
				t.Fatalf("publish %d at B: %v", i, err)
			}
		}
	}
	// check returns the events' seqs by message index, failing unless
	// messages 0..want-1 all arrived, first copies in order with
	// increasing seqs, repeats with their first copy's seq
	check := func(evs []pytest.Event, want int) map[int]uint64 {
		t.Helper()
		first := map[int]uint64{}
		last := -1
		var lastSeq uint64
		for _, ev := range evs {
			p, i, ok := msgKey(ev.Msg)
			if !ok || p != 0 || ev.Subject != "Lab.Py5" {
				t.Fatalf("unexpected event %+v", ev)
			}
			if s, dup := first[i]; dup {
				if s != ev.EvSeq {
					t.Fatalf("repeat of event %d has seq %d, its first copy %d", i, ev.EvSeq, s)
				}
				continue
			}
			if i != last+1 || ev.EvSeq <= lastSeq {
				t.Fatalf("event %d (seq %d) after event %d (seq %d): lost or out of order", i, ev.EvSeq, last, lastSeq)
			}
			first[i], last, lastSeq = ev.EvSeq, i, ev.EvSeq
		}
		if last != want-1 {
			t.Fatalf("got events up to %d, want %d", last, want-1)
		}
		return first
	}
	publish(0, n)
	check(psub.WaitEvents(t, n), n)
	if _, ok := b.srv.Service().Stats().Subs[psub.URIs[0]]; ok {
		t.Fatal("B delivers to the subscriber while A runs")
	}

	a.srv.Close() // removes A's heartbeat: B takes the subscriber over at once
	publish(n, 2*n)
	var evs []pytest.Event
	eventually(t, "every event at the Pyro5 subscriber after A stopped", func() bool {
		evs = psub.Events(t)
		seen := map[int]bool{}
		for _, ev := range evs {
			if _, i, ok := msgKey(ev.Msg); ok {
				seen[i] = true
			}
		}
		return len(seen) == 2*n
	})
	check(evs, 2*n)
	if _, ok := b.srv.Service().Stats().Subs[psub.URIs[0]]; !ok {
		t.Fatalf("B does not deliver to the subscriber %s: %+v", psub.URIs[0], b.srv.Service().Stats().Subs)
	}
	t.Logf("Pyro5 subscriber: %d events for %d published (repeats after the takeover: %d)", len(evs), 2*n, len(evs)-2*n)
}
