package events_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// goFanout measures one Go publisher (one proxy, two-way publish calls)
// through the Go event service at es to subs Go subscriptions
// (events.Subscribe, each its own daemon), n events of size bytes: the
// time from the first publish to the last arrival anywhere.
func goFanout(t testing.TB, es pyro.URI, subs, n, size int) pytest.FanoutResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()
	var ss []*events.Subscription
	for range subs {
		s, err := events.Subscribe(ctx, es, []string{"bench"}, events.WithBuffer(n))
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	defer func() {
		for _, s := range ss {
			_ = s.Close(context.Background())
		}
	}()
	p, err := pyro.NewProxyURI(es, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var last time.Time
	for _, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := 0
			for _, err := range s.Events(ctx) {
				if err != nil {
					t.Errorf("subscriber after %d events: %v", k, err)
					return
				}
				if k++; k == n {
					break
				}
			}
			now := time.Now()
			mu.Lock()
			if now.After(last) {
				last = now
			}
			mu.Unlock()
		}()
	}
	msg := strings.Repeat("m", size)
	start := time.Now()
	for i := range n {
		if _, err := p.Call(ctx, "publish", "bench", msg); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	wg.Wait()
	return pytest.FanoutResult{Target: "go-go", Subs: subs, Events: n, Elapsed: last.Sub(start)}
}

// rawFanout is the ceiling of the machine for the same fan-out without
// Pyro: one goroutine per subscriber connection writes each event
// (length-prefixed) to its TCP connection on loopback, fed by one
// publisher; each reader counts its events.
func rawFanout(t testing.TB, subs, n, size int) pytest.FanoutResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var readers sync.WaitGroup
	var mu sync.Mutex
	var last time.Time
	for range subs {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		readers.Add(1)
		go func() {
			defer readers.Done()
			br := bufio.NewReader(c)
			var hdr [4]byte
			buf := make([]byte, size)
			for range n {
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					t.Error(err)
					return
				}
				if _, err := io.ReadFull(br, buf[:binary.BigEndian.Uint32(hdr[:])]); err != nil {
					t.Error(err)
					return
				}
			}
			now := time.Now()
			mu.Lock()
			if now.After(last) {
				last = now
			}
			mu.Unlock()
		}()
	}
	var queues []chan []byte
	var writers sync.WaitGroup
	for range subs {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		q := make(chan []byte, 1000)
		queues = append(queues, q)
		writers.Add(1)
		go func() {
			defer writers.Done()
			for m := range q {
				if _, err := c.Write(m); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(size))
	msg = append(msg, strings.Repeat("m", size)...)
	start := time.Now()
	for range n {
		for _, q := range queues {
			q <- msg
		}
	}
	for _, q := range queues {
		close(q)
	}
	writers.Wait()
	readers.Wait()
	return pytest.FanoutResult{Target: "raw-tcp", Subs: subs, Events: n, Elapsed: last.Sub(start)}
}

// BenchmarkFanoutGo is the Go-only fan-out as a benchmark: b.N events
// from one Go publisher to 10 Go subscriptions (ns/op is per event
// published and delivered to all ten).
//
//	go test -run '^$' -bench FanoutGo ./events
func BenchmarkFanoutGo(b *testing.B) {
	_, es := startESB(b)
	b.ResetTimer()
	r := goFanout(b, es, 10, b.N, 100)
	b.ReportMetric(float64(r.Events*r.Subs)/r.Elapsed.Seconds(), "deliveries/s")
}

// startESB is startES for a benchmark.
func startESB(b *testing.B) (*events.Service, pyro.URI) {
	b.Helper()
	cfg := pyro.BuiltinConfig()
	d, err := pyro.NewDaemon(cfg, pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		b.Fatal(err)
	}
	svc := events.NewService(cfg)
	u, err := d.Register(svc, events.ObjectID)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Serve(context.Background())
	}()
	b.Cleanup(func() {
		d.Close()
		<-done
		_ = svc.Close()
	})
	return svc, u
}
