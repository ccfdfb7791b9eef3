package codec_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

var updateSeeds = flag.Bool("update-fuzz-seeds", false,
	"rewrite testdata/fuzz/FuzzUnmarshalCall from protocol §11 and the calls Pyro4 serializes (needs Python)")

// fuzzCodec picks the codec from the first input byte: a supported Pyro4
// id itself; with the high bit set (0x80 | id) a Pyro5 codec, by its Pyro5
// id or else the low bits modulo 4 indexing supportedIDs5; otherwise the
// byte modulo 4 indexes supportedIDs.
func fuzzCodec(b byte) codec.Codec {
	if b&0x80 != 0 {
		if c := codec.DefaultFor(codec.Pyro5, int(b&0x7f)); c != nil {
			return c
		}
		return codec.DefaultFor(codec.Pyro5, supportedIDs5[int(b&0x7f)%len(supportedIDs5)])
	}
	if c := codec.Default(int(b)); c != nil {
		return c
	}
	return codec.Default(supportedIDs[int(b)%len(supportedIDs)])
}

// pyro5Seeds are calls carrying Pyro5's class dicts (URI, proxy, batch
// wrapper, Pyro5.errors exception) and msgpack extension types, written by
// the Pyro5 codecs (which write what Pyro5 writes: TestPyro5SameBytes),
// each with its 0x80|id selector byte.
func pyro5Seeds() [][]byte {
	u := uri.MustParse("PYRO:obj@h:1")
	exc := py.NewException("Pyro4.errors.NamingError", "n", []string{"tb\n"})
	call := &codec.Call{Object: "o", Method: "m", Args: []any{u, &codec.ProxyRef{URI: u, Oneway: []string{"a"},
		Methods: []string{"a", "b"}, Attrs: []string{"x"}, Handshake: py.DictOf("k", "v"), Serializer: "json"},
		&codec.ExceptionWrapper{Exception: exc}, exc, uri.MustParse("PYROMETA:a,b@h:2")},
		Kwargs: py.DictOf("t", time.Date(2024, 2, 29, 1, 2, 3, 0, time.UTC), "c", complex(1, 2))}
	var seeds [][]byte
	for _, id := range supportedIDs5 {
		c := codec.DefaultFor(codec.Pyro5, id)
		data, err := c.MarshalCall(call)
		if err != nil { // json has no complex
			noComplex := *call
			noComplex.Kwargs = py.DictOf("t", "2024-02-29")
			data, err = c.MarshalCall(&noComplex)
		}
		if err != nil {
			panic(err)
		}
		seeds = append(seeds, append([]byte{0x80 | byte(id)}, data...))
	}
	return seeds
}

// afterRoundTrip is what v becomes when a Go peer re-encodes it with ser
// under protocol p:
// serpent's bytes and set forms (degrade) and no HMAC key in a proxy.
func afterRoundTrip(p codec.Protocol, ser string, v any) any {
	switch x := v.(type) {
	case *codec.ProxyRef:
		p := *x
		p.HMACKey = nil
		return &p
	case py.Tuple:
		out := make(py.Tuple, len(x))
		for i, e := range x {
			out[i] = afterRoundTrip(p, ser, e)
		}
		return degrade(ser, out)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = afterRoundTrip(p, ser, e)
		}
		return degrade(ser, out)
	case *py.Dict:
		d := py.NewDict(x.Len())
		for k, e := range x.All() {
			_ = d.Set(k, afterRoundTrip(p, ser, e))
		}
		return degrade(ser, d)
	case time.Time:
		// msgpack decodes its datetime and date extensions into
		// time.Time. Pyro5 calls carry them as extensions again: a date
		// (UTC midnight) comes back as it is, any other time as the same
		// instant in local time (ext 0x32 is a naive local datetime).
		if p == codec.Pyro5 {
			if x.Location() == time.UTC && x.Equal(x.Truncate(24*time.Hour)) {
				return x
			}
			return x.In(time.Local)
		}
		// Pyro4 calls write them through py.FromGo.
		if m, err := py.FromGo(x); err == nil {
			return m
		}
	}
	return degrade(ser, v)
}

