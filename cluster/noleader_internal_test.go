package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/naming"
)

// TestWriteWaitsForLeader: after a NATS node of the cluster restarts,
// the bucket's stream answers "no responders" for up to a few seconds
// (measured: up to 5 s) while its replicas settle; jetstream's own
// retries give up after half a second ("no response from stream": a
// flake of TestThreeNameServers, and a registration refused to a client
// for nothing). A write now waits for an answer within the spec's
// timeout: one right after each node's restart succeeds, of the name
// server's bucket and of the event log. Failed before in most rounds
// after the first.
func TestWriteWaitsForLeader(t *testing.T) {
	c := natstest.Start(t, 3)
	st := openStore(t, "nats://"+c.Nodes[0].Addr()+"/noleader?timeout=30s")
	mustPut(t, st, "before", "PYRO:before@127.0.0.1:1")
	es, err := OpenEvents("nats://" + c.Nodes[0].Addr() + "/noleader?timeout=30s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	ev := []events.Event{{Subject: "s", Msg: "m"}}
	for _, i := range []int{0, 1, 2, 0, 1} {
		c.Nodes[i].Stop()
		c.Nodes[i].Restart(t, c)
		start := time.Now()
		uri := "PYRO:after" + c.Nodes[i].Addr() + "@127.0.0.1:1"
		if err := st.Put(naming.Entry{Name: "during", URI: uri}); err != nil {
			t.Fatalf("write right after node %d restarted: %v (after %v)", i, err, time.Since(start))
		}
		t.Logf("write after node %d restarted took %v", i, time.Since(start))
		start = time.Now()
		if err := es.Publish(context.Background(), ev); err != nil {
			t.Fatalf("publish right after node %d restarted: %v (after %v)", i, err, time.Since(start))
		}
		if e, ok, _ := st.Get("during"); !ok || e.URI != uri {
			t.Fatalf("during = %+v %v", e, ok)
		}
	}
}
