package codec_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

func TestForIDAndName(t *testing.T) {
	for _, tc := range []struct {
		id   int
		name string
	}{{1, "serpent"}, {2, "json"}, {3, "marshal"}, {6, "msgpack"}} {
		c, err := codec.ForID(tc.id, codec.Options{})
		if err != nil {
			t.Fatalf("ForID(%d): %v", tc.id, err)
		}
		if c.ID() != tc.id || c.Name() != tc.name {
			t.Errorf("ForID(%d) = %d/%q, want %d/%q", tc.id, c.ID(), c.Name(), tc.id, tc.name)
		}
		c, err = codec.ForName(tc.name, codec.Options{Limits: py.Limits{MaxDepth: 5}})
		if err != nil {
			t.Fatalf("ForName(%q): %v", tc.name, err)
		}
		if c.ID() != tc.id || c.Name() != tc.name {
			t.Errorf("ForName(%q) = %d/%q", tc.name, c.ID(), c.Name())
		}
		if d := codec.Default(tc.id); d == nil || d.ID() != tc.id {
			t.Errorf("Default(%d) = %v", tc.id, d)
		}
		if got := codec.NameOf(tc.id); got != tc.name {
			t.Errorf("NameOf(%d) = %q", tc.id, got)
		}
		if got, ok := codec.IDOf(tc.name); !ok || got != tc.id {
			t.Errorf("IDOf(%q) = %d, %v", tc.name, got, ok)
		}
	}
}

func TestRefusedSerializers(t *testing.T) {
	check := func(what string, c codec.Codec, err error, wantID int, wantName string) {
		t.Helper()
		if c != nil || err == nil {
			t.Fatalf("%s: got codec %v, err %v; want refusal", what, c, err)
		}
		if !errors.Is(err, codec.ErrRefused) || errors.Is(err, codec.ErrUnknown) {
			t.Errorf("%s: %v does not match ErrRefused (only)", what, err)
		}
		if !strings.Contains(err.Error(), "execute arbitrary code") || !strings.Contains(err.Error(), wantName) {
			t.Errorf("%s: message %q should name %s and mention code execution", what, err, wantName)
		}
		var se *codec.SerializerError
		if !errors.As(err, &se) || se.ID != wantID || se.Name != wantName {
			t.Errorf("%s: %#v, want SerializerError{ID:%d, Name:%q}", what, se, wantID, wantName)
		}
	}
	for id, name := range map[int]string{4: "pickle", 5: "dill", 7: "cloudpickle"} {
		c, err := codec.ForID(id, codec.Options{})
		check("ForID", c, err, id, name)
		c, err = codec.ForName(name, codec.Options{})
		check("ForName", c, err, id, name)
		if codec.Default(id) != nil {
			t.Errorf("Default(%d) is not nil", id)
		}
		if got := codec.NameOf(id); got != name {
			t.Errorf("NameOf(%d) = %q, want %q", id, got, name)
		}
	}
}

func TestUnknownSerializers(t *testing.T) {
	for _, id := range []int{0, 8, 42, 99, -1, 1 << 20} {
		c, err := codec.ForID(id, codec.Options{})
		if c != nil || !errors.Is(err, codec.ErrUnknown) || errors.Is(err, codec.ErrRefused) {
			t.Errorf("ForID(%d) = %v, %v; want ErrUnknown", id, c, err)
		}
		if codec.Default(id) != nil || codec.NameOf(id) != "" {
			t.Errorf("Default/NameOf(%d) not empty", id)
		}
	}
	// Pyro's serializer names are case-sensitive.
	for _, name := range []string{"yaml", "", "Serpent", "JSON", "pickle2", "marshal "} {
		c, err := codec.ForName(name, codec.Options{})
		if c != nil || !errors.Is(err, codec.ErrUnknown) {
			t.Errorf("ForName(%q) = %v, %v; want ErrUnknown", name, c, err)
		}
		if err != nil && !strings.Contains(err.Error(), "\""+name+"\"") {
			t.Errorf("ForName(%q): message %q does not quote the name", name, err)
		}
		if _, ok := codec.IDOf(name); ok {
			t.Errorf("IDOf(%q) ok", name)
		}
	}
}

