package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/internal/pymsgpack"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
	"pgregory.net/rapid"
)

// supportedIDs5 are Pyro5's serializer ids (Pyro5/serializers.py).
var supportedIDs5 = []int{codec.ID5Serpent, codec.ID5Marshal, codec.ID5JSON, codec.ID5Msgpack}

func TestPyro5SerializerTable(t *testing.T) {
	for _, tc := range []struct {
		id   int
		name string
	}{{1, "serpent"}, {2, "marshal"}, {3, "json"}, {4, "msgpack"}} {
		c, err := codec.ForID(tc.id, codec.Options{Protocol: codec.Pyro5})
		if err != nil || c.Name() != tc.name || c.ID() != tc.id || c.Protocol() != codec.Pyro5 {
			t.Errorf("Pyro5 ForID(%d) = %v, %v; want %s", tc.id, c, err, tc.name)
			continue
		}
		byName, err := codec.ForName(tc.name, codec.Options{Protocol: codec.Pyro5})
		if err != nil || byName.ID() != tc.id {
			t.Errorf("Pyro5 ForName(%q) = %v, %v", tc.name, byName, err)
		}
		if d := codec.DefaultFor(codec.Pyro5, tc.id); d == nil || d.Name() != tc.name || d.Protocol() != codec.Pyro5 {
			t.Errorf("DefaultFor(Pyro5, %d) = %v", tc.id, d)
		}
		if codec.Pyro5.NameOf(tc.id) != tc.name {
			t.Errorf("Pyro5.NameOf(%d) = %q", tc.id, codec.Pyro5.NameOf(tc.id))
		}
		// The same ids mean other serializers (or none) in Pyro4.
		if d4 := codec.Default(tc.id); tc.id != 1 && d4 != nil && d4.Name() == tc.name {
			t.Errorf("Pyro4 id %d is also %s", tc.id, tc.name)
		}
	}
	if d := codec.Default(codec.IDJSON); d.Protocol() != codec.Pyro4 || d.Name() != "json" {
		t.Errorf("Default(IDJSON) = %v %v", d.Protocol(), d.Name())
	}
	// Pyro5 has no pickle, dill or cloudpickle: unknown, not refused.
	for _, id := range []int{0, 5, 6, 7, 255} {
		_, err := codec.ForID(id, codec.Options{Protocol: codec.Pyro5})
		if !errors.Is(err, codec.ErrUnknown) || !strings.Contains(err.Error(), "Pyro5") {
			t.Errorf("Pyro5 ForID(%d) error %v, want ErrUnknown naming Pyro5", id, err)
		}
		if codec.DefaultFor(codec.Pyro5, id) != nil {
			t.Errorf("DefaultFor(Pyro5, %d) is not nil", id)
		}
	}
	for _, name := range []string{"pickle", "dill", "cloudpickle"} {
		if _, err := codec.ForName(name, codec.Options{Protocol: codec.Pyro5}); !errors.Is(err, codec.ErrUnknown) {
			t.Errorf("Pyro5 ForName(%q) error %v, want ErrUnknown", name, err)
		}
	}
	if _, err := codec.ForID(1, codec.Options{Protocol: codec.Protocol(9)}); !errors.Is(err, codec.ErrUnknown) {
		t.Errorf("ForID under Protocol(9): %v, want ErrUnknown", err)
	}
	if codec.DefaultFor(codec.Protocol(9), 1) != nil {
		t.Error("DefaultFor(Protocol(9), 1) is not nil")
	}
}

