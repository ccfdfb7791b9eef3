package codec_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

var updateGolden = flag.Bool("update-wire-golden", false,
	"rewrite testdata/wire_shapes.golden from the current encoders (review the diff: it is the wire format)")

const goldenFile = "testdata/wire_shapes.golden"

// shapeCase is one Pyro message shape: a call (MarshalCall) or a value
// (Marshal: results, exceptions, handshake dicts, class dicts).
type shapeCase struct {
	name  string
	call  *codec.Call
	value any
	// restores is set for values that every codec must decode back to
	// degrade(ser, value): class restoration checked for each codec.
	restores bool
}

// shapeCases covers each shape the codecs share: the call in its
// variants (vargs nil/tuple/list, kwargs None/dict, batch, daemon calls,
// arguments that are Pyro classes, NaN, times), results, exceptions as
// Pyro4 writes them, the URI/Proxy/ExceptionWrapper class dicts, NaN and
// infinities at the top level and nested, the handshake dicts and times
// (msgpack writes them as extensions in values but as ISO strings in
// calls).
func shapeCases() []shapeCase {
	tb := []any{"Traceback (most recent call last):\n", "  File \"x.go\", line 1, in m\n", "ValueError: bad\n"}
	valueErr := &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"bad", int64(12)},
		Attributes: py.DictOf("_pyroTraceback", tb, "extra", "attr")}
	streamStart := &py.Exception{Class: "Pyro4.errors.ProtocolError", Args: py.Tuple{"result of call is an iterator"},
		Attributes: py.DictOf("_pyroTraceback", nil)}
	stop := &py.Exception{Class: "builtins.StopIteration"}
	proxy := &codec.ProxyRef{URI: uri.MustParse("PYRO:obj_1@127.0.0.1:5555"), Oneway: []string{"ow"},
		Methods: []string{"ow", "echo"}, Attrs: []string{"x"}, Timeout: 2.5, Handshake: "hello",
		MaxRetries: 3, Serializer: "json"}
	bare := &codec.ProxyRef{URI: uri.MustParse("PYRO:obj@./u:/tmp/s"), HMACKey: []byte("never sent"),
		Handshake: py.DictOf("user", "bob")}
	wrapper := &codec.ExceptionWrapper{Exception: valueErr}
	utcDay := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	zoned := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("", 5*3600+1800))
	meta := py.DictOf("methods", py.SetOf("echo", "ow"), "oneway", py.SetOf("ow"), "attrs", py.NewSet(0, false))
	x48 := strings.Repeat("x", 48)

	return []shapeCase{
		// Calls (protocol §2.4).
		{name: "call_echo", call: &codec.Call{Object: "test.echoserver", Method: "echo", Args: []any{x48}, Kwargs: py.NewDict(0)}},
		{name: "call_nil_args_nil_kwargs", call: &codec.Call{Object: "o", Method: "__getattr__"}},
		{name: "call_getattr", call: &codec.Call{Object: "o", Method: "__getattr__", Args: []any{"x"}}},
		{name: "call_setattr", call: &codec.Call{Object: "o", Method: "__setattr__", Args: []any{"x", int64(2)}}},
		{name: "call_kwargs", call: &codec.Call{Object: "o", Method: "m", Args: []any{int64(1)},
			Kwargs: py.DictOf("a", int64(1), "b\u00e9", []any{nil, 2.5})}},
		{name: "call_daemon_metadata", call: &codec.Call{Object: "Pyro.Daemon", Method: "get_metadata", Args: []any{"obj"}, Kwargs: py.NewDict(0)}},
		{name: "call_next_stream_item", call: &codec.Call{Object: "Pyro.Daemon", Method: "get_next_stream_item",
			Args: []any{"0c6c2d43-0f4c-4b63-9c3a-3f1a0c6e7d1b"}, Kwargs: py.NewDict(0)}},
		{name: "call_batch", call: &codec.Call{Object: "o", Method: "<batch>", Args: []any{
			py.Tuple{"echo", py.Tuple{int64(1)}, py.NewDict(0)}, py.Tuple{"fail", py.Tuple{}, py.DictOf("k", "v")}}}},
		{name: "call_class_args", call: &codec.Call{Object: "o", Method: "m",
			Args:   []any{uri.MustParse("PYRO:a@h:1"), valueErr, proxy, wrapper, math.NaN(), math.Inf(1), math.Inf(-1)},
			Kwargs: py.DictOf("u", uri.MustParse("PYRONAME:n"), "nan", math.NaN())}},
		{name: "call_times", call: &codec.Call{Object: "o", Method: "m", Args: []any{utcDay, zoned}, Kwargs: py.DictOf("t", zoned)}},
		{name: "call_tuple_args_in_dict", call: &codec.Call{Object: "o", Method: "m",
			Args: []any{py.DictOf("k", py.Tuple{int64(1), int64(2)}), py.Tuple{}, []byte("b")}, Kwargs: py.NewDict(0)}},
		{name: "call_unicode", call: &codec.Call{Object: "\u00fcbj\U0001f600", Method: "m\u00e9thod",
			Args: []any{"\u2028"}, Kwargs: py.DictOf("\u00e9", int64(1))}},
		{name: "call_bad_kwarg_name", call: &codec.Call{Object: "o", Method: "m", Kwargs: py.DictOf(int64(1), int64(2))}},

		// Results (protocol §2.5).
		{name: "result_str", value: x48},
		{name: "result_none", value: nil},
		{name: "result_nested", value: []any{int64(1), py.Tuple{"a", 2.5}, py.DictOf("k", []any{true, nil})}},
		{name: "result_bytes", value: []byte("\x00\xffab")},
		{name: "result_complex", value: complex(1, -2)},
		{name: "result_bigint", value: pow2(80, -1)},
		{name: "result_metadata", value: meta},

		// Exceptions (protocol §2.5, §2.9).
		{name: "exception", value: valueErr, restores: true},
		{name: "exception_stream_start", value: streamStart, restores: true},
		{name: "exception_stop_iteration", value: stop, restores: true},
		{name: "exception_pyro_error", value: py.NewException("Pyro4.errors.NamingError", "unknown name: x", []string{"tb\n"}), restores: true},

		// Class dicts (protocol §3.8).
		{name: "uri_tcp", value: uri.MustParse("PYRO:Pyro.NameServer@127.0.0.1:9090"), restores: true},
		{name: "uri_ipv6", value: uri.MustParse("PYRO:obj@[::1]:9999"), restores: true},
		{name: "uri_unix", value: uri.MustParse("PYRO:obj@./u:/tmp/pyro.sock"), restores: true},
		{name: "uri_pyroname", value: uri.MustParse("PYRONAME:my.name@nshost:9091"), restores: true},
		{name: "uri_pyrometa", value: uri.MustParse("PYROMETA:a,b@nshost:1"), restores: true},
		{name: "proxy", value: proxy, restores: true},
		{name: "proxy_no_key_no_serializer", value: bare},
		{name: "batch_result", value: []any{[]any{py.Tuple{int64(1)}, py.NewDict(0)}, int64(2), wrapper}, restores: true},
		{name: "uri_nested", value: []any{uri.MustParse("PYRO:a@h:1"), py.DictOf("u", uri.MustParse("PYRONAME:n"))}, restores: true},

		// NaN and infinities (protocol §3.2, §3.3).
		{name: "float_nan", value: math.NaN(), restores: true},
		{name: "float_inf", value: math.Inf(1), restores: true},
		{name: "float_-inf", value: math.Inf(-1), restores: true},
		{name: "float_-0", value: math.Copysign(0, -1), restores: true},
		{name: "float_nan_nested", value: []any{math.NaN(), py.DictOf("n", math.NaN(), "i", math.Inf(-1))}, restores: true},
		{name: "float_nan_in_tuple", value: py.Tuple{math.NaN()}},
		{name: "float_nan_in_exception", value: &py.Exception{Class: "builtins.ValueError", Args: py.Tuple{math.NaN()}}},

		// Handshake dicts (protocol §2.2).
		{name: "handshake_connect", value: py.DictOf("handshake", "hello", "object", "obj")},
		{name: "handshake_connectok", value: py.DictOf("handshake", "hello", "meta", meta)},

		// Times: msgpack's extensions in values.
		{name: "time_utc_midnight", value: utcDay},
		{name: "time_zoned", value: zoned},
	}
}