// callShape builds the encoded form of a call-like value the way the
// serializer lays out calls: a 4-sequence, or json's object with fixed
// keys (a nil value leaves the key out for json).
func callShape(ser string, items ...any) any {
	if ser != "json" {
		return py.Tuple(items)
	}
	d := py.NewDict(4)
	for i, k := range []string{"object", "method", "params", "kwargs"} {
		if i < len(items) {
			if _, isMissing := items[i].(absent); !isMissing {
				d.SetString(k, items[i])
			}
		}
	}
	return d
}

type absent struct{}

func TestCallShapeErrors(t *testing.T) {
	empty := py.NewDict(0)
	for _, ser := range serializerNames {
		c := mustCodec(ser)
		bad := []struct {
			name  string
			value any
			skip  bool
		}{
			{name: "not a sequence", value: "echo"},
			{name: "dict", value: py.DictOf("a", int64(1)), skip: ser == "json"},
			{name: "list for json", value: []any{"o", "m", []any{}, empty}, skip: ser != "json"},
			{name: "3 items", value: py.Tuple{"o", "m", py.Tuple{}}, skip: ser == "json"},
			{name: "5 items", value: py.Tuple{"o", "m", py.Tuple{}, empty, nil}, skip: ser == "json"},
			{name: "empty", value: py.Tuple{}, skip: ser == "json"},
			{name: "object int", value: callShape(ser, int64(1), "m", []any{}, empty)},
			{name: "object None", value: callShape(ser, nil, "m", []any{}, empty)},
			{name: "method int", value: callShape(ser, "o", int64(3), []any{}, empty)},
			{name: "method list", value: callShape(ser, "o", []any{"m"}, []any{}, empty)},
			{name: "method bytes", value: callShape(ser, "o", []byte("m"), []any{}, empty), skip: ser == "json"},
			{name: "args str", value: callShape(ser, "o", "m", "abc", empty)},
			{name: "args None", value: callShape(ser, "o", "m", nil, empty)},
			{name: "args dict", value: callShape(ser, "o", "m", empty, empty)},
			{name: "kwargs list", value: callShape(ser, "o", "m", []any{}, []any{})},
			{name: "kwargs str", value: callShape(ser, "o", "m", []any{}, "k")},
			{name: "kwargs int", value: callShape(ser, "o", "m", []any{}, int64(0))},
			{name: "kwarg key int", value: callShape(ser, "o", "m", []any{}, py.DictOf(int64(1), int64(2))), skip: ser == "json"},
			{name: "kwarg key tuple", value: callShape(ser, "o", "m", []any{}, py.DictOf(py.Tuple{"a"}, int64(2))),
				skip: ser == "json" || ser == "msgpack"},
			{name: "kwarg key None", value: callShape(ser, "o", "m", []any{}, py.DictOf("a", int64(1), nil, int64(2))),
				skip: ser == "json" || ser == "serpent"},
			{name: "missing object", value: callShape(ser, absent{}, "m", []any{}, empty), skip: ser != "json"},
			{name: "missing kwargs", value: callShape(ser, "o", "m", []any{}, absent{}), skip: ser != "json"},
			{name: "missing params", value: callShape(ser, "o", "m", absent{}, empty), skip: ser != "json"},
		}
		for _, tc := range bad {
			if tc.skip {
				continue
			}
			data, err := c.Marshal(tc.value)
			if err != nil {
				t.Fatalf("%s/%s: Marshal(%s): %v", ser, tc.name, describe(tc.value), err)
			}
			call, err := c.UnmarshalCall(data)
			if !errors.Is(err, codec.ErrCallShape) {
				t.Errorf("%s/%s: UnmarshalCall(%s) = %s, %v; want ErrCallShape", ser, tc.name, payloadText(data), describe(call), err)
				continue
			}
			if call != nil {
				t.Errorf("%s/%s: call %s returned with the error", ser, tc.name, describe(call))
			}
			if !strings.HasPrefix(err.Error(), ser+": ") {
				t.Errorf("%s/%s: error %q does not name the format", ser, tc.name, err)
			}
			if errors.Is(err, py.ErrSyntax) {
				t.Errorf("%s/%s: a shape error must not match py.ErrSyntax", ser, tc.name)
			}
		}
		// A syntax error is not a shape error.
		if _, err := c.UnmarshalCall([]byte{}); err == nil || errors.Is(err, codec.ErrCallShape) {
			t.Errorf("%s: empty payload: %v", ser, err)
		}
	}
}

