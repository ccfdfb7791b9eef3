package pymsgpack

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

func exceptionHook(d *py.Dict) (any, error) {
	if e, ok := py.ExceptionFromDict(d); ok {
		return e, nil
	}
	return d, nil
}

// TestPropertyRoundTrip: without tuples, sets and frozensets every model
// value comes back the same.
func TestPropertyRoundTrip(t *testing.T) {
	opts := pygen.Options{NoSets: true, NoFrozenSets: true, NoTuples: true, Exceptions: true}
	enc := Encoder{}
	dec := Decoder{DictHook: exceptionHook}
	rapid.Check(t, func(t *rapid.T) {
		v := pygen.Value(opts).Draw(t, "v")
		b, err := enc.Append(nil, v)
		if err != nil {
			t.Fatalf("encode %s: %v", py.Repr(v), err)
		}
		got, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("decode % x: %v", b, err)
		}
		if !py.Same(got, v) {
			t.Fatalf("round trip of %s gave %s", py.Repr(v), py.Repr(got))
		}
	})
}

// hasTupleKey reports whether a dict anywhere in v has a tuple key.
func hasTupleKey(v any) bool {
	switch v := v.(type) {
	case py.Tuple:
		return hasTupleKey([]any(v))
	case []any:
		for _, e := range v {
			if hasTupleKey(e) {
				return true
			}
		}
	case *py.Set:
		return hasTupleKey(v.Items())
	case *py.Dict:
		for k, e := range v.All() {
			if _, ok := k.(py.Tuple); ok || hasTupleKey(e) {
				return true
			}
		}
	}
	return false
}

// TestPropertyListify: tuples and sets come back as lists; a dict with a
// tuple key is written (as Python does) but cannot be read back, since
// its key becomes an unhashable list (as in Python).
func TestPropertyListify(t *testing.T) {
	opts := pygen.Options{NoFrozenSets: true}
	enc := Encoder{}
	dec := Decoder{}
	rapid.Check(t, func(t *rapid.T) {
		v := pygen.Value(opts).Draw(t, "v")
		b, err := enc.Append(nil, v)
		if err != nil {
			t.Fatalf("encode %s: %v", py.Repr(v), err)
		}
		got, err := dec.Decode(b)
		if hasTupleKey(v) {
			if !errors.Is(err, py.ErrSyntax) {
				t.Fatalf("%s has a tuple key; decoding gave %v, %v", py.Repr(v), got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("decode % x: %v", b, err)
		}
		if want := listify(v); !py.Same(got, want) {
			t.Fatalf("round trip of %s gave %s, want %s", py.Repr(v), py.Repr(got), py.Repr(want))
		}
	})
}

// TestPropertyDatetime: with TimeExt, times in Python's datetime range come
// back as the same instant to the microsecond when the float timestamp has
// microsecond precision (|t| < 2^32 s, years 1834..2106), and within 64 µs
// elsewhere (Python's own timestamp() round trip loses the same).
func TestPropertyDatetime(t *testing.T) {
	enc := Encoder{TimeExt: true}
	var dec Decoder
	rapid.Check(t, func(t *rapid.T) {
		var sec int64
		if rapid.Bool().Draw(t, "near") {
			sec = rapid.Int64Range(-1<<32+1, 1<<32-1).Draw(t, "sec")
		} else {
			sec = rapid.Int64Range(-62135596800+86400, 253402300799-86400).Draw(t, "sec")
		}
		ns := rapid.Int64Range(0, 999_999_999).Draw(t, "ns")
		tm := time.Unix(sec, ns)
		b, err := enc.Append(nil, tm)
		if err != nil {
			t.Fatal(err)
		}
		v, err := dec.Decode(b)
		if err != nil {
			t.Fatalf("%v: %v", tm, err)
		}
		got := v.(time.Time)
		want := tm.Truncate(time.Microsecond)
		diff := got.Sub(want)
		if math.Abs(float64(sec)) < 1<<32 {
			if diff != 0 {
				t.Fatalf("%v came back as %v", want, got)
			}
		} else if diff > 64*time.Microsecond || diff < -64*time.Microsecond {
			t.Fatalf("%v came back as %v (%v off)", want, got, diff)
		}
	})
}