// encodeShape encodes one case with c as the Codec API does, plus the
// Append variants, which must write the same bytes after a prefix.
func encodeShape(t *testing.T, c codec.Codec, sc shapeCase) ([]byte, error) {
	t.Helper()
	var data []byte
	var err error
	prefix := []byte("prefix")
	if sc.call != nil {
		data, err = c.MarshalCall(sc.call)
		app, aerr := c.AppendCall(bytes.Clone(prefix), sc.call)
		if !sameEncoding(prefix, data, err, app, aerr) {
			t.Errorf("%s/%s: AppendCall = %q, %v; MarshalCall = %q, %v", sc.name, c.Name(), app, aerr, data, err)
		}
		return data, err
	}
	data, err = c.Marshal(sc.value)
	app, aerr := c.AppendMarshal(bytes.Clone(prefix), sc.value)
	if !sameEncoding(prefix, data, err, app, aerr) {
		t.Errorf("%s/%s: AppendMarshal = %q, %v; Marshal = %q, %v", sc.name, c.Name(), app, aerr, data, err)
	}
	// A bound the value stays under lets it through unchanged
	// (limit_test.go covers the bound stopping an encoding).
	lim := &py.SizeLimit{Max: 1 << 20}
	app, aerr = c.AppendMarshalLimit(bytes.Clone(prefix), sc.value, lim)
	if !sameEncoding(prefix, data, err, app, aerr) {
		t.Errorf("%s/%s: AppendMarshalLimit = %q, %v; Marshal = %q, %v", sc.name, c.Name(), app, aerr, data, err)
	}
	return data, err
}

