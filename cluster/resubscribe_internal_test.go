package cluster

import (
	"context"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/natstest"
)

// TestAttackRepeatedSubscribeNoWrite: a client that repeats a subscribe
// it already made (same subjects, same subscriber, at the instance that
// delivers to it) makes no write to the subscriber bucket. Before, each
// call rewrote the record: a replicated write, and a watch update that
// every instance applied and reconciled, for a call that changes nothing.
func TestAttackRepeatedSubscribeNoWrite(t *testing.T) {
	c := natstest.Start(t, 1)
	st, err := OpenEvents(c.Spec("resubscribe"), WithLease(testLease))
	if err != nil {
		t.Fatal(err)
	}
	svc := events.NewService(nil, events.WithStore(st))
	defer svc.Close()
	ctx := context.Background()
	const uri = "PYRO:resub@127.0.0.1:1"
	u, err := pyro.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	key := subKey(u.String())
	rev := func() uint64 {
		t.Helper()
		e, err := st.kv.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return e.Revision()
	}
	if err := svc.Subscribe(ctx, []any{"a", "b"}, uri); err != nil {
		t.Fatal(err)
	}
	before := rev()
	for range 20 {
		if err := svc.Subscribe(ctx, []any{"b", "a"}, uri); err != nil {
			t.Fatal(err)
		}
	}
	if got := rev(); got != before {
		t.Fatalf("20 repeated subscribes moved the subscriber record from revision %d to %d: each one wrote it", before, got)
	}
	// a new subject is still written
	if err := svc.Subscribe(ctx, "c", uri); err != nil {
		t.Fatal(err)
	}
	if got := rev(); got == before {
		t.Fatalf("a subscribe of a new subject did not write the record (revision %d)", got)
	}
}