// TestPyro5ClassNames checks both dialects keep to their own class names:
// each restores its own and leaves the other's as a plain dict, and the
// Pyro4 codecs write no Pyro5 name (nor the reverse).
func TestPyro5ClassNames(t *testing.T) {
	u := uri.MustParse("PYRO:obj@h:1")
	values := []any{u, &codec.ProxyRef{URI: u, Methods: []string{"m"}},
		&codec.ExceptionWrapper{Exception: py.NewException("Pyro4.errors.NamingError", "n", nil)},
		py.NewException("Pyro4.errors.DaemonError", "d", nil)}
	for _, ser := range serializerNames {
		c4, c5 := mustCodec(ser), mustCodec5(ser)
		for _, v := range values {
			d4, err4 := c4.Marshal(v)
			d5, err5 := c5.Marshal(v)
			if err4 != nil || err5 != nil {
				t.Fatalf("%s: %v %v", ser, err4, err5)
			}
			if strings.Contains(string(d4), "Pyro5") || strings.Contains(string(d5), "Pyro4") {
				t.Errorf("%s %s: dialects mixed:\n Pyro4 %s\n Pyro5 %s", ser, describe(v), payloadText(d4), payloadText(d5))
			}
			for _, r := range []struct {
				c    codec.Codec
				data []byte
				own  bool
			}{{c4, d4, true}, {c5, d5, true}, {c5, d4, false}, {c4, d5, false}} {
				got, err := r.c.Unmarshal(r.data)
				if err != nil {
					t.Errorf("%s %s: %s decoding: %v", ser, describe(v), r.c.Protocol(), err)
					continue
				}
				_, isExc := v.(*py.Exception)
				switch {
				case r.own || isExc:
					// Exceptions are recognised by their form; another
					// dialect's Pyro error class keeps its foreign name.
					want := v
					if !r.own {
						e := *v.(*py.Exception)
						e.Class = strings.Replace(e.Class, "Pyro4.", "Pyro5.", 1)
						if r.c.Protocol() == codec.Pyro5 {
							e.Class = v.(*py.Exception).Class
						}
						want = &e
					}
					if !same(want, got) {
						t.Errorf("%s %s: %s decoded %s, want %s", ser, describe(v), r.c.Protocol(), describe(got), describe(want))
					}
				default:
					if _, ok := got.(*py.Dict); !ok {
						t.Errorf("%s %s: %s restored the other dialect's class dict: %s", ser, describe(v), r.c.Protocol(), describe(got))
					}
				}
			}
		}
	}
}

// TestPyro5MalformedClassDicts: a recognised Pyro5 class dict with bad
// content is a *codec.ClassError, as for Pyro4.
func TestPyro5MalformedClassDicts(t *testing.T) {
	c := mustCodec5("serpent")
	for _, in := range []string{
		"{'__class__':'Pyro5.client.Proxy','state':('PYRO:o@h:1',(),(),(),None)}",
		"{'__class__':'Pyro5.client.Proxy','state':('PYRO:o@h:1',(),(),(),0.0,None,None,0,None)}",
		"{'__class__':'Pyro5.client.Proxy','state':(1,(),(),(),None,None)}",
		"{'__class__':'Pyro5.client.Proxy','state':('nonsense',(),(),(),None,None)}",
		"{'__class__':'Pyro5.client.Proxy','state':('PYRO:o@h:1',(1,),(),(),None,None)}",
		"{'__class__':'Pyro5.client.Proxy'}",
		"{'__class__':'Pyro5.core.URI','state':('PYRO','o',None,'h')}",
		"{'__class__':'Pyro5.core._ExceptionWrapper','exception':'x'}",
	} {
		v, err := c.Unmarshal([]byte(serpentHdr + in))
		var ce *codec.ClassError
		if !errors.As(err, &ce) {
			t.Errorf("%s: got %s, %v; want a *codec.ClassError", in, describe(v), err)
		}
	}
}

// TestPyro5HostileInputs runs the hostile corpus, and hostile Pyro5 class
// dicts, through the Pyro5 codecs.
func TestPyro5HostileInputs(t *testing.T) {
	inputs := hostileInputs()
	big := strings.Repeat("'m',", 50000)
	for _, in := range []struct{ name, text, valid string }{
		// Valid (Pyro5 reads it too), but bounded like everything else.
		{"proxy5 huge name lists", "{'__class__':'Pyro5.client.Proxy','state':('PYRO:o@h:1',(" + big + "),(" + big + "),(),None,None)}", "serpent"},
		{"proxy5 nested handshake", "{'__class__':'Pyro5.client.Proxy','state':('PYRO:o@h:1',(),(),()," +
			strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + ",None)}", ""},
		{"wrapper5 of wrapper", "{'__class__':'Pyro5.core._ExceptionWrapper','exception':{'__class__':'Pyro5.core._ExceptionWrapper','exception':None}}", ""},
		{"uri5 bad port", "{'__class__':'Pyro5.core.URI','state':('PYRO','o',None,'h','99999999999999999999999')}", ""},
	} {
		inputs = append(inputs, hostileInput{name: in.name, data: []byte(serpentHdr + in.text), valid: in.valid})
	}
	var codecs []codec.Codec
	for _, id := range supportedIDs5 {
		codecs = append(codecs, codec.DefaultFor(codec.Pyro5, id))
	}
	checkHostile(t, inputs, codecs)
}

