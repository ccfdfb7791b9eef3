package serpent

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// FuzzDecode checks that decoding never panics, fails only with syntax or
// limit errors, and that whatever decodes re-encodes to text that decodes
// to the same value (empty sets aside, which serpent writes as ()). The
// seed corpus in testdata/fuzz/FuzzDecode holds real Pyro4 payloads and
// Python-generated serpent.
func FuzzDecode(f *testing.F) {
	dec := Decoder{Limits: py.Limits{MaxStringLen: 1 << 20, MaxItems: 100_000}}
	enc := Encoder{BytesRepr: true} // so that bytes literals round-trip
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := dec.Decode(data)
		if err != nil {
			if !errors.Is(err, py.ErrSyntax) && !errors.Is(err, py.ErrLimit) {
				t.Fatalf("Decode(%q): error %T %v is neither ErrSyntax nor ErrLimit", data, err, err)
			}
			return
		}
		b, err := enc.Append(nil, v)
		if err != nil {
			// Values Python serpent refuses to write too (None keys or
			// set members).
			if !errors.Is(err, py.ErrUnsupported) {
				t.Fatalf("Append(%s): %v", py.Repr(v), err)
			}
			return
		}
		v2, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("Decode(%q) (re-encoded from %q): %v", b, data, err)
		}
		if !py.Same(emptySetsAsTuples(v), v2) {
			t.Fatalf("%q decoded to %s, re-encoded as %q, decoded to %s", data, py.Repr(v), b, py.Repr(v2))
		}
		b2, err := enc.Append(nil, v2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable: %q then %q (%v)", b, b2, err)
		}
	})
}