// TestMarshalCallRefuses checks that MarshalCall refuses calls a Pyro
// peer could not receive.
func TestMarshalCallRefuses(t *testing.T) {
	for _, ser := range serializerNames {
		c := mustCodec(ser)
		for name, call := range map[string]*codec.Call{
			"nil call":     nil,
			"int kwarg":    {Object: "o", Method: "m", Kwargs: py.DictOf("a", int64(1), int64(2), int64(3))},
			"tuple kwarg":  {Object: "o", Method: "m", Kwargs: py.DictOf(py.Tuple{}, int64(3))},
			"None kwarg":   {Object: "o", Method: "m", Kwargs: py.DictOf(nil, int64(3))},
			"bytes kwarg":  {Object: "o", Method: "m", Kwargs: py.DictOf([]byte("k"), int64(3))},
			"float kwarg":  {Object: "o", Method: "m", Kwargs: py.DictOf(1.5, int64(3))},
			"bool kwarg":   {Object: "o", Method: "m", Kwargs: py.DictOf(true, int64(3))},
			"bigint kwarg": {Object: "o", Method: "m", Kwargs: py.DictOf(pow2(70, 1), int64(3))},
		} {
			data, err := c.MarshalCall(call)
			if !errors.Is(err, codec.ErrCallShape) || data != nil {
				t.Errorf("%s/%s: MarshalCall = %s, %v; want ErrCallShape", ser, name, payloadText(data), err)
			}
		}
		// Values the format cannot carry are refused by the value encoder.
		if ser == "json" {
			_, err := c.MarshalCall(&codec.Call{Object: "o", Method: "m", Args: []any{[]byte("x")}})
			if !errors.Is(err, py.ErrUnsupported) {
				t.Errorf("json: bytes argument: %v, want py.ErrUnsupported", err)
			}
		}
	}
}

// TestCallShapesAccepted covers the legal variants of §2.4: vargs as a
// tuple or a list, kwargs None, extra json keys.
func TestCallShapesAccepted(t *testing.T) {
	for _, ser := range serializerNames {
		c := mustCodec(ser)
		for _, tc := range []struct {
			name  string
			value any
			want  *codec.Call
		}{
			{"tuple args", callShape(ser, "o", "m", py.Tuple{int64(1)}, py.NewDict(0)),
				&codec.Call{Object: "o", Method: "m", Args: []any{int64(1)}, Kwargs: py.NewDict(0)}},
			{"list args, kwargs None", callShape(ser, "Pyro.Daemon", "get_metadata", []any{"x"}, nil),
				&codec.Call{Object: "Pyro.Daemon", Method: "get_metadata", Args: []any{"x"}}},
			{"kwargs", callShape(ser, "o", "m", []any{}, py.DictOf("a", int64(1), "b", "c")),
				&codec.Call{Object: "o", Method: "m", Args: []any{}, Kwargs: py.DictOf("a", int64(1), "b", "c")}},
			{"empty names", callShape(ser, "", "", []any{}, py.NewDict(0)),
				&codec.Call{Args: []any{}, Kwargs: py.NewDict(0)}},
		} {
			data, err := c.Marshal(tc.value)
			if err != nil {
				t.Fatalf("%s/%s: %v", ser, tc.name, err)
			}
			got, err := c.UnmarshalCall(data)
			if err != nil || !sameCall(degradeCall(ser, tc.want), got) {
				t.Errorf("%s/%s: %s → %s, %v; want %s", ser, tc.name, payloadText(data), describe(got), err, describe(tc.want))
			}
		}
	}
	// json: keys beyond the four are ignored, as Python's loadsCall does.
	d := py.DictOf("object", "o", "method", "m", "params", []any{}, "kwargs", nil, "extra", int64(1))
	data, _ := mustCodec("json").Marshal(d)
	if got, err := mustCodec("json").UnmarshalCall(data); err != nil || got.Object != "o" || got.Kwargs != nil {
		t.Errorf("json with extra key: %s, %v", describe(got), err)
	}
}

