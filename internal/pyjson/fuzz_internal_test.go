package pyjson

import (
	"bytes"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// FuzzDecode checks that Decode never panics, fails only with the
// documented errors, and that whatever it accepts encodes again and decodes
// to the same value with the same bytes. Seeds: testdata/fuzz/FuzzDecode
// (the payloads of protocol §11.2 and §11.8 and edge cases).
func FuzzDecode(f *testing.F) {
	for _, p := range []string{dumpConnect, dumpConnectOK, dumpInvoke, dumpResult} {
		f.Add([]byte(p))
	}
	dec := Decoder{Limits: py.Limits{MaxDepth: 200, MaxItems: 100_000, MaxStringLen: 1 << 20, MaxIntDigits: 1000}}
	var enc Encoder
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := dec.Decode(data)
		if err != nil {
			if !isDecodeError(err) {
				t.Fatalf("undocumented error %T: %v", err, err)
			}
			return
		}
		b, err := enc.Append(nil, v)
		if err != nil {
			t.Fatalf("decoded %s from %q but cannot encode it: %v", py.Repr(v), data, err)
		}
		v2, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", b, err)
		}
		if !py.Same(v, v2) {
			t.Fatalf("%q -> %s -> %q -> %s", data, py.Repr(v), b, py.Repr(v2))
		}
		b2, err := enc.Append(nil, v2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable: %q then %q (%v)", b, b2, err)
		}
	})
}
