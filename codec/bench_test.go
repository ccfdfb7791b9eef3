package codec_test

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

// benchCall is the typical call of the Pyro echo example:
// ('test.echoserver', 'echo', ('x'*48,), {}).
var benchCall = &codec.Call{Object: "test.echoserver", Method: "echo", Args: []any{strings.Repeat("x", 48)}, Kwargs: py.NewDict(0)}

var benchResult any = strings.Repeat("x", 48)

func BenchmarkMarshalCall(b *testing.B) {
	for _, ser := range serializerNames {
		b.Run(ser, func(b *testing.B) {
			c := mustCodec(ser)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.MarshalCall(benchCall); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnmarshalCall(b *testing.B) {
	for _, ser := range serializerNames {
		b.Run(ser, func(b *testing.B) {
			c := mustCodec(ser)
			data, err := c.MarshalCall(benchCall)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.UnmarshalCall(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMarshalResult(b *testing.B) {
	for _, ser := range serializerNames {
		b.Run(ser, func(b *testing.B) {
			c := mustCodec(ser)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Marshal(benchResult); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnmarshalResult(b *testing.B) {
	for _, ser := range serializerNames {
		b.Run(ser, func(b *testing.B) {
			c := mustCodec(ser)
			data, err := c.Marshal(benchResult)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Unmarshal(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchException is an exception result as the daemon sends it.
var benchException = py.NewException("builtins.ValueError", "bad value",
	[]string{"Traceback (most recent call last):\n", "  File \"server.go\", line 12, in echo\n", "ValueError: bad value\n"})

// BenchmarkAppendCall is the proxy's path: AppendCall into a reused buffer.
func BenchmarkAppendCall(b *testing.B) {
	for _, ser := range serializerNames {
		b.Run(ser, func(b *testing.B) {
			c := mustCodec(ser)
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = c.AppendCall(buf[:0], benchCall); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendMarshalLimit is the daemon's path for a result and for
// an exception: AppendMarshalLimit into a reused buffer under a bound.
func BenchmarkAppendMarshalLimit(b *testing.B) {
	for _, v := range []struct {
		name  string
		value any
	}{{"result", benchResult}, {"exception", benchException}} {
		for _, ser := range serializerNames {
			b.Run(v.name+"/"+ser, func(b *testing.B) {
				c := mustCodec(ser)
				buf := make([]byte, 0, 512)
				lim := &py.SizeLimit{Max: 1 << 20}
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if buf, err = c.AppendMarshalLimit(buf[:0], v.value, lim); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
