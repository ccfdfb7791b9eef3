package serpent

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// The call a Pyro client sends for echo('x'*48) on 'test.echoserver'.
func benchCall() py.Tuple {
	return py.Tuple{"test.echoserver", "echo", py.Tuple{strings.Repeat("x", 48)}, py.NewDict(0)}
}

func BenchmarkEncodeCall(b *testing.B) {
	var v any = benchCall()
	var e Encoder
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = e.Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeCall(b *testing.B) {
	data, err := Marshal(benchCall())
	if err != nil {
		b.Fatal(err)
	}
	var d Decoder
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeException decodes a typical exception reply.
func BenchmarkDecodeException(b *testing.B) {
	data := []byte(Header + "{'__class__':'builtins.ValueError','__exception__':True,'args':('bad value',12),'attributes':{'_pyroTraceback':['Traceback (most recent call last):\\n','  File \".../Pyro4/core.py\", line 1424, in handleRequest\\n    data = method(*vargs, **kwargs)  # ...\\n',\"ValueError: ('bad value', 12)\\n\"]}}")
	var d Decoder
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
