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
