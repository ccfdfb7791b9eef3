package pyjson

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// benchCall is the json call payload of Pyro's echo server example with a
// 48-character argument.
func benchCall() *py.Dict {
	return py.DictOf("object", "test.echoserver", "method", "echo",
		"params", []any{strings.Repeat("x", 48)}, "kwargs", py.NewDict(0))
}

func BenchmarkEncodeCall(b *testing.B) {
	v := benchCall()
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
