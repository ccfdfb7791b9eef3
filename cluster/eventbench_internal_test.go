package cluster

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/events/sqlstore"
	"github.com/pyrogo/pyro/internal/natstest"
)

// BenchmarkES measures an event server's publishes per second and
// deliveries per second with the memory store, sql:FILE and the nats://
// event store (a three-node embedded NATS cluster) with one and with
// three instances. Ten Go subscriptions (over loopback) are spread over
// the instances; the publishes go round-robin to the instances, called
// in-process one after the other (so publishes/s is one publisher's rate:
// one store transaction or JetStream acknowledgement per publish);
// deliveries/s counts every event at every subscription until the last
// one arrived.
//
//	go test -run '^$' -bench BenchmarkES -benchtime 2000x ./cluster
func BenchmarkES(b *testing.B) {
	for _, store := range []string{"memory", "sql", "nats/1", "nats/3"} {
		b.Run(store, func(b *testing.B) { benchES(b, store) })
	}
}

func benchES(b *testing.B, store string) {
	var svcs []*events.Service
	var stores []*EventStore
	var uris []pyro.URI
	var c *natstest.Cluster
	instances := 1
	switch store {
	case "nats/1":
		c = natstest.Start(b, 3)
	case "nats/3":
		c = natstest.Start(b, 3)
		instances = 3
	}
	for i := range instances {
		var st events.Store
		switch store {
		case "memory":
			st = events.NewMemoryStore()
		case "sql":
			s, err := sqlstore.Open(filepath.Join(b.TempDir(), "es.db"))
			if err != nil {
				b.Fatal(err)
			}
			st = s
		default:
			s, err := OpenEvents(rotated(c, i, "bench"))
			if err != nil {
				b.Fatal(err)
			}
			st = s
			stores = append(stores, s)
		}
		srv, err := events.Start(nil, events.WithStore(st), events.WithServerHost("127.0.0.1"))
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		svcs = append(svcs, srv.Service())
		uris = append(uris, srv.URI())
	}
	ctx := context.Background()
	const nSubs = 10
	var wg sync.WaitGroup
	subs := make([]*events.Subscription, nSubs)
	for i := range subs {
		s, err := events.Subscribe(ctx, uris[i%instances], []string{"bench"}, events.WithBuffer(1000))
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = s
		defer s.Close(ctx)
	}
	b.ResetTimer()
	for _, s := range subs {
		wg.Go(func() {
			got := 0
			for _, err := range s.Events(ctx) {
				if err != nil {
					return
				}
				if got++; got == b.N {
					return
				}
			}
		})
	}
	msg := map[string]any{"value": 21.5, "unit": "C"}
	start := time.Now()
	for i := range b.N {
		if err := svcs[i%instances].Publish(ctx, "bench", msg); err != nil {
			b.Fatal(err)
		}
	}
	published := time.Since(start)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/published.Seconds(), "publishes/s")
	b.ReportMetric(float64(b.N*nSubs)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(0, "ns/op")
	if len(stores) > 0 { // the subscribers' cursors written to the bucket
		var acks, writes int64
		for _, s := range stores {
			acks += s.ackCalls.Load()
			writes += s.ackWrites.Load()
		}
		b.ReportMetric(float64(acks)/float64(b.N*nSubs), "acks/delivery")
		b.ReportMetric(float64(writes)/float64(b.N*nSubs), "cursor-writes/delivery")
	}
}
