package codec_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

// pyro5Errors are Pyro5's error classes (Pyro5/errors.py), by their short
// names; pyrogo reads and writes them as Pyro4.errors.X in Go.
var pyro5Errors = []string{"PyroError", "CommunicationError", "ConnectionClosedError", "TimeoutError",
	"ProtocolError", "MessageTooLargeError", "NamingError", "DaemonError", "SecurityError", "SerializeError"}

// p2g5 is one Python Pyro5 → Go case: p2g, and per serializer a value
// that replaces want (not degraded) where Pyro5 sends another type.
type p2g5 struct {
	p2g
	bySer map[string]any
}

// p2g5Cases are pyro5_interop.py's dump corpus: the Pyro4 corpus with
// Pyro5's proxy (no HMAC key in its state), and the cases only Pyro5
// brings. Pyro5's exceptions, URIs, proxies and batch wrappers decode to
// the same Go values as Pyro4's.
func p2g5Cases() map[string]p2g5 {
	cases := map[string]p2g5{}
	for name, c := range p2gCases() {
		if name != "proxy_hmac" {
			cases[name] = p2g5{p2g: c}
		}
	}
	handshake := py.DictOf("user", "bob", "n", []any{int64(1), int64(2)})
	cases["proxy_ser"] = p2g5{p2g: p2g{want: &codec.ProxyRef{URI: uri.MustParse("PYRO:obj@./u:/tmp/s"),
		Oneway: []string{"ow"}, Methods: []string{"ow", "echo"}, Attrs: []string{"x"}, Handshake: handshake,
		Serializer: "json"}}}
	var errs []any
	for _, n := range pyro5Errors {
		errs = append(errs, &py.Exception{Class: "Pyro4.errors." + n, Args: py.Tuple{"x"}, Attributes: py.NewDict(0)})
	}
	unmarshallable := map[string]string{"marshal": "ValueError: unmarshallable object"}
	cases["error_classes"] = p2g5{p2g: p2g{want: errs, pyFails: unmarshallable}}
	noMarshal := func(class string) map[string]string {
		return map[string]string{"marshal": "SerializeError: don't know how to serialize class <class '" + class + "'>"}
	}
	cases["datetime"] = p2g5{p2g: p2g{pyFails: noMarshal("datetime.datetime")}, bySer: map[string]any{
		"serpent": "2024-02-29T13:14:15.123456", "json": "2024-02-29T13:14:15.123456",
		"msgpack": time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.Local)}}
	cases["date"] = p2g5{p2g: p2g{pyFails: noMarshal("datetime.date")}, bySer: map[string]any{
		"serpent": "2024-02-29", "json": "2024-02-29", "msgpack": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}}
	extArgs := func(date any) *codec.Call {
		return &codec.Call{Object: "thing", Method: "m", Args: []any{pow2(80, 1), complex(1, 2), date}, Kwargs: py.NewDict(0)}
	}
	cases["call_ext"] = p2g5{p2g: p2g{pyFails: map[string]string{
		"json":    "SerializeError: don't know how to serialize class <class 'complex'>",
		"marshal": "SerializeError: don't know how to serialize class <class 'datetime.date'>"}},
		bySer: map[string]any{"serpent": extArgs("2024-02-29"), "msgpack": extArgs(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC))}}
	return cases
}

// sameTimes is same with time.Time compared by instant and location.
func sameTimes(want, got any) bool {
	if w, ok := want.(time.Time); ok {
		g, ok := got.(time.Time)
		return ok && w.Equal(g) && w.Location().String() == g.Location().String()
	}
	if w, ok := want.(*codec.Call); ok {
		g := got.(*codec.Call)
		if len(w.Args) != len(g.Args) {
			return false
		}
		for i := range w.Args {
			if !sameTimes(w.Args[i], g.Args[i]) {
				return false
			}
		}
		wc, gc := *w, *g
		wc.Args, gc.Args = nil, nil
		return sameCall(&wc, &gc)
	}
	return same(want, got)
}