// TestMarshalCallShapes checks the byte layout of §2.4 and §11: the name
// server lookup call as Python sends it (marshal without Python's
// FLAG_REF bits and interned codes, which the Go encoder never writes).
func TestMarshalCallShapes(t *testing.T) {
	call := &codec.Call{Object: "Pyro.NameServer", Method: "lookup", Args: []any{"Pyro.NameServer"}, Kwargs: py.NewDict(0)}
	want := map[string]string{
		"serpent": "# serpent utf-8 python3.2\n('Pyro.NameServer','lookup',('Pyro.NameServer',),{})",
		"json":    `{"object": "Pyro.NameServer", "method": "lookup", "params": ["Pyro.NameServer"], "kwargs": {}}`,
		"marshal": hexString("29047a0f" + hex.EncodeToString([]byte("Pyro.NameServer")) + "7a06" +
			hex.EncodeToString([]byte("lookup")) + "5b010000007a0f" + hex.EncodeToString([]byte("Pyro.NameServer")) + "7b30"),
		"msgpack": hexString("94af" + hex.EncodeToString([]byte("Pyro.NameServer")) + "a6" +
			hex.EncodeToString([]byte("lookup")) + "91af" + hex.EncodeToString([]byte("Pyro.NameServer")) + "80"),
	}
	for _, ser := range serializerNames {
		got, err := mustCodec(ser).MarshalCall(call)
		if err != nil {
			t.Fatalf("%s: %v", ser, err)
		}
		if string(got) != want[ser] {
			t.Errorf("%s: MarshalCall\n got  %s\n want %s", ser, payloadText(got), payloadText([]byte(want[ser])))
		}
	}
	// nil Args are an empty sequence, nil Kwargs are None.
	wantNil := map[string]string{
		"serpent": "# serpent utf-8 python3.2\n('o','__getattr__',(),None)",
		"json":    `{"object": "o", "method": "__getattr__", "params": [], "kwargs": null}`,
		"marshal": hexString("29047a016f7a0b" + hex.EncodeToString([]byte("__getattr__")) + "5b000000004e"),
		"msgpack": hexString("94a16fab" + hex.EncodeToString([]byte("__getattr__")) + "90c0"),
	}
	for _, ser := range serializerNames {
		got, err := mustCodec(ser).MarshalCall(&codec.Call{Object: "o", Method: "__getattr__"})
		if err != nil {
			t.Fatalf("%s: %v", ser, err)
		}
		if string(got) != wantNil[ser] {
			t.Errorf("%s: MarshalCall(nil args, nil kwargs)\n got  %s\n want %s", ser, payloadText(got), payloadText([]byte(wantNil[ser])))
		}
	}
}

