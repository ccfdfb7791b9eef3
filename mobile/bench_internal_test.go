package mobile

import (
	"context"
	"testing"

	"github.com/pyrogo/pyro"
)

// native is the baseline: the same work as the module's add and summary
// as a Go method of an object in the same daemon.
type native struct{}

func (native) Add(a, b int32) int32 { return a + b }

func (native) Summary(data []byte, th int64) map[string]int64 {
	var sum, above, mx int64
	for _, c := range data {
		sum += int64(c)
		if int64(c) > th {
			above++
		}
		mx = max(mx, int64(c))
	}
	return map[string]int64{"count": int64(len(data)), "sum": sum, "above": above, "max": mx}
}

// BenchmarkCall compares one call of a module function (a fresh instance
// per call) with the same Go method through the same daemon and
// connection kind:
//
//	go test -run '^$' -bench BenchmarkCall -benchtime 2s ./mobile
func BenchmarkCall(b *testing.B) {
	bin := goModule(b, "basic")
	s := startServed(b, nil, WithValidator(acceptAll()))
	if _, err := s.d.Register(native{}, "bench.native"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p := s.proxy(b, pyro.WithSerializer("msgpack"))
	nu, _ := pyro.ParseURI("PYRO:bench.native@" + s.d.Addr().String())
	np, err := pyro.NewProxyURI(nu, s.cfg, pyro.WithSerializer("msgpack"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { np.Close() })
	id, err := p.Call(ctx, "load", bin)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 1024)
	for i := range data {
		data[i] = byte(i)
	}
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("native-add", func() error { _, err := np.Call(ctx, "add", 1, 2); return err })
	run("module-add", func() error { _, err := p.Call(ctx, "call", id, "add", 1, 2); return err })
	run("native-summary-1KiB", func() error { _, err := np.Call(ctx, "summary", data, 100); return err })
	run("module-summary-1KiB", func() error { _, err := p.Call(ctx, "call", id, "summary", data, 100); return err })
	run("local-module-add", func() error { _, err := s.svc.Call(ctx, id.(string), "add", int64(1), int64(2)); return err })
}

// BenchmarkLoad measures what one accepted load costs the server: the
// checks and compiling the Go test module (2.7 MB) without a cache.
//
//	go test -run '^$' -bench BenchmarkLoad -benchtime 5x ./mobile
func BenchmarkLoad(b *testing.B) {
	bin := goModule(b, "basic")
	b.SetBytes(int64(len(bin)))
	for b.Loop() {
		s, err := NewService(WithValidator(acceptAll()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Load(context.Background(), bin, nil); err != nil {
			b.Fatal(err)
		}
		_ = s.Close()
	}
}
