package events_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

// TestSubscriptionDropsRepeats: events carrying a "seq" (a durable
// store's) at or below one already received are dropped and counted;
// events without one are all kept.
func TestSubscriptionDropsRepeats(t *testing.T) {
	ctx := ctxT(t)
	_, es := startES(t)
	s := sub(t, ctx, es, false, "x")
	p, err := pyro.NewProxyURI(s.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	send := []int64{1, 2, 2, 1, 3, 0, 0, 4}
	for i, seq := range send {
		d := py.DictOf("subject", "x", "msg", int64(i), "time", 1.0)
		if seq != 0 {
			d.SetString("seq", seq)
		}
		if err := p.Oneway(ctx, "event", d); err != nil {
			t.Fatal(err)
		}
	}
	want := []int64{0, 1, 4, 5, 6, 7} // the messages (indexes) kept
	var got []int64
	for ev, err := range s.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Msg.(int64))
		if len(got) == len(want) {
			break
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("kept %v, want %v", got, want)
		}
	}
	if n := s.Repeats(); n != 2 {
		t.Fatalf("Repeats() = %d, want 2", n)
	}
}

// TestSubscriptionRedeliveryAfterCut: the reader is slow when the
// service's connection is cut with an event in flight; the service sends
// the unconfirmed event again over a new connection, then the next. The
// reader gets each once, in order (the cut connection's call still hands
// its event over: the daemon runs it under its own context, not the
// connection's; the new connection's copy is the repeat).
func TestSubscriptionRedeliveryAfterCut(t *testing.T) {
	ctx := ctxT(t)
	_, es := startES(t)
	s, err := events.Subscribe(ctx, es, []string{"x"}, events.WithBuffer(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	send := func(p *pyro.Proxy, msg string, seq int64) {
		t.Helper()
		if err := p.Oneway(ctx, "event", py.DictOf("subject", "x", "msg", msg, "time", 1.0, "seq", seq)); err != nil {
			t.Fatal(err)
		}
	}
	old, err := pyro.NewProxyURI(s.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	send(old, "a", 1) // fills the buffer
	send(old, "b", 2) // waits for the reader
	// a call on the same connection is read only after 2 was handed over
	old.Close()
	p, err := pyro.NewProxyURI(s.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	send(p, "b", 2)
	send(p, "c", 3)
	var got []string
	for ev, err := range s.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Msg.(string))
		if len(got) == 3 {
			break
		}
	}
	if strings.Join(got, "") != "abc" {
		t.Fatalf("got %v, want [a b c]", got)
	}
	testkit.Eventually(t, "the repeat counted", func() bool { return s.Repeats() == 1 })
}
