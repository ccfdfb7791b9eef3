package pymsgpack

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// benchCall is Pyro's msgpack call layout for the echo server example with
// a 48-character argument.
func benchCall() []any {
	return []any{"test.echoserver", "echo", []any{strings.Repeat("x", 48)}, py.NewDict(0)}
}

func BenchmarkEncodeCall(b *testing.B) {
	var v any = benchCall() // boxed once: Append takes an any
	var enc Encoder
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = enc.Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeCall(b *testing.B) {
	data, err := (&Encoder{}).Append(nil, benchCall())
	if err != nil {
		b.Fatal(err)
	}
	var dec Decoder
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
