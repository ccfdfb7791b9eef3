package metrics_test

import (
	"context"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/metrics"
)

// BenchmarkCall measures a call's cost without and with the metrics
// observer, interleaved in the same run:
//
//	go test -run '^$' -bench BenchmarkCall -count 4 ./metrics
func BenchmarkCall(b *testing.B) {
	for _, observed := range []bool{false, true} {
		name := "plain"
		if observed {
			name = "metrics"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var opts []pyro.DaemonOption
			if observed {
				opts = append(opts, metrics.New().Daemon("bench"))
			}
			d, err := pyro.NewDaemon(nil, opts...)
			if err != nil {
				b.Fatal(err)
			}
			uri, err := d.Register(Calc{}, "calc")
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() { d.Serve(ctx); close(done) }()
			defer func() { d.Close(); <-done }()
			p, err := pyro.NewProxyURI(uri, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Call(ctx, "add", 1, 2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
