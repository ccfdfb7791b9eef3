package codec_test

import (
	"errors"
	"math"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// formatOptions are the pygen settings for the values each serializer can
// carry unchanged between two Go peers (see the pygen package doc and
// protocol §3).
var formatOptions = map[string]pygen.Options{
	// serpent writes bytes as a base64 dict, an empty set as () and a
	// frozenset as a set.
	"serpent": {NoBytes: true, NoFrozenSets: true, NoEmptySets: true, Exceptions: true},
	"json":    {NoBytes: true, NoSets: true, NoFrozenSets: true, NoComplex: true, NoTuples: true, StringKeys: true, Exceptions: true},
	"marshal": {Exceptions: true},
	// msgpack has arrays only, and Pyro refuses frozensets.
	"msgpack": {NoSets: true, NoFrozenSets: true, NoTuples: true, Exceptions: true},
}

// serpentRefuses reports whether v holds something Python's serpent
// refuses to write, which the Go encoder refuses as well: a None dict key
// or set member, or a complex with a NaN part.
func serpentRefuses(v any) bool {
	switch x := v.(type) {
	case complex128:
		return math.IsNaN(real(x)) || math.IsNaN(imag(x))
	case py.Tuple:
		return anyRefused(x)
	case []any:
		return anyRefused(x)
	case *py.Set:
		for _, it := range x.Items() {
			if it == nil || serpentRefuses(it) {
				return true
			}
		}
	case *py.Dict:
		for k, val := range x.All() {
			if k == nil || serpentRefuses(k) || serpentRefuses(val) {
				return true
			}
		}
	case *py.Exception:
		return anyRefused(x.Args) || serpentRefuses(x.Attributes)
	}
	return false
}

func anyRefused(items []any) bool {
	for _, it := range items {
		if serpentRefuses(it) {
			return true
		}
	}
	return false
}

// encodeOrRefuse encodes with enc; it returns ok=false when the serpent
// encoder refused a value serpentRefuses describes, and fails the test
// for any other error.
func encodeOrRefuse(t *rapid.T, ser string, v any, enc func() ([]byte, error)) ([]byte, bool) {
	data, err := enc()
	if err == nil {
		return data, true
	}
	if ser == "serpent" && errors.Is(err, py.ErrUnsupported) && serpentRefuses(v) {
		return nil, false
	}
	t.Fatalf("%s: encode %s: %v", ser, describe(v), err)
	return nil, false
}

func TestPropertyValueRoundTrip(t *testing.T) {
	for _, ser := range serializerNames {
		t.Run(ser, func(t *testing.T) {
			c := mustCodec(ser)
			gen := pygen.Value(formatOptions[ser])
			rapid.Check(t, func(t *rapid.T) {
				v := gen.Draw(t, "value")
				data, ok := encodeOrRefuse(t, ser, v, func() ([]byte, error) { return c.Marshal(v) })
				if !ok {
					return
				}
				got, err := c.Unmarshal(data)
				if err != nil {
					t.Fatalf("Unmarshal(%s) of %s: %v", payloadText(data), describe(v), err)
				}
				if !py.Same(v, got) {
					t.Fatalf("round trip through %s\n value %s\n got   %s", payloadText(data), describe(v), describe(got))
				}
			})
		})
	}
}

// callGen draws calls whose arguments ser can carry.
func callGen(ser string) *rapid.Generator[*codec.Call] {
	opts := formatOptions[ser]
	names := pygen.String(pygen.Options{})
	val := pygen.Value(opts)
	return rapid.Custom(func(t *rapid.T) *codec.Call {
		c := &codec.Call{Object: names.Draw(t, "object"), Method: names.Draw(t, "method")}
		c.Args = rapid.SliceOfN(val, 0, 5).Draw(t, "args")
		if rapid.IntRange(0, 4).Draw(t, "kwargs?") > 0 {
			c.Kwargs = py.NewDict(0)
			for range rapid.IntRange(0, 4).Draw(t, "nkw") {
				c.Kwargs.SetString(names.Draw(t, "kw"), val.Draw(t, "kwval"))
			}
		}
		return c
	})
}

func TestPropertyCallRoundTrip(t *testing.T) {
	for _, ser := range serializerNames {
		t.Run(ser, func(t *testing.T) {
			c := mustCodec(ser)
			gen := callGen(ser)
			rapid.Check(t, func(t *rapid.T) {
				call := gen.Draw(t, "call")
				data, ok := encodeOrRefuse(t, ser, callValue(call), func() ([]byte, error) { return c.MarshalCall(call) })
				if !ok {
					return
				}
				got, err := c.UnmarshalCall(data)
				if err != nil {
					t.Fatalf("UnmarshalCall(%s) of %s: %v", payloadText(data), describe(call), err)
				}
				if !sameCall(call, got) {
					t.Fatalf("round trip through %s\n call %s\n got  %s", payloadText(data), describe(call), describe(got))
				}
			})
		})
	}
}

// callValue is the call as one model value, for serpentRefuses.
func callValue(c *codec.Call) any {
	var kw any
	if c.Kwargs != nil {
		kw = c.Kwargs
	}
	return py.Tuple{c.Object, c.Method, py.Tuple(c.Args), kw}
}