// TestPyro5PythonToGo decodes what Pyro5's own serializers produce, with
// the Pyro5 codecs.
func TestPyro5PythonToGo(t *testing.T) {
	needPython5(t)
	recs := runScript[pyDump](t, python5Cmd, "dump", nil)
	t.Logf("%d payloads from Pyro5", len(recs))
	cases := p2g5Cases()
	seen := map[string]bool{}
	for _, rec := range recs {
		tc, ok := cases[rec.Name]
		if !ok {
			t.Errorf("%s: no Go expectation for Python case (keep interop5_test.go and pyro5_interop.py in step)", rec.Name)
			continue
		}
		seen[rec.Name] = true
		label := rec.Name + "/" + rec.Ser
		if want, ok := tc.pyFails[rec.Ser]; ok {
			if rec.Err == "" || !strings.Contains(rec.Err, want) {
				t.Errorf("%s: Pyro5 gave err=%q, want an error containing %q", label, rec.Err, want)
			}
			continue
		}
		if rec.Err != "" {
			t.Errorf("%s: Pyro5 could not serialize the case: %s", label, rec.Err)
			continue
		}
		c := mustCodec5(rec.Ser)
		var got, want any
		var err error
		if rec.Kind == "call" {
			var call *codec.Call
			call, err = c.UnmarshalCall(rec.B64)
			got = call
			if w, ok := tc.want.(*codec.Call); ok {
				want = degradeCall(rec.Ser, w)
			}
		} else {
			got, err = c.Unmarshal(rec.B64)
			want = degrade(rec.Ser, tc.want)
		}
		if w, ok := tc.bySer[rec.Ser]; ok {
			want = w
		}
		if tc.goFails[rec.Ser] {
			if err == nil {
				t.Errorf("%s: decoded %s, want an error", label, describe(got))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: decode %s: %v", label, payloadText(rec.B64), err)
			continue
		}
		if !sameTimes(want, got) {
			t.Errorf("%s: payload %s\n got  %s\n want %s", label, payloadText(rec.B64), describe(got), describe(want))
		}
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("%s: Go expectation without a Python case", name)
		}
	}
}

// g2p5Cases are the Go → Python cases for Pyro5: the Pyro4 ones with
// Pyro5's proxy and class names, Pyro5's msgpack decoding extension types
// in calls, and the cases only Pyro5 brings.
func g2p5Cases() []g2p {
	var cases []g2p
	for _, tc := range g2pCases() {
		switch tc.name {
		case "proxy":
			tc.expect = "P(URI('PYRO:obj_1@127.0.0.1:5555'),{'ow'},{'ow','echo'},{'x'},'hello','json')"
		case "proxy_key_not_leaked":
			tc.expect = "P(URI('PYRO:obj@./u:/tmp/s'),{'ow'},{'ow','echo'},{'x'},{'user':'bob'},None)"
		case "exc_class_args":
			tc.expect = strings.ReplaceAll(tc.expect, "Pyro4.core.URI", "Pyro5.core.URI")
		case "call_bigint", "call_complex":
			// Pyro5's loadsCall has an ext_hook: no raw ExtType.
			tc.bySer = nil
		}
		cases = append(cases, tc)
	}
	var errs []any
	var exprs []string
	for _, n := range pyro5Errors {
		errs = append(errs, py.NewException("Pyro4.errors."+n, "x", nil))
		exprs = append(exprs, "exc(errors."+n+",'x')")
	}
	local := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.Local)
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	iso := func(t time.Time) string {
		s, err := py.FromGo(t)
		if err != nil {
			panic(err)
		}
		return pyStr(s.(string))
	}
	cases = append(cases,
		g2p{name: "error_classes", value: errs, expect: "[" + strings.Join(exprs, ",") + "]"},
		g2p{name: "error_wrapped", value: &codec.ExceptionWrapper{Exception: py.NewException("Pyro4.errors.NamingError", "n", nil)},
			expect: "ExceptionWrapper(exc(errors.NamingError,'n'))"},
		// A Pyro4 class name means nothing to a Pyro5 peer.
		g2p{name: "exc_pyro4_class_dict", value: py.DictOf("__class__", "Pyro4.core.URI", "state", py.Tuple{"PYRO", "x", nil, "h", int64(1)}),
			expect: "None", pyErr: allSers("unsupported serialized class: Pyro4.core.URI")},
		g2p{name: "times", value: []any{local, day}, expect: "[" + iso(local) + "," + iso(day) + "]",
			bySer: map[string]string{"msgpack": "[datetime.datetime(2024,2,29,13,14,15,123456),datetime.date(2024,2,29)]"}},
		g2p{name: "call_times", call: &codec.Call{Object: "thing", Method: "m", Args: []any{local, day}, Kwargs: py.NewDict(0)},
			expect: "('thing','m',V(" + iso(local) + "," + iso(day) + "),{})",
			bySer:  map[string]string{"msgpack": "('thing','m',V(datetime.datetime(2024,2,29,13,14,15,123456),datetime.date(2024,2,29)),{})"}},
	)
	return cases
}

