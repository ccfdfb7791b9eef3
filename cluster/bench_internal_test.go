package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/naming"
	"github.com/pyrogo/pyro/naming/sqlstore"
)

// benchSetup starts the name servers of one benchmark case and returns a
// proxy for each instance.
type benchSetup struct {
	name      string
	instances int
	open      func(b *testing.B, i int) naming.Storage
}

// benchCases are the storages compared side by side: memory (one
// instance: it cannot be shared), sql:FILE (one file, one or three name
// servers on it), nats:// (one name server on a one-node server, three on
// a three-node cluster, each connected to its own node first).
func benchCases() []benchSetup {
	var sqlPath string
	var c *natstest.Cluster
	sqlOpen := func(b *testing.B, i int) naming.Storage {
		if i == 0 {
			sqlPath = filepath.Join(b.TempDir(), "ns.db")
		}
		st, err := sqlstore.Open(sqlPath)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	natsOpen := func(nodes int) func(b *testing.B, i int) naming.Storage {
		return func(b *testing.B, i int) naming.Storage {
			if i == 0 {
				c = natstest.Start(b, nodes)
			}
			st, err := Open(rotated(c, i, "bench"))
			if err != nil {
				b.Fatal(err)
			}
			return st
		}
	}
	return []benchSetup{
		{"memory-1", 1, func(*testing.B, int) naming.Storage { return naming.NewMemoryStorage() }},
		{"sql-1", 1, sqlOpen},
		{"sql-3", 3, sqlOpen},
		{"nats-1", 1, natsOpen(1)},
		{"nats-3", 3, natsOpen(3)},
	}
}

// start starts the case's name servers with 1000 registrations.
func (bs benchSetup) start(b *testing.B) []*pyro.Proxy {
	b.Helper()
	var px []*pyro.Proxy
	for i := range bs.instances {
		st := bs.open(b, i)
		srv, err := naming.Start(pyro.BuiltinConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0),
			naming.WithStorage(st), naming.WithBroadcast(false))
		if err != nil {
			st.Close()
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Close() })
		px = append(px, nsProxy(b, srv.URI().String()))
	}
	ctx := context.Background()
	for i := range 1000 {
		if _, err := px[0].Call(ctx, "register", fmt.Sprintf("bench.%04d", i), fmt.Sprintf("PYRO:o%d@127.0.0.1:1", i)); err != nil {
			b.Fatal(err)
		}
	}
	last := px[len(px)-1]
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := lookupURI(ctx, last, "bench.0999"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the last instance never saw the registrations")
		}
		time.Sleep(time.Millisecond)
	}
	return px
}

// BenchmarkNSLookup is lookups through Pyro proxies, 4 in parallel per
// instance, spread over every instance: lookups/s for the whole set of
// name servers.
//
//	go test -run '^$' -bench 'NSLookup|NSRegisterVisible' -benchtime 2000x ./cluster/
func BenchmarkNSLookup(b *testing.B) {
	for _, bs := range benchCases() {
		b.Run(bs.name, func(b *testing.B) {
			px := bs.start(b)
			ctx := context.Background()
			b.SetParallelism(4 * len(px))
			var next int64
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				p, err := pyro.NewProxy(px[int(next)%len(px)].URI().String(), nil)
				next++
				if err != nil {
					b.Error(err)
					return
				}
				defer p.Close()
				i := 0
				for pb.Next() {
					if _, err := p.Call(ctx, "lookup", fmt.Sprintf("bench.%04d", i%1000)); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
		})
	}
}

// BenchmarkNSRegisterVisible is the delay from a register call on the
// first instance to the name resolving on the last one (the same one
// with a single instance): the registration's round trip plus the
// propagation, polled with lookups through a proxy.
func BenchmarkNSRegisterVisible(b *testing.B) {
	for _, bs := range benchCases() {
		b.Run(bs.name, func(b *testing.B) {
			px := bs.start(b)
			first, last := px[0], px[len(px)-1]
			ctx := context.Background()
			var total time.Duration
			b.ResetTimer()
			for i := range b.N {
				name := fmt.Sprintf("visible.%d", i)
				t0 := time.Now()
				if _, err := first.Call(ctx, "register", name, "PYRO:v@127.0.0.1:1"); err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := lookupURI(ctx, last, name); err == nil {
						break
					}
				}
				total += time.Since(t0)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs-to-visible")
			b.ReportMetric(0, "ns/op")
		})
	}
}
