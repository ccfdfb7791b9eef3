package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"

	"github.com/pyrogo/pyro/gateway/console"
)

func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestHugeBodiesMemory: 16 clients each streaming 8 MiB call bodies (no
// Content-Length) make the console allocate a small fraction of that:
// bodies are read up to the limit only. A good call is answered after.
func TestHugeBodiesMemory(t *testing.T) {
	const clients, perClient = 16, 8 << 20
	f := &fakeBackend{result: "ok"}
	srv := httptest.NewServer(console.New(f))
	defer srv.Close()
	before := heapAllocs()
	var wg sync.WaitGroup
	codes := make([]int, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write([]byte(`{"name":"http.x","method":"m","args":["'`))
				chunk := []byte(strings.Repeat("a", 32<<10))
				for sent := 0; sent < perClient; sent += len(chunk) {
					if _, err := pw.Write(chunk); err != nil {
						return
					}
				}
				_ = pw.Close()
			}()
			req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/console/api/call", pr)
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			_ = pr.CloseWithError(io.ErrClosedPipe)
			if err != nil {
				return
			}
			codes[i] = resp.StatusCode
			resp.Body.Close()
		}()
	}
	wg.Wait()
	allocated := heapAllocs() - before
	t.Logf("%d clients × %d MiB bodies: %.1f MiB allocated in all", clients, perClient>>20, float64(allocated)/(1<<20))
	for i, c := range codes {
		if c != http.StatusRequestEntityTooLarge {
			t.Errorf("client %d: status %d, want 413", i, c)
		}
	}
	if limit := uint64(clients * perClient / 8); allocated > limit {
		t.Errorf("allocated %d bytes for %d bytes of bodies (more than %d): bodies are buffered", allocated, clients*perClient, limit)
	}
	if f.reachedCount() != 0 {
		t.Error("the Backend was reached")
	}
	resp, err := srv.Client().Post(srv.URL+"/console/api/call", "application/json", strings.NewReader(`{"name":"http.x","method":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a good call after: %d", resp.StatusCode)
	}
}