// TestPyro5GoToPython has Pyro5's serializers decode what the Go Pyro5
// codecs encode, and the values generated for the Pyro4 test
// (random_interop_test.go) travel Go → Pyro5 → Go.
func TestPyro5GoToPython(t *testing.T) {
	needPython5(t)
	cases := g2p5Cases()
	byKey := map[string]g2p{}
	var reqs []any
	for _, tc := range cases {
		for _, ser := range serializerNames {
			c := mustCodec5(ser)
			var data []byte
			var err error
			kind := "data"
			if tc.call != nil {
				kind = "call"
				data, err = c.MarshalCall(tc.call)
			} else {
				data, err = c.Marshal(tc.value)
			}
			label := tc.name + "/" + ser
			if tc.goFails[ser] {
				if err == nil {
					t.Errorf("%s: encoded %s, want an error (Pyro5 cannot carry this in %s)", label, payloadText(data), ser)
				} else if !errors.Is(err, py.ErrUnsupported) {
					t.Errorf("%s: error %v does not match py.ErrUnsupported", label, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: encode: %v", label, err)
				continue
			}
			expect := tc.expect
			if e, ok := tc.bySer[ser]; ok {
				expect = e
			}
			byKey[tc.name+"\x00"+ser] = tc
			reqs = append(reqs, pyLoadReq{Name: tc.name, Ser: ser, Kind: kind, B64: data, Expect: expect})
		}
	}
	randoms := map[string]any{}
	for _, ser := range serializerNames {
		c := mustCodec5(ser)
		for i, v := range randomValues(ser, randomPerFormat) {
			data, err := c.Marshal(v)
			name := fmt.Sprintf("random_%d", i)
			if err != nil {
				t.Errorf("%s/%s: encode %s: %v", name, ser, describe(v), err)
				continue
			}
			randoms[name+"\x00"+ser] = v
			reqs = append(reqs, pyLoadReq{Name: name, Ser: ser, Kind: "data", B64: data,
				Expect: pyExpr(pythonHolds(ser, v)), Echo: true})
		}
	}
	reps := runScript[pyLoadRep](t, python5Cmd, "load", reqs)
	t.Logf("%d cases, %d payloads decoded by Pyro5", len(cases), len(reqs))
	if len(reps) != len(reqs) {
		t.Fatalf("python answered %d of %d requests", len(reps), len(reqs))
	}
	for i, rep := range reps {
		req := reqs[i].(pyLoadReq)
		label := rep.Name + "/" + rep.Ser
		if v, ok := randoms[rep.Name+"\x00"+rep.Ser]; ok {
			checkRandomEchoWith(t, mustCodec5(rep.Ser), label, req, rep, v)
			continue
		}
		tc := byKey[rep.Name+"\x00"+rep.Ser]
		if want, ok := tc.pyErr[rep.Ser]; ok {
			if rep.Err == "" || !strings.Contains(rep.Err, want) {
				t.Errorf("%s: Pyro5 gave err=%q got=%s, want an error containing %q", label, rep.Err, rep.Got, want)
			}
			continue
		}
		switch {
		case rep.Err != "":
			t.Errorf("%s: Pyro5 failed: %s\n payload %s\n got %s", label, rep.Err, payloadText(req.B64), rep.Got)
		case !rep.OK:
			t.Errorf("%s: Pyro5 decoded a different value\n payload %s\n got  %s\n want %s (%s)",
				label, payloadText(req.B64), rep.Got, rep.Want, req.Expect)
		}
	}
}
