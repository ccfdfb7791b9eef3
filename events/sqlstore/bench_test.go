package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/events/sqlstore"
)

// BenchmarkPublish measures publishes per second into a Service with
// the memory store and with sql:FILE, for 1 and 10 Go subscribers (each
// a Subscription over loopback), counting until every subscriber got
// every event. The publish is called in-process, so the figure is the
// service's own cost (the store's transaction per publish included),
// not a client's round trip.
//
//	go test -run '^$' -bench BenchmarkPublish -benchtime 2000x ./events/sqlstore
func BenchmarkPublish(b *testing.B) {
	for _, store := range []string{"memory", "sql"} {
		for _, n := range []int{1, 10} {
			b.Run(fmt.Sprintf("%s/subs=%d", store, n), func(b *testing.B) {
				benchPublish(b, store, n)
			})
		}
	}
}

func benchPublish(b *testing.B, store string, nSubs int) {
	var st events.Store = events.NewMemoryStore()
	if store == "sql" {
		s, err := sqlstore.Open(filepath.Join(b.TempDir(), "es.db"))
		if err != nil {
			b.Fatal(err)
		}
		st = s
	}
	cfg := pyro.BuiltinConfig()
	d, err := pyro.NewDaemon(cfg, pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		b.Fatal(err)
	}
	svc := events.NewService(cfg, events.WithStore(st))
	u, err := d.Register(svc, events.ObjectID)
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = d.Serve(context.Background())
	}()
	defer func() {
		d.Close()
		<-served
		svc.Close()
	}()
	ctx := context.Background()
	var wg sync.WaitGroup
	subs := make([]*events.Subscription, nSubs)
	for i := range subs {
		s, err := events.Subscribe(ctx, u, []string{"bench"}, events.WithBuffer(1000))
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = s
		defer s.Close(ctx)
	}
	b.ResetTimer()
	for _, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := 0
			for _, err := range s.Events(ctx) {
				if err != nil {
					return
				}
				if got++; got == b.N {
					return
				}
			}
		}()
	}
	msg := map[string]any{"value": 21.5, "unit": "C"}
	for range b.N {
		if err := svc.Publish(ctx, "bench", msg); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
