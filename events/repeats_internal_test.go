package events

import (
	"context"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/py"
)

// evDict is an event as the service sends it.
func evDict(msg string, seq int64) *py.Dict {
	return py.DictOf("subject", "x", "msg", msg, "time", 1.0, "seq", seq)
}

// TestSubscriptionRepeatFilterRecordsHandedOver: an event call that
// ends before its event reached the reader (the reader is slow, the call
// is abandoned) must not record the event's seq, so that the service's
// redelivery of it (it was not confirmed) is taken and not dropped as a
// repeat. Before, the seq was recorded first and the redelivery lost.
func TestSubscriptionRepeatFilterRecordsHandedOver(t *testing.T) {
	s := newSubscription(nil, 1, nil)
	k := &sink{sub: s}
	bg := context.Background()
	if err := k.Event(bg, evDict("a", 1)); err != nil { // fills the buffer
		t.Fatal(err)
	}
	// the reader is slow: event 2 waits for room until its call ends
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- k.Event(ctx, evDict("b", 2)) }()
	time.Sleep(20 * time.Millisecond) // let it block (the test holds either way)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testbound.Scale(10 * time.Second)):
		t.Fatal("an event call did not end with its context")
	}
	// the service sends 2 again, then 3
	go func() {
		_ = k.Event(bg, evDict("b", 2))
		_ = k.Event(bg, evDict("c", 3))
	}()
	var got []string
	for range 3 {
		select {
		case e := <-s.ch:
			got = append(got, e.Msg.(string))
		case <-time.After(testbound.Scale(10 * time.Second)):
			t.Fatalf("got %v, then nothing: the redelivered event was dropped as a repeat (repeats %d)", got, s.Repeats())
		}
	}
	if got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("got %v, want [a b c]", got)
	}
	if n := s.Repeats(); n != 0 {
		t.Fatalf("Repeats() = %d, want 0", n)
	}
}

// TestSubscriptionRepeatFilterTwoConnections: two calls at once (the
// service delivering over two connections, as after a takeover) hand
// over one at a time: a call waiting for its turn while another's event
// waits for the reader ends with its context, and the events reach the
// reader in increasing seq, each once.
func TestSubscriptionRepeatFilterTwoConnections(t *testing.T) {
	s := newSubscription(nil, 1, nil)
	k := &sink{sub: s}
	bg := context.Background()
	if err := k.Event(bg, evDict("a", 1)); err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	go func() { // the old connection: its event 2 waits for the reader
		defer close(first)
		_ = k.Event(bg, evDict("b", 2))
	}()
	// the new connection: abandoned while waiting for its turn
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	_ = k.Event(ctx, evDict("b", 2))
	second := make(chan struct{})
	go func() { // then it sends 2 again and 3
		defer close(second)
		_ = k.Event(bg, evDict("b", 2))
		_ = k.Event(bg, evDict("c", 3))
	}()
	var got []uint64
	for range 3 {
		select {
		case e := <-s.ch:
			got = append(got, e.Seq)
		case <-time.After(testbound.Scale(10 * time.Second)):
			t.Fatalf("got seqs %v, then nothing", got)
		}
	}
	<-first
	<-second
	if got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("got seqs %v, want [1 2 3]", got)
	}
	if n := s.Repeats(); n != 1 {
		t.Fatalf("Repeats() = %d, want 1", n)
	}
	select {
	case e := <-s.ch:
		t.Fatalf("an extra event %+v", e)
	default:
	}
}