func TestPyro5PropertyRoundTrip(t *testing.T) {
	for _, ser := range serializerNames {
		t.Run(ser, func(t *testing.T) {
			c := mustCodec5(ser)
			gen := pygen.Value(formatOptions[ser])
			calls := callGen(ser)
			rapid.Check(t, func(t *rapid.T) {
				v := gen.Draw(t, "value")
				if data, ok := encodeOrRefuse(t, ser, v, func() ([]byte, error) { return c.Marshal(v) }); ok {
					got, err := c.Unmarshal(data)
					if err != nil || !py.Same(v, got) {
						t.Fatalf("round trip through %s\n value %s\n got   %s, %v", payloadText(data), describe(v), describe(got), err)
					}
				}
				call := calls.Draw(t, "call")
				if data, ok := encodeOrRefuse(t, ser, callValue(call), func() ([]byte, error) { return c.MarshalCall(call) }); ok {
					got, err := c.UnmarshalCall(data)
					var ske *pymsgpack.StrictKeyError
					if ser == "msgpack" && errors.As(err, &ske) && hasNonStrKey(callValue(call)) {
						return // Pyro5's daemon refuses it too (strict_map_key)
					}
					if err != nil || !sameCall(call, got) {
						t.Fatalf("round trip through %s\n call %s\n got  %s, %v", payloadText(data), describe(call), describe(got), err)
					}
				}
			})
		})
	}
}

// hasNonStrKey reports whether v holds a dict with a key that is neither
// str nor bytes: what msgpack's strict_map_key refuses in a Pyro5 call.
func hasNonStrKey(v any) bool {
	switch x := v.(type) {
	case *py.Dict:
		for k, e := range x.All() {
			switch k.(type) {
			case string, []byte:
			default:
				return true
			}
			if hasNonStrKey(k) || hasNonStrKey(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasNonStrKey(e) {
				return true
			}
		}
	case py.Tuple:
		for _, e := range x {
			if hasNonStrKey(e) {
				return true
			}
		}
	case *py.Set:
		for e := range x.All() {
			if hasNonStrKey(e) {
				return true
			}
		}
	}
	return false
}

// TestPyro5MsgpackStrictCallKeys: a Pyro5 msgpack call with a map key
// other than str or bytes is refused with msgpack's ValueError, as Pyro5's
// daemon refuses it; results and Pyro4 calls keep such keys.
func TestPyro5MsgpackStrictCallKeys(t *testing.T) {
	call := &codec.Call{Object: "o", Method: "m", Args: []any{py.DictOf(int64(1), "one")}, Kwargs: py.NewDict(0)}
	c5 := mustCodec5("msgpack")
	data, err := c5.MarshalCall(call)
	if err != nil {
		t.Fatal(err)
	}
	var ske *pymsgpack.StrictKeyError
	if _, err := c5.UnmarshalCall(data); !errors.As(err, &ske) || err.Error() != "int is not allowed for map key when strict_map_key=True" ||
		ske.Exception().Class != "builtins.ValueError" {
		t.Errorf("Pyro5 call: %v", err)
	}
	if v, err := c5.Unmarshal(data); err != nil || v == nil {
		t.Errorf("Pyro5 value: %v", err)
	}
	c4 := codec.Default(codec.IDMsgpack)
	data4, _ := c4.MarshalCall(call)
	if _, err := c4.UnmarshalCall(data4); err != nil {
		t.Errorf("Pyro4 call: %v", err)
	}
}
