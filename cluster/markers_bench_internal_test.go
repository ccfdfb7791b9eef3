package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/natstest"
)

// BenchmarkDeleteMarkers registers and removes b.N distinct names and
// reports what their delete markers leave in the bucket (bytes per
// removed name, counted toward max_bytes) and how long a new instance
// then takes to open the bucket (its watch delivers every marker):
//
//	go test -run '^$' -bench DeleteMarkers -benchtime 100000x ./cluster
func BenchmarkDeleteMarkers(b *testing.B) {
	c := natstest.Start(b, 1)
	spec := c.Spec("markers")
	st := openStore(b, spec)
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("churn.%08d", i)
		mustPut(b, st, name, "PYRO:obj@127.0.0.1:9999")
		if n, err := st.Delete(name); err != nil || n != 1 {
			b.Fatalf("Delete: %d, %v", n, err)
		}
	}
	b.StopTimer()
	ctx := context.Background()
	stream, err := st.js.Stream(ctx, st.streamName())
	if err != nil {
		b.Fatal(err)
	}
	state := stream.CachedInfo().State
	b.ReportMetric(float64(state.Bytes)/float64(b.N), "bucket-B/name")
	b.ReportMetric(float64(state.Msgs), "bucket-msgs")
	t0 := time.Now()
	st2 := openStore(b, spec)
	b.ReportMetric(float64(time.Since(t0).Milliseconds()), "open-ms")
	if n, _ := st2.Len(); n != 0 {
		b.Fatalf("%d names left", n)
	}
	t0 = time.Now()
	if _, err := st.PurgeDeletes(ctx, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t0).Milliseconds()), "purge-ms")
	stream, err = st.js.Stream(ctx, st.streamName())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(stream.CachedInfo().State.Bytes), "after-purge-B")
}
