package pymsgpack

import (
	"bytes"
	"testing"
	"time"

	"github.com/pyrogo/pyro/py"
)

// sameDecoded compares two decoded values (lists, maps in order, scalars)
// and allows times to differ by the precision a float timestamp loses.
func sameDecoded(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		d := x.Sub(y)
		return ok && d <= 64*time.Microsecond && d >= -64*time.Microsecond
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameDecoded(x[i], y[i]) {
				return false
			}
		}
		return true
	case *py.Dict:
		y, ok := b.(*py.Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i := range x.Len() {
			if !sameDecoded(x.Key(i), y.Key(i)) || !sameDecoded(x.Value(i), y.Value(i)) {
				return false
			}
		}
		return true
	}
	return py.Same(a, b)
}

// hasFarTime reports whether v holds a time a datetime ext cannot carry.
func hasFarTime(v any) bool {
	switch x := v.(type) {
	case time.Time:
		y := x.In(time.Local).Year()
		return y < 2 || y > 9998
	case []any:
		for _, e := range x {
			if hasFarTime(e) {
				return true
			}
		}
	case *py.Dict:
		for k, e := range x.All() {
			if hasFarTime(k) || hasFarTime(e) {
				return true
			}
		}
	}
	return false
}

// FuzzDecode checks that Decode never panics, fails only with the
// documented errors, and that what it accepts encodes (times as ext 0x32)
// and decodes again to the same value, after which the bytes are stable.
// Seeds: testdata/fuzz/FuzzDecode (the payloads of protocol §11.7 and
// Pyro-written values of every type).
func FuzzDecode(f *testing.F) {
	f.Add(dumpInvoke)
	f.Add(dumpResult)
	dec := Decoder{Limits: py.Limits{MaxDepth: 200, MaxItems: 100_000, MaxStringLen: 1 << 20, MaxIntDigits: 1000}}
	enc := Encoder{TimeExt: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := dec.Decode(data)
		if err != nil {
			if !isDecodeError(err) {
				t.Fatalf("undocumented error %T: %v", err, err)
			}
			return
		}
		if hasFarTime(v) {
			return
		}
		b, err := enc.Append(nil, v)
		if err != nil {
			t.Fatalf("decoded %s from % x but cannot encode it: %v", py.Repr(v), data, err)
		}
		v2, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("re-encoded % x does not decode: %v", b, err)
		}
		if !sameDecoded(v, v2) {
			t.Fatalf("% x -> %s -> % x -> %s", data, py.Repr(v), b, py.Repr(v2))
		}
		b2, err := enc.Append(nil, v2)
		if err != nil {
			t.Fatal(err)
		}
		v3, err := dec.Decode(b2)
		if err != nil || !sameDecoded(v2, v3) {
			t.Fatalf("unstable: % x then % x (%v)", b, b2, err)
		}
		if !bytes.Equal(b, b2) && !hasTime(v2) {
			t.Fatalf("encoding not stable: % x then % x", b, b2)
		}
	})
}

func hasTime(v any) bool {
	switch x := v.(type) {
	case time.Time:
		return true
	case []any:
		for _, e := range x {
			if hasTime(e) {
				return true
			}
		}
	case *py.Dict:
		for k, e := range x.All() {
			if hasTime(k) || hasTime(e) {
				return true
			}
		}
	}
	return false
}
