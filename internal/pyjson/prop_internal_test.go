package pyjson

import (
	"bytes"
	"testing"

	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// jsonOptions generate what json can carry: no bytes, sets, frozensets,
// complex or tuples, str keys only.
var jsonOptions = pygen.Options{
	NoBytes: true, NoSets: true, NoFrozenSets: true, NoComplex: true, NoTuples: true,
	StringKeys: true, Exceptions: true,
}

// exceptionHook turns exception dicts back into *py.Exception, like the
// protocol layer does.
func exceptionHook(d *py.Dict) (any, error) {
	if e, ok := py.ExceptionFromDict(d); ok {
		return e, nil
	}
	return d, nil
}

func TestPropertyRoundTrip(t *testing.T) {
	enc := Encoder{}
	dec := Decoder{DictHook: exceptionHook}
	rapid.Check(t, func(t *rapid.T) {
		v := pygen.Value(jsonOptions).Draw(t, "v")
		b, err := enc.Append(nil, v)
		if err != nil {
			t.Fatalf("encode %s: %v", py.Repr(v), err)
		}
		got, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("decode %q: %v", b, err)
		}
		if !py.Same(got, v) {
			t.Fatalf("round trip of %s via %q gave %s", py.Repr(v), b, py.Repr(got))
		}
		again, err := enc.Append(nil, got)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("second encoding %q, %v differs from %q", again, err, b)
		}
	})
}

// TestPropertyAnyKeys: keys of every json-convertible type (int, float,
// bool, None) become str keys; from then on encoding and decoding are
// inverse. (Not the first time: {1: 'a', '1': 'b'} writes the key "1"
// twice, and the decoder keeps the last, as Python does.)
func TestPropertyAnyKeys(t *testing.T) {
	opts := jsonOptions
	opts.StringKeys = false
	enc := Encoder{}
	dec := Decoder{}
	rapid.Check(t, func(t *rapid.T) {
		v := pygen.Value(opts).Draw(t, "v")
		b, err := enc.Append(nil, v)
		if err != nil {
			t.Fatalf("encode %s: %v", py.Repr(v), err)
		}
		got, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("decode %q: %v", b, err)
		}
		b2, err := enc.Append(nil, got)
		if err != nil {
			t.Fatalf("re-encode %s: %v", py.Repr(got), err)
		}
		got2, err := dec.Decode(b2)
		if err != nil || !py.Same(got, got2) {
			t.Fatalf("%q decoded to %s, %v; want %s", b2, py.Repr(got2), err, py.Repr(got))
		}
	})
}
