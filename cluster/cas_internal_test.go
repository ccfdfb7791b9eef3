package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// TestSetMetadataNoLostUpdate: one name server registers a name again
// and again with URIs numbered 1, 2, 3, ..., and removes it after every
// third, while two others call set_metadata on it as fast as they can.
// set_metadata changes only the tags, so every write of the name the
// bucket records must carry the URI of the last registration, and
// nothing may bring a removed registration back: a watch of the key
// checks each write. Before, set_metadata read its instance's cache and
// wrote the entry back (last writer wins), so a set_metadata behind the
// registrations put old URIs back and resurrected removed names.
func TestSetMetadataNoLostUpdate(t *testing.T) {
	c := natstest.Start(t, 3) // a replicated bucket: CAS conflicts have their own error code there
	const bucket, name = "cas", "contended"
	nss := startNameServers(t, c, 3, bucket)
	ctx := context.Background()
	raw := openStore(t, c.Spec(bucket))
	w, err := raw.kv.Watch(ctx, nameKey(name), jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	uri := func(i int) string { return fmt.Sprintf("PYRO:o%d@127.0.0.1:%d", i, 1000+i) }
	index := func(u string) int {
		s, _, _ := strings.Cut(strings.TrimPrefix(u, "PYRO:o"), "@")
		i, _ := strconv.Atoi(s)
		return i
	}
	const rounds = 150
	var done atomic.Bool
	var meta [2]atomic.Int64
	var wg sync.WaitGroup
	for j := range 2 {
		p := nsProxy(t, nss[1+j].URI().String())
		wg.Go(func() {
			for k := 0; !done.Load(); k++ {
				_, err := p.Call(ctx, "set_metadata", name, []any{fmt.Sprintf("by%d.%d", j, k)})
				if err != nil && !strings.Contains(err.Error(), "unknown name") {
					t.Errorf("set_metadata at instance %d: %v", 1+j, err)
					return
				}
				if err == nil {
					meta[j].Add(1)
				}
			}
		})
	}
	p := nsProxy(t, nss[0].URI().String())
	for i := 1; i <= rounds; i++ {
		if _, err := p.Call(ctx, "register", name, uri(i)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := p.Call(ctx, "remove", name); err != nil {
				t.Fatal(err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
	if _, err := p.Call(ctx, "register", name, uri(rounds+1)); err != nil { // the watch's end mark
		t.Fatal(err)
	}

	// Replay the writes in bucket order.
	maxSeen, removedUpTo, writes, violations := 0, 0, 0, 0
	for {
		e := testkit.Receive(t, w.Updates(), "the watch's next write")
		if e == nil {
			continue
		}
		writes++
		if e.Operation() != jetstream.KeyValuePut {
			removedUpTo = maxSeen
			continue
		}
		got, err := decodeEntry(e.Value())
		if err != nil {
			t.Fatal(err)
		}
		i := index(got.URI)
		if i == rounds+1 {
			break
		}
		if i < maxSeen || i <= removedUpTo {
			violations++
			if violations <= 5 {
				t.Errorf("revision %d: %s written back (registrations had reached %d, removed up to %d)", e.Revision(), got.URI, maxSeen, removedUpTo)
			}
		}
		maxSeen = max(maxSeen, i)
	}
	t.Logf("%d writes of the name, %d and %d set_metadata calls succeeded", writes, meta[0].Load(), meta[1].Load())
	if violations > 0 {
		t.Fatalf("%d lost updates", violations)
	}
	if meta[0].Load()+meta[1].Load() == 0 {
		t.Fatal("no set_metadata succeeded: nothing was contended")
	}
	// Every instance ends with the last registration.
	for i, s := range nss {
		px := nsProxy(t, s.URI().String())
		testkit.Eventually(t, fmt.Sprintf("instance %d has the last registration", i), func() bool {
			u, err := lookupURI(ctx, px, name)
			return err == nil && u == uri(rounds+1)
		})
	}
}
