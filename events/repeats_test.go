package events_test

import (
	"testing"

	"github.com/pyrogo/pyro"
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