func hexString(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// wirePayloads are the INVOKE and RESULT payloads captured in protocol
// §11 (name server lookup) for each serializer.
var wirePayloads = []struct {
	ser    string
	call   string
	result string
	port   int
}{
	{"serpent",
		"# serpent utf-8 python3.2\n('Pyro.NameServer','lookup',('Pyro.NameServer',),{})",
		"# serpent utf-8 python3.2\n{'__class__':'Pyro4.core.URI','state':('PYRO','Pyro.NameServer',None,'127.0.0.1',19090)}",
		19090},
	{"json",
		`{"object": "Pyro.NameServer", "method": "lookup", "params": ["Pyro.NameServer"], "kwargs": {}}`,
		`{"__class__": "Pyro4.core.URI", "state": ["PYRO", "Pyro.NameServer", null, "127.0.0.1", 19090]}`,
		19090},
	{"marshal",
		hexString("2904fa0f" + hex.EncodeToString([]byte("Pyro.NameServer")) + "da06" + hex.EncodeToString([]byte("lookup")) +
			"db01000000fa0f" + hex.EncodeToString([]byte("Pyro.NameServer")) + "fb30"),
		hexString("7bda09" + hex.EncodeToString([]byte("__class__")) + "7a0e" + hex.EncodeToString([]byte("Pyro4.core.URI")) +
			"da05" + hex.EncodeToString([]byte("state")) + "2905fa04" + hex.EncodeToString([]byte("PYRO")) +
			"fa0f" + hex.EncodeToString([]byte("Pyro.NameServer")) + "4efa09" + hex.EncodeToString([]byte("127.0.0.1")) +
			"e9924a000030"),
		19090},
	{"msgpack",
		hexString("94af" + hex.EncodeToString([]byte("Pyro.NameServer")) + "a6" + hex.EncodeToString([]byte("lookup")) +
			"91af" + hex.EncodeToString([]byte("Pyro.NameServer")) + "80"),
		hexString("82a9" + hex.EncodeToString([]byte("__class__")) + "ae" + hex.EncodeToString([]byte("Pyro4.core.URI")) +
			"a5" + hex.EncodeToString([]byte("state")) + "95a4" + hex.EncodeToString([]byte("PYRO")) +
			"af" + hex.EncodeToString([]byte("Pyro.NameServer")) + "c0a9" + hex.EncodeToString([]byte("127.0.0.1")) + "cd4b5a"),
		19290},
}

// TestWirePayloads decodes the captured §11 payloads.
func TestWirePayloads(t *testing.T) {
	for _, wp := range wirePayloads {
		c := mustCodec(wp.ser)
		call, err := c.UnmarshalCall([]byte(wp.call))
		want := &codec.Call{Object: "Pyro.NameServer", Method: "lookup", Args: []any{"Pyro.NameServer"}, Kwargs: py.NewDict(0)}
		if err != nil || !sameCall(want, call) {
			t.Errorf("%s: call %s, %v", wp.ser, describe(call), err)
		}
		res, err := c.Unmarshal([]byte(wp.result))
		u, ok := res.(uri.URI)
		if err != nil || !ok || !u.Equal(uri.URI{Protocol: "PYRO", Object: "Pyro.NameServer", Host: "127.0.0.1", Port: wp.port}) {
			t.Errorf("%s: result %s, %v", wp.ser, describe(res), err)
		}
		// The result re-encodes to the same URI.
		again, err := c.Marshal(res)
		if err != nil {
			t.Fatalf("%s: %v", wp.ser, err)
		}
		if back, err := c.Unmarshal(again); err != nil || !same(res, back) {
			t.Errorf("%s: re-encoded URI %s decodes to %s, %v", wp.ser, payloadText(again), describe(back), err)
		}
	}
	// serpent and json re-encode the URI byte for byte.
	for _, wp := range wirePayloads[:2] {
		c := mustCodec(wp.ser)
		res, _ := c.Unmarshal([]byte(wp.result))
		if again, _ := c.Marshal(res); !bytes.Equal(again, []byte(wp.result)) {
			t.Errorf("%s: Marshal(URI) = %s, want %s", wp.ser, payloadText(again), payloadText([]byte(wp.result)))
		}
	}
}

// TestClassRestoration covers §3.7 as the Go side implements it, through
// serpent and json text (the same DictHook serves every codec).
func TestClassRestoration(t *testing.T) {
	serpent, jsonc := mustCodec("serpent"), mustCodec("json")
	const hdr = "# serpent utf-8 python3.2\n"
	ok := []struct {
		name string
		c    codec.Codec
		in   string
		want any
	}{
		{"uri", serpent, "{'__class__':'Pyro4.core.URI','state':('PYRO','x',None,'h',1)}", uri.MustParse("PYRO:x@h:1")},
		{"uri list state", jsonc, `{"__class__": "Pyro4.core.URI", "state": ["PYRO", "x", "/s", null, null]}`, uri.MustParse("PYRO:x@./u:/s")},
		{"uri meta set", serpent, "{'__class__':'Pyro4.core.URI','state':('PYROMETA',{'b','a'},None,'h',1)}", uri.MustParse("PYROMETA:a,b@h:1")},
		{"uri nested", serpent, "[{'k':({'__class__':'Pyro4.core.URI','state':('PYRONAME','n',None,None,None)},)}]",
			[]any{py.DictOf("k", py.Tuple{uri.MustParse("PYRONAME:n")})}},
		{"unknown class kept", serpent, "{'__class__':'mymod.Thing','a':1}", py.DictOf("__class__", "mymod.Thing", "a", int64(1))},
		{"dunder class kept", serpent, "{'__class__':'__main__.Thing','a':1}", py.DictOf("__class__", "__main__.Thing", "a", int64(1))},
		{"daemon kept", serpent, "{'__class__':'Pyro4.core.Daemon','state':()}", py.DictOf("__class__", "Pyro4.core.Daemon", "state", py.Tuple{})},
		{"ordered dict kept", serpent, "{'__class__':'collections.OrderedDict','items':[('a',1)]}",
			py.DictOf("__class__", "collections.OrderedDict", "items", []any{py.Tuple{"a", int64(1)}})},
		{"class not str", serpent, "{'__class__':1}", py.DictOf("__class__", int64(1))},
		{"class bytes", serpent, "{'__class__':b'float','value':'nan'}", py.DictOf("__class__", []byte("float"), "value", "nan")},
		{"float nan", serpent, "{'__class__':'float','value':'nan'}", math.NaN()},
		{"float inf", serpent, "{'__class__':'float','value':'inf'}", math.Inf(1)},
		{"float -inf", serpent, "{'__class__':'float','value':'-inf'}", math.Inf(-1)},
		{"float Infinity", serpent, "{'__class__':'float','value':'-Infinity'}", math.Inf(-1)},
		{"float spaces", serpent, "{'__class__':'float','value':' nan '}", math.NaN()},
		{"float -nan", serpent, "{'__class__':'float','value':'-nan'}", math.NaN()},
		{"float number", serpent, "{'__class__':'float','value':'1.5'}", 1.5},
		{"float underscore", serpent, "{'__class__':'float','value':'1_000.5'}", 1000.5},
		{"float in list", serpent, "[{'__class__':'float','value':'nan'},1.0]", []any{math.NaN(), 1.0}},
		{"exception", serpent, "{'__class__':'builtins.ValueError','__exception__':True,'args':('x',1),'attributes':{'_pyroTraceback':['a\\n']}}",
			&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"x", int64(1)}, Attributes: py.DictOf("_pyroTraceback", []any{"a\n"})}},
		{"exception json list args", jsonc, `{"__class__": "Pyro4.errors.NamingError", "__exception__": true, "args": ["x"], "attributes": {}}`,
			&py.Exception{Class: "Pyro4.errors.NamingError", Args: py.Tuple{"x"}, Attributes: py.NewDict(0)}},
		{"exception no args", serpent, "{'__class__':'builtins.StopIteration','__exception__':True}",
			&py.Exception{Class: "builtins.StopIteration"}},
		{"exception traceback None", serpent, "{'__class__':'Pyro4.errors.ProtocolError','__exception__':True,'args':('result of call is an iterator',),'attributes':{'_pyroTraceback':None}}",
			&py.Exception{Class: "Pyro4.errors.ProtocolError", Args: py.Tuple{"result of call is an iterator"}, Attributes: py.DictOf("_pyroTraceback", nil)}},
		// Python would refuse a double-underscore class; Go keeps the
		// exception (a client still wants to see the error).
		{"exception dunder", serpent, "{'__class__':'__main__.MyError','__exception__':True,'args':('x',)}",
			&py.Exception{Class: "__main__.MyError", Args: py.Tuple{"x"}}},
		{"exception flag false", serpent, "{'__class__':'builtins.ValueError','__exception__':False,'args':()}",
			py.DictOf("__class__", "builtins.ValueError", "__exception__", false, "args", py.Tuple{})},
		{"wrapper", jsonc, `[1, {"__class__": "Pyro4.futures._ExceptionWrapper", "exception": {"__class__": "builtins.ZeroDivisionError", "__exception__": true, "args": ["division by zero"], "attributes": {}}}]`,
			[]any{int64(1), &codec.ExceptionWrapper{Exception: &py.Exception{Class: "builtins.ZeroDivisionError", Args: py.Tuple{"division by zero"}, Attributes: py.NewDict(0)}}}},
		{"proxy 8 items", serpent, "{'__class__':'Pyro4.core.Proxy','state':('PYRO:x@h:1',(),('a',),(),0.0,None,None,0)}",
			&codec.ProxyRef{URI: uri.MustParse("PYRO:x@h:1"), Methods: []string{"a"}, Oneway: []string{}, Attrs: []string{}}},
		{"proxy sets and timeout int", serpent, "{'__class__':'Pyro4.core.Proxy','state':('PYRONAME:n',{'o'},{'a','o'},{'x'},5,'b64:azN5','hello',2,'marshal')}",
			&codec.ProxyRef{URI: uri.MustParse("PYRONAME:n"), Oneway: []string{"o"}, Methods: []string{"a", "o"}, Attrs: []string{"x"},
				Timeout: 5, HMACKey: []byte("k3y"), Handshake: "hello", MaxRetries: 2, Serializer: "marshal"}},
		{"proxy list state", jsonc, `{"__class__": "Pyro4.core.Proxy", "state": ["PYRO:x@h:1", [], ["m"], [], 0.0, null, {"a": [1]}, 0, null]}`,
			&codec.ProxyRef{URI: uri.MustParse("PYRO:x@h:1"), Methods: []string{"m"}, Handshake: py.DictOf("a", []any{int64(1)})}},
	}
	for _, tc := range ok {
		in := tc.in
		if tc.c == serpent {
			in = hdr + in
		}
		got, err := tc.c.Unmarshal([]byte(in))
		if err != nil || !same(tc.want, got) {
			t.Errorf("%s: %s\n got  %s, %v\n want %s", tc.name, tc.in, describe(got), err, describe(tc.want))
		}
	}

	bad := []struct {
		name, in, class, msg string
	}{
		{"uri short state", "{'__class__':'Pyro4.core.URI','state':('PYRO','x')}", uri.ClassName, "5 items"},
		{"uri no state", "{'__class__':'Pyro4.core.URI'}", uri.ClassName, "5 items"},
		{"uri state str", "{'__class__':'Pyro4.core.URI','state':'PYRO:x@h:1'}", uri.ClassName, "5 items"},
		{"uri protocol int", "{'__class__':'Pyro4.core.URI','state':(1,'x',None,'h',1)}", uri.ClassName, "protocol"},
		{"uri port str", "{'__class__':'Pyro4.core.URI','state':('PYRO','x',None,'h','1')}", uri.ClassName, ""},
		{"uri tag int", "{'__class__':'Pyro4.core.URI','state':('PYROMETA',{1},None,None,None)}", uri.ClassName, "tag"},
		{"proxy short", "{'__class__':'Pyro4.core.Proxy','state':('PYRO:x@h:1',(),(),())}", codec.ClassProxy, "8 or 9 items"},
		{"proxy 10 items", "{'__class__':'Pyro4.core.Proxy','state':('PYRO:x@h:1',(),(),(),0.0,None,None,0,None,1)}", codec.ClassProxy, "8 or 9 items"},
		{"proxy no state", "{'__class__':'Pyro4.core.Proxy'}", codec.ClassProxy, "8 or 9 items"},
		{"proxy bad uri", "{'__class__':'Pyro4.core.Proxy','state':('PYRO:x',(),(),(),0.0,None,None,0)}", codec.ClassProxy, "invalid"},
		{"proxy uri not str", "{'__class__':'Pyro4.core.Proxy','state':(1,(),(),(),0.0,None,None,0)}", codec.ClassProxy, "uri is int"},
		{"proxy name int", "{'__class__':'Pyro4.core.Proxy','state':('PYRO:x@h:1',(1,),(),(),0.0,None,None,0)}", codec.ClassProxy, "name is int"},
		{"proxy names str", "{'__class__':'Pyro4.core.Proxy','state':('PYRO:x@h:1','abc',(),(),0.0,None,None,0)}", codec.ClassProxy, "name list is str"},
		{"wrapper not exception", "{'__class__':'Pyro4.futures._ExceptionWrapper','exception':'boom'}", codec.ClassExceptionWrapper, "exception is str"},
		{"wrapper plain dict", "{'__class__':'Pyro4.futures._ExceptionWrapper','exception':{'a':1}}", codec.ClassExceptionWrapper, "exception is dict"},
		{"wrapper missing", "{'__class__':'Pyro4.futures._ExceptionWrapper'}", codec.ClassExceptionWrapper, "exception is NoneType"},
		{"float garbage", "{'__class__':'float','value':'abc'}", "float", "could not convert"},
		{"float hex", "{'__class__':'float','value':'0x1p3'}", "float", "could not convert"},
		{"float empty", "{'__class__':'float','value':''}", "float", "could not convert"},
		{"float missing", "{'__class__':'float'}", "float", "value is NoneType"},
		{"float bytes", "{'__class__':'float','value':b'nan'}", "float", "value is bytes"},
		{"nested deep", "[[{'k':{'__class__':'Pyro4.core.URI','state':()}}]]", uri.ClassName, "5 items"},
	}
	for _, tc := range bad {
		got, err := serpent.Unmarshal([]byte(hdr + tc.in))
		var ce *codec.ClassError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %s → %s, %v; want a *codec.ClassError", tc.name, tc.in, describe(got), err)
			continue
		}
		if ce.Class != tc.class || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "malformed "+tc.class) {
			t.Errorf("%s: error %q (class %q), want class %q and %q", tc.name, err, ce.Class, tc.class, tc.msg)
		}
	}
	// The same error surfaces from UnmarshalCall, for any codec.
	for _, ser := range serializerNames {
		c := mustCodec(ser)
		bad := py.DictOf("__class__", "Pyro4.core.URI", "state", py.Tuple{"PYRO"})
		data, err := c.Marshal(callShape(ser, "o", "m", []any{bad}, py.NewDict(0)))
		if err != nil {
			t.Fatalf("%s: %v", ser, err)
		}
		var ce *codec.ClassError
		if _, err := c.UnmarshalCall(data); !errors.As(err, &ce) {
			t.Errorf("%s: UnmarshalCall with a malformed URI argument: %v", ser, err)
		}
	}
}