// FuzzUnmarshalCall feeds arbitrary payloads to UnmarshalCall of the codec
// chosen by the first byte. Decoding must not panic; a call that decodes
// must re-encode (except for the few values serpent cannot write) and
// decode to the same call.
func FuzzUnmarshalCall(f *testing.F) {
	for _, wp := range wirePayloads {
		id, _ := codec.IDOf(wp.ser)
		f.Add(append([]byte{byte(id)}, wp.call...))
	}
	// msgpack calls with Pyro's date (0x33) and datetime (0x32) extensions
	// and a msgpack timestamp (-1) as arguments.
	f.Add([]byte("\x06\x94\xa1o\xa1m\x93\xd7\x33\x01\x00\x00\x00\x00\x00\x00\x00" +
		"\xd7\x32\x00\x00\x00\x00\x00\x00\xf0\x3f\xd6\xff\x00\x00\x00\x01\x80"))
	for _, seed := range pyro5Seeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		c := fuzzCodec(data[0])
		call, err := c.UnmarshalCall(data[1:])
		if err != nil {
			if call != nil {
				t.Fatalf("%s: call returned with error %v", c.Name(), err)
			}
			return
		}
		again, err := c.MarshalCall(call)
		if err != nil {
			if c.Name() == "serpent" && errors.Is(err, py.ErrUnsupported) {
				return // e.g. {None: 1} reads fine but Python serpent cannot write it
			}
			t.Fatalf("%s: decoded %s but cannot re-encode it: %v", c.Name(), describe(call), err)
		}
		back, err := c.UnmarshalCall(again)
		if err != nil {
			t.Fatalf("%s: re-encoded call %s does not decode: %v", c.Name(), payloadText(again), err)
		}
		want := &codec.Call{Object: call.Object, Method: call.Method, Args: afterRoundTrip(c.Protocol(), c.Name(), call.Args).([]any)}
		if call.Kwargs != nil {
			want.Kwargs = afterRoundTrip(c.Protocol(), c.Name(), call.Kwargs).(*py.Dict)
		}
		if !sameCall(want, back) {
			t.Fatalf("%s: round trip changed the call\n input %s\n first %s\n again %s\n back  %s",
				c.Name(), payloadText(data[1:]), describe(call), payloadText(again), describe(back))
		}
	})
}

// seedValues are the values of pyro_interop.py's corpus that become seeds
// besides all its calls: one of each interesting decoder path.
var seedValues = map[string]bool{
	"complex": true, "bytes": true, "tuple": true, "dict_intkeys": true, "dict_tuplekeys": true,
	"dict_mixedkeys": true, "set_ints": true, "frozenset_ints": true, "exc_value": true, "exc_extra": true,
	"proxy_plain": true, "proxy_hmac": true, "batch_result": true, "uri_ipv6": true, "uri_unix": true,
	"uri_meta2": true, "str_controls": true, "str_astral": true, "str_quotes": true, "int_m2p200": true,
	"int_u64max": true, "float_nan": true, "float_ninf": true, "float_negzero": true, "nested_200": true,
}

// TestWriteFuzzSeeds rewrites the seed corpus when run with
// -update-fuzz-seeds: the §11 payloads, and every call and value of
// pyro_interop.py's corpus as Pyro4 serializes it.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-fuzz-seeds to rewrite the seed corpus")
	}
	needPython(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzUnmarshalCall")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, id int, payload []byte) {
		in := append([]byte{byte(id)}, payload...)
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(in)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, wp := range wirePayloads {
		id, _ := codec.IDOf(wp.ser)
		write("wire_call_"+wp.ser, id, []byte(wp.call))
		write("wire_result_"+wp.ser, id, []byte(wp.result))
	}
	n := 0
	for _, rec := range runPython[pyDump](t, "dump", nil) {
		if rec.Err != "" || len(rec.B64) > 4096 || (rec.Kind != "call" && !seedValues[rec.Name]) {
			continue
		}
		id, _ := codec.IDOf(rec.Ser)
		write(fmt.Sprintf("py_%s_%s", rec.Name, rec.Ser), id, rec.B64)
		n++
	}
	t.Logf("wrote %d seeds to %s", n+2*len(wirePayloads), dir)
}
