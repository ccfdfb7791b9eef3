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

// benchException is an exception result as the daemon sends it.
var benchException = py.NewException("builtins.ValueError", "bad value",
	[]string{"Traceback (most recent call last):\n", "  File \"server.go\", line 12, in echo\n", "ValueError: bad value\n"})

// benchEach runs op as a sub-benchmark per serializer, reporting
// allocations; setup (outside the timed loop) prepares op's input and
// returns the payload size for SetBytes, or 0.
func benchEach(b *testing.B, prefix string, setup func(b *testing.B, c codec.Codec) int, op func(c codec.Codec) error) {
	for _, ser := range serializerNames {
		b.Run(prefix+ser, func(b *testing.B) {
			c := mustCodec(ser)
			if setup != nil {
				if n := setup(b, c); n > 0 {
					b.SetBytes(int64(n))
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := op(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMarshalCall(b *testing.B) {
	benchEach(b, "", nil, func(c codec.Codec) error {
		_, err := c.MarshalCall(benchCall)
		return err
	})
}

func BenchmarkUnmarshalCall(b *testing.B) {
	var data []byte
	benchEach(b, "", func(b *testing.B, c codec.Codec) int {
		var err error
		if data, err = c.MarshalCall(benchCall); err != nil {
			b.Fatal(err)
		}
		return len(data)
	}, func(c codec.Codec) error {
		_, err := c.UnmarshalCall(data)
		return err
	})
}

func BenchmarkMarshalResult(b *testing.B) {
	benchEach(b, "", nil, func(c codec.Codec) error {
		_, err := c.Marshal(benchResult)
		return err
	})
}

func BenchmarkUnmarshalResult(b *testing.B) {
	var data []byte
	benchEach(b, "", func(b *testing.B, c codec.Codec) int {
		var err error
		if data, err = c.Marshal(benchResult); err != nil {
			b.Fatal(err)
		}
		return len(data)
	}, func(c codec.Codec) error {
		_, err := c.Unmarshal(data)
		return err
	})
}

// BenchmarkAppendCall is the proxy's path: AppendCall into a reused buffer.
func BenchmarkAppendCall(b *testing.B) {
	buf := make([]byte, 0, 512)
	benchEach(b, "", nil, func(c codec.Codec) error {
		var err error
		buf, err = c.AppendCall(buf[:0], benchCall)
		return err
	})
}

// BenchmarkAppendMarshalLimit is the daemon's path for a result and for
// an exception: AppendMarshalLimit into a reused buffer under a bound.
func BenchmarkAppendMarshalLimit(b *testing.B) {
	buf := make([]byte, 0, 512)
	lim := &py.SizeLimit{Max: 1 << 20}
	for _, v := range []struct {
		name  string
		value any
	}{{"result", benchResult}, {"exception", benchException}} {
		benchEach(b, v.name+"/", nil, func(c codec.Codec) error {
			var err error
			buf, err = c.AppendMarshalLimit(buf[:0], v.value, lim)
			return err
		})
	}
}
