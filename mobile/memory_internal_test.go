package mobile

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memBytes is the process's resident memory (linear memories are mapped
// outside the Go heap), or the Go heap where /proc is missing.
func memBytes() uint64 {
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if pages, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				return pages * uint64(os.Getpagesize())
			}
		}
	}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestMemoryBounded: 16 clients at once running a module that grabs
// memory until it fails make the process's resident memory grow by at
// most WithMaxInstances × WithMemoryPages (plus the Go heap's share), and
// a client calling a good function meanwhile is served.
func TestMemoryBounded(t *testing.T) {
	bin := goModule(t, "basic")
	const instances, pages = 3, 256 // 16 MiB each
	s := newTestService(t, WithValidator(acceptAll()), WithMaxInstances(instances, instances), WithMemoryPages(pages))
	ctx := ctxT(t)
	id, err := s.Load(ctx, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	base := memBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if h := memBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	var oom, good atomic.Int64
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 3; j++ {
				_, err := s.Call(context.Background(), id, "hog")
				if err != nil && IsLimit(err) {
					oom.Add(1)
				} else {
					t.Errorf("hog: %v", err)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for j := 0; j < 10; j++ {
			if got, err := s.Call(context.Background(), id, "add", int64(1), int64(2)); err != nil || got != int64(3) {
				t.Errorf("good call: %v %v", got, err)
				return
			}
			good.Add(1)
		}
	}()
	wg.Wait()
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(base)
	bound := int64(instances) * pages * 65536
	t.Logf("48 hog calls (%d out of memory), %d good calls; resident memory grew by at most %.1f MiB (instances × cap = %.0f MiB)",
		oom.Load(), good.Load(), float64(grew)/(1<<20), float64(bound)/(1<<20))
	if grew > bound+32<<20 {
		t.Fatalf("resident memory grew by %d bytes, more than the %d that %d instances of %d pages may hold (+32 MiB)", grew, bound, instances, pages)
	}
}

// IsLimit reports whether err is a limit error (test helper).
func IsLimit(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == ErrLimit
}