// TestProxyRefDict checks the dict form pyrogo writes for a proxy: 9
// items, no HMAC key, None for an unset serializer.
func TestProxyRefDict(t *testing.T) {
	p := &codec.ProxyRef{URI: uri.MustParse("PYRO:x@h:1"), Methods: []string{"a", "b"}, HMACKey: []byte("secret"),
		Timeout: 1.5, MaxRetries: 2}
	d := p.PyroClassDict()
	want := py.DictOf("__class__", "Pyro4.core.Proxy", "state", py.Tuple{"PYRO:x@h:1", py.Tuple{}, py.Tuple{"a", "b"},
		py.Tuple{}, 1.5, nil, nil, int64(2), nil})
	if !py.Same(want, d) {
		t.Errorf("PyroClassDict = %s, want %s", py.Repr(d), py.Repr(want))
	}
	for _, ser := range serializerNames {
		c := mustCodec(ser)
		data, err := c.Marshal(p)
		if err != nil {
			t.Fatalf("%s: %v", ser, err)
		}
		if bytes.Contains(data, []byte("secret")) || bytes.Contains(data, []byte("c2VjcmV0")) {
			t.Errorf("%s: the HMAC key leaked: %s", ser, payloadText(data))
		}
		got, err := c.Unmarshal(data)
		wantRef := *p
		wantRef.HMACKey = nil
		if err != nil || !same(&wantRef, got) {
			t.Errorf("%s: round trip %s, %v", ser, describe(got), err)
		}
	}
	w := &codec.ExceptionWrapper{Exception: py.NewException("builtins.ValueError", "x", nil)}
	if got := w.PyroClassDict(); !py.Same(py.DictOf("__class__", codec.ClassExceptionWrapper, "exception", w.Exception), got) {
		t.Errorf("ExceptionWrapper dict = %s", py.Repr(got))
	}
}