// sameEncoding reports whether an Append variant (app, aerr) agrees with
// the plain encoding (data, err): the same bytes after prefix, or an
// error with the same text.
func sameEncoding(prefix, data []byte, err error, app []byte, aerr error) bool {
	if err != nil || aerr != nil {
		return err != nil && aerr != nil && err.Error() == aerr.Error()
	}
	return bytes.HasPrefix(app, prefix) && bytes.Equal(app[len(prefix):], data)
}

// goldenLine renders one encoding: the payload as a Go string literal
// (text formats stay readable, binary ones exact), or the error.
func goldenLine(name, ser string, data []byte, err error) string {
	if err != nil {
		return fmt.Sprintf("%s %s error %s", name, ser, strconv.Quote(err.Error()))
	}
	return fmt.Sprintf("%s %s %s", name, ser, strconv.Quote(string(data)))
}

// TestWireShapesGolden pins the bytes every codec writes for each shape
// in shapeCases, and the errors for what it refuses, to
// testdata/wire_shapes.golden. The file was written by the per-serializer
// codecs before they were merged into one implementation, whose payloads
// interop_test.go checks against Pyro4; any change to what goes on the
// wire fails here. Regenerate (and review the diff) with
//
//	go test -run TestWireShapesGolden -update-wire-golden ./codec
func TestWireShapesGolden(t *testing.T) {
	var got []string
	for _, sc := range shapeCases() {
		for _, ser := range serializerNames {
			c := mustCodec(ser)
			data, err := encodeShape(t, c, sc)
			got = append(got, goldenLine(sc.name, ser, data, err))
			if err != nil || !sc.restores {
				continue
			}
			back, err := c.Unmarshal(data)
			if want := degrade(ser, sc.value); err != nil || !same(want, back) {
				t.Errorf("%s/%s: %s decodes to %s, %v; want %s", sc.name, ser, payloadText(data), describe(back), err, describe(want))
			}
		}
	}
	if *updateGolden {
		out := "# Payloads of codec.TestWireShapesGolden: case serializer payload-or-error (Go string literals).\n" +
			strings.Join(got, "\n") + "\n"
		if err := os.WriteFile(filepath.FromSlash(goldenFile), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d payloads to %s", len(got), goldenFile)
		return
	}
	f, err := os.Open(filepath.FromSlash(goldenFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			want = append(want, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d payloads, golden file has %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("payload %d differs from %s\n got  %s\n want %s", i, goldenFile, got[i], want[i])
		}
	}
}
