package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// bucketState returns the bucket's message count and bytes.
func bucketState(t *testing.T, st *Store) (uint64, uint64) {
	t.Helper()
	stream, err := st.js.Stream(context.Background(), st.streamName())
	if err != nil {
		t.Fatal(err)
	}
	s := stream.CachedInfo().State
	return s.Msgs, s.Bytes
}

// PurgeDeletes removes the delete markers, and only them: a name
// registered again (at another instance) after its marker was found
// keeps its new registration — jetstream's KeyValue.PurgeDeletes would
// purge the key whole and take it along. Every instance, and one opened
// afterwards, ends with the same registry.
func TestPurgeDeletes(t *testing.T) {
	c := natstest.Start(t, 1)
	spec := c.Spec("purge") + "?purge_deletes=0"
	a, b := openStore(t, spec), openStore(t, spec)
	for i := range 40 {
		name := fmt.Sprint("gone.", i)
		mustPut(t, a, name, "PYRO:x@127.0.0.1:1")
		if _, err := a.Delete(name); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(t, a, "kept", "PYRO:kept@127.0.0.1:1")
	mustPut(t, a, "back", "PYRO:old@127.0.0.1:1")
	if _, err := a.Delete("back"); err != nil {
		t.Fatal(err)
	}
	msgs, bytes := bucketState(t, a)
	if msgs != 42 {
		t.Fatalf("%d messages in the bucket, want 42 (40+1 markers, 1 entry)", msgs)
	}
	ctx := context.Background()
	old, err := a.markers(ctx, 0)
	if err != nil || len(old) != 41 {
		t.Fatalf("markers: %d, %v; want 41", len(old), err)
	}
	// "back" is registered again at b after the scan, before the purge.
	mustPut(t, b, "back", "PYRO:new@127.0.0.1:1")
	n, err := a.purgeMarkers(ctx, old)
	if err != nil || n != 41 {
		t.Fatalf("purgeMarkers: %d, %v", n, err)
	}
	msgs2, bytes2 := bucketState(t, a)
	t.Logf("bucket: %d messages, %d bytes before; %d, %d after", msgs, bytes, msgs2, bytes2)
	if msgs2 != 2 {
		t.Errorf("%d messages after the purge, want 2 (kept, back)", msgs2)
	}
	check := func(who string, s *Store) {
		testkit.Eventually(t, who+" has kept and the new back", func() bool {
			e, ok, _ := s.Get("back")
			n, _ := s.Len()
			_, k, _ := s.Get("kept")
			return ok && k && e.URI == "PYRO:new@127.0.0.1:1" && n == 2
		})
	}
	check("a", a)
	check("b", b)
	check("a new instance", openStore(t, spec))
	// Nothing left to purge; markers younger than the age stay.
	if n, err := a.PurgeDeletes(ctx, 0); err != nil || n != 0 {
		t.Errorf("second purge: %d, %v", n, err)
	}
	if _, err := a.Delete("kept"); err != nil {
		t.Fatal(err)
	}
	if n, err := a.PurgeDeletes(ctx, time.Minute); err != nil || n != 0 {
		t.Errorf("purge of markers older than a while: %d, %v; want the young one kept", n, err)
	}
}

// With purge_deletes set, every instance purges the markers older than
// that age by itself (here 1 s, so every quarter second).
func TestPurgeDeletesPeriodic(t *testing.T) {
	c := natstest.Start(t, 1)
	st := openStore(t, c.Spec("periodic")+"?purge_deletes=1s")
	mustPut(t, st, "kept", "PYRO:kept@127.0.0.1:1")
	for i := range 20 {
		name := fmt.Sprint("gone.", i)
		mustPut(t, st, name, "PYRO:x@127.0.0.1:1")
		if _, err := st.Delete(name); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "the markers purged", func() bool { n, _ := bucketState(t, st); return n == 1 })
	if e, ok, _ := st.Get("kept"); !ok || e.URI != "PYRO:kept@127.0.0.1:1" {
		t.Fatalf("kept: %v %v", e, ok)
	}
}

// resync drops from the cache a name whose removal the watch never
// delivered (its marker purged while the instance was away), keeps what
// the bucket has, and takes in what the cache missed.
func TestResync(t *testing.T) {
	c := natstest.Start(t, 1)
	spec := c.Spec("resync") + "?purge_deletes=0"
	st := openStore(t, spec)
	mustPut(t, st, "kept", "PYRO:kept@127.0.0.1:1")
	// What a watch that missed a removal, and a write, leaves behind.
	st.mu.Lock()
	st.c.put(nameKey("stale"), 1, naming.Entry{Name: "stale", URI: "PYRO:stale@127.0.0.1:1"})
	st.c.unlink(nameKey("kept"))
	st.mu.Unlock()
	if err := st.resync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Get("stale"); ok {
		t.Error("the stale name survived the resync")
	}
	if _, ok, _ := st.Get("kept"); !ok {
		t.Error("the name the cache missed is still missing")
	}
}

// An instance whose watch was away while a removal's marker was purged
// (here its watch stopped, as a lost consumer does) learns of the
// removal once its watch is back: the supervisor restarts the watch, and
// as the watch was away for longer than half of purge_deletes, the cache
// is checked against the bucket.
func TestResyncAfterAway(t *testing.T) {
	c := natstest.Start(t, 1)
	spec := c.Spec("away")
	var rec testkit.LogRecorder
	x, err := Open(spec+"?purge_deletes=2s", WithLogger(rec.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	y := openStore(t, spec+"?purge_deletes=0")
	mustPut(t, y, "gone", "PYRO:gone@127.0.0.1:1")
	testkit.Eventually(t, "x sees gone", func() bool { _, ok, _ := x.Get("gone"); return ok })
	x.watchMu.Lock()
	x.consume.Stop()
	x.watchMu.Unlock()
	// Removed and its marker purged while x's supervisor is paused (on a
	// loaded machine a restart could otherwise come between the removal
	// and the purge, and the new watch would see the marker): the
	// supervisor restarts the watch two checks (4 s) later at the earliest.
	x.checkMu.Lock()
	if _, err := y.Delete("gone"); err != nil {
		x.checkMu.Unlock()
		t.Fatal(err)
	}
	n, err := y.PurgeDeletes(context.Background(), 0)
	x.checkMu.Unlock()
	if err != nil || n != 1 {
		t.Fatalf("PurgeDeletes: %d, %v", n, err)
	}
	mustPut(t, y, "new", "PYRO:new@127.0.0.1:1")
	testkit.Eventually(t, "x drops gone and has new", func() bool {
		_, gone, _ := x.Get("gone")
		_, ok, _ := x.Get("new")
		return !gone && ok
	})
	if len(rec.Find("resync removed")) != 1 {
		t.Errorf("no resync logged: %q", rec.Messages())
	}
}