// TestLimitsOption checks that every field of Options.Limits reaches the
// decoders, for values and calls.
func TestLimitsOption(t *testing.T) {
	ten := make([]any, 10)
	for i := range ten {
		ten[i] = int64(i)
	}
	for _, tc := range []struct {
		name  string
		lim   py.Limits
		value any
	}{
		{"depth", py.Limits{MaxDepth: 3}, pygen.NestedList(5, int64(1))},
		{"items", py.Limits{MaxItems: 5}, ten},
		{"string length", py.Limits{MaxStringLen: 10}, strings.Repeat("x", 11)},
		{"int digits", py.Limits{MaxIntDigits: 30}, pow2(200, 1)},
	} {
		for _, id := range supportedIDs {
			c, _ := codec.ForID(id, codec.Options{Limits: tc.lim})
			def := codec.Default(id)
			data, err := def.Marshal(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Unmarshal(data); !errors.Is(err, py.ErrLimit) {
				t.Errorf("%s/%s: %v, want py.ErrLimit", c.Name(), tc.name, err)
			}
			if _, err := def.Unmarshal(data); err != nil {
				t.Errorf("%s/%s: default limits: %v", c.Name(), tc.name, err)
			}
			call, err := def.MarshalCall(&codec.Call{Object: "o", Method: "m", Args: []any{tc.value}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.UnmarshalCall(call); !errors.Is(err, py.ErrLimit) {
				t.Errorf("%s/%s: call: %v, want py.ErrLimit", c.Name(), tc.name, err)
			}
		}
	}
}

// TestConcurrentUse shares the default codecs between goroutines; run it
// with -race.
func TestConcurrentUse(t *testing.T) {
	call := &codec.Call{Object: "o", Method: "m", Args: []any{"x", int64(1), py.DictOf("k", []any{1.5})},
		Kwargs: py.DictOf("u", uri.MustParse("PYRO:x@h:1"))}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				c := codec.Default(supportedIDs[(g+i)%len(supportedIDs)])
				var data []byte
				if data, err = c.MarshalCall(call); err == nil {
					var got *codec.Call
					if got, err = c.UnmarshalCall(data); err == nil && !sameCall(degradeCall(c.Name(), call), got) {
						err = errors.New(c.Name() + ": mismatch " + describe(got))
					}
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
