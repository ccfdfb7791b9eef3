package naming

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
)

// BenchmarkLookup measures lookup() round trips per second against the
// Go name server and against pyro4-ns, in the same run, with 1 client and
// with 32 clients (32 proxies, each used by its own goroutine). Compare
// the lookups/s metrics:
//
//	go test -run '^$' -bench Lookup ./naming
func BenchmarkLookup(b *testing.B) {
	goNS := startNS(b, nil).URI()
	pyNS := startPyNS(b)
	for _, ns := range []struct {
		name string
		uri  pyro.URI
	}{{"go-ns", goNS}, {"pyro4-ns", pyNS}} {
		c := nsClient(b, ns.uri.String())
		if err := c.Register(context.Background(), "bench.target", "PYRO:obj@127.0.0.1:1", false, []string{"a"}); err != nil {
			b.Fatal(err)
		}
		for _, clients := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/clients=%d", ns.name, clients), func(b *testing.B) {
				benchLookups(b, ns.uri, clients)
			})
		}
	}
}

func benchLookups(b *testing.B, ns pyro.URI, clients int) {
	proxies := make([]*pyro.Proxy, clients)
	for i := range proxies {
		p, err := pyro.NewProxy(ns.String(), testConfig(), pyro.WithMaxConns(1))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		if _, err := p.Call(context.Background(), "ping"); err != nil {
			b.Fatal(err)
		}
		proxies[i] = p
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, p := range proxies {
		n := b.N / clients
		if i < b.N%clients {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for range n {
				if _, err := p.Call(ctx, "lookup", "bench.target"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lookups/s")
}

// BenchmarkLargeRegistry registers 100,000 names in the Go name server
// with the memory storage (over the wire, 32 clients), then times list()
// with a prefix, a regex and a metadata filter, over the wire and
// in-process (filtering only, no encoding).
func BenchmarkLargeRegistry(b *testing.B) {
	const names = 100000
	s := startNS(b, nil)
	const clients = 32
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		p, err := pyro.NewProxy(s.URI().String(), testConfig(), pyro.WithMaxConns(1))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		c := NewClient(p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < names; i += clients {
				tags := []string{"group:" + strconv.Itoa(i%100)}
				if err := c.Register(context.Background(), "bench."+strconv.Itoa(i), "PYRO:obj_"+strconv.Itoa(i)+"@127.0.0.1:1234", false, tags); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.Logf("registered %d names in %v (%.0f registrations/s, 32 clients)", names, time.Since(start).Round(time.Millisecond), names/time.Since(start).Seconds())
	c := nsClient(b, s.URI().String())
	for _, tc := range []struct {
		name  string
		f     Filter
		count int
	}{
		{"prefix", Filter{Prefix: "bench.1"}, 11111},
		{"regex", Filter{Regex: `bench\.\d*7$`}, 10000},
		{"regex-nomatch", Filter{Regex: `(a+)+$`}, 0},
		{"metadata-any", Filter{MetadataAny: []string{"group:7"}}, 1000},
		{"all", Filter{}, names + 1},
	} {
		b.Run("wire/"+tc.name, func(b *testing.B) {
			for range b.N {
				regs, err := c.List(context.Background(), tc.f)
				if err != nil || len(regs) != tc.count {
					b.Fatalf("%d results, %v", len(regs), err)
				}
			}
		})
		b.Run("inprocess/"+tc.name, func(b *testing.B) {
			kw := []any{nil, nil, nil, nil}
			switch {
			case tc.f.Prefix != "":
				kw[0] = tc.f.Prefix
			case tc.f.Regex != "":
				kw[1] = tc.f.Regex
			case tc.f.MetadataAny != nil:
				kw[3] = tagList(tc.f.MetadataAny)
			}
			for range b.N {
				d, err := s.NameServer().List(context.Background(), kw...)
				if err != nil || d.Len() != tc.count {
					b.Fatalf("%d results, %v", d.Len(), err)
				}
			}
		})
	}
}
