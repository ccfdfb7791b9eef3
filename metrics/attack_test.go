package metrics_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	pmetrics "github.com/pyrogo/pyro/metrics"
)

// rawScrape sends one raw request to the metrics server and returns the
// status code.
func rawScrape(t *testing.T, addr, req string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, bound)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(bound))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%.60q: %v", req, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestAttackScrapes: whoever reaches the metrics port floods it with
// scrapes (at most 4 run at once, the rest get 503 at once), holds a
// thousand idle or half-sent connections, sends huge headers or other
// methods and paths; every answer is a plain status, and a scrape made
// during the attack is answered 200.
func TestAttackScrapes(t *testing.T) {
	reg := pmetrics.New()
	url := serveMetrics(t, reg)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), pmetrics.Path)
	honest := func() {
		t.Helper()
		if s := rawScrape(t, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); s != 200 {
			t.Errorf("honest scrape: %d", s)
		}
	}
	// a flood of concurrent scrapes
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for range 64 {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, bound)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(bound))
			io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("64 concurrent scrapes: %v", counts)
	for s := range counts {
		if s != 200 && s != 503 {
			t.Errorf("a scrape answered %d", s)
		}
	}
	honest()
	// odd requests
	for req, want := range map[string]int{
		"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n":                         405,
		"GET /metrics/../debug/pprof/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":                               307, // the mux's redirect to the clean path, which is 404
		"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":                                          404,
		"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("h", 64<<10) + "\r\nConnection: close\r\n\r\n": 431,
	} {
		if got := rawScrape(t, addr, req); got != want {
			t.Errorf("%.50q: %d, want %d", req, got, want)
		}
	}
	// a thousand connections that never finish their request
	runtime.GC()
	before, gBefore := heapInUse(), runtime.NumGoroutine()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	const held = 1000
	for i := range held {
		c, err := net.DialTimeout("tcp", addr, bound)
		if err != nil {
			t.Logf("connection %d: %v (the process's descriptor limit)", i, err)
			break
		}
		conns = append(conns, c)
		if i%2 == 0 {
			io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		}
	}
	honest()
	for deadline := time.Now().Add(testbound.Scale(10 * time.Second)); runtime.NumGoroutine()-gBefore < len(conns) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	grown := int64(heapInUse()) - int64(before)
	t.Logf("%d held connections: %d more goroutines, heap in use grew by %.1f MiB (%.1f KiB each); cut off after ReadHeaderTimeout (10 s)",
		len(conns), runtime.NumGoroutine()-gBefore, float64(grown)/(1<<20), float64(grown)/1024/float64(max(1, len(conns))))
	if grown > int64(len(conns))*64<<10 {
		t.Errorf("each held connection costs %d bytes of heap", grown/int64(len(conns)))
	}
}
