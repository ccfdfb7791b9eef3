package marshal

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// echoCall is Pyro's marshal call for echo('x'*48): vargs is a list.
func echoCall() py.Tuple {
	return py.Tuple{"test.echoserver", "echo", []any{strings.Repeat("x", 48)}, py.NewDict(0)}
}

func BenchmarkEncodeCall(b *testing.B) {
	var call any = echoCall()
	var e Encoder
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = e.Append(buf[:0], call); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeCall(b *testing.B) {
	// exactly what Pyro4's MarshalSerializer.dumpsCall writes (FLAG_REF set)
	data := []byte(")\x04\xfa\x0ftest.echoserver\xda\x04echo\xdb\x01\x00\x00\x00\xda0" +
		strings.Repeat("x", 48) + "\xfb0")
	var d Decoder
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
