package pyro_test

// Interop with real Python Pyro4 4.82, in both directions:
//
//   TestInteropPythonClients: Python proxies (testdata/interop/pyclient.py,
//   one run per serializer) against Go daemons serving the Go echo server
//   and a typed object, plus HMAC-keyed, unix-socket, compressing and
//   size-limited Go daemons. Echo results are compared with those of
//   Python's own echo server (python -m Pyro4.test.echoserver).
//
//   TestInteropGoProxies: Go proxies against Python daemons
//   (testdata/interop/pyserver.py and Python's echo server).
//
// Both cover every serializer (serpent, json, marshal, msgpack) and, from
// each side: values and typed methods, errors with tracebacks, oneway,
// item streams, remote attributes, batches, autoproxies, metadata,
// Pyro.Daemon, handshakes, HMAC (matching, wrong, missing and unexpected
// keys), unix and abstract sockets, compression (checked on the wire) and
// MAX_MESSAGE_SIZE. Where Pyro4 itself cannot do something with a
// serializer (bytes in json, attribute access and batches from a marshal
// client, int dict keys in msgpack...) the case is skipped with the reason.
//
// Each Python server is started once per test function, not per case, and
// each Python client script runs once per serializer. The tests skip
// without a suitable python3 (see internal/pytest), and fail instead when
// the environment variable CI is set.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

var allSerializers = []string{"serpent", "json", "marshal", "msgpack"}

const (
	interopKey   = "interop hmac key"
	interopLimit = 2000 // MAX_MESSAGE_SIZE of the size-limited daemons
	pyServerEnv  = "PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack"
	// slowDelay is how long the Go echo server's slow methods sleep; a
	// oneway_slow call must return long before that.
	slowDelay = 1200 * time.Millisecond
)

// ---------------------------------------------------------------------------
// Go objects served to Python clients

type ipPoint struct {
	X float64 `pyro:"x"`
	Y float64 `pyro:"y"`
}

type ipPerson struct {
	Name string `pyro:"name"`
	Age  int    `pyro:"age"`
}

type ipChild struct {
	name string
	n    atomic.Int64
}

func (c *ipChild) Name() string { return c.name }
func (c *ipChild) Incr() int64  { return c.n.Add(1) }

// ipTyped has typed methods of every kind a Python client may call.
type ipTyped struct {
	mu      sync.Mutex
	label   string
	adds    atomic.Int64
	oneways atomic.Int64
	kids    [2]*ipChild
}

func newTyped() *ipTyped {
	return &ipTyped{label: "initial", kids: [2]*ipChild{{name: "kid"}, {name: "kid2"}}}
}

func (o *ipTyped) PyroExpose() pyro.Exposure {
	return pyro.Exposure{
		Oneway: []string{"oneway_note"},
		Attrs:  []string{"label"},
		Params: map[string][]string{
			"greet": {"name", "greeting", "punct"},
			"scale": {"p", "factor"},
			"opts":  {"a"},
		},
	}
}

func (o *ipTyped) AddInts(a, b int64) int64           { o.adds.Add(1); return a + b }
func (o *ipTyped) Adds() int64                        { return o.adds.Load() }
func (o *ipTyped) MulFloat(a, b float64) float64      { return a * b }
func (o *ipTyped) Concat(a, b string) string          { return a + b }
func (o *ipTyped) Scale(p ipPoint, f float64) ipPoint { return ipPoint{p.X * f, p.Y * f} }
func (o *ipTyped) People() []ipPerson                 { return []ipPerson{{"Ann", 41}, {"Bob", 7}} }
func (o *ipTyped) Greet(name, greeting, punct string) string {
	return greeting + " " + name + punct
}
func (o *ipTyped) IsNone(v any) bool { return v == nil }
func (o *ipTyped) ReturnNone() any   { return nil }
func (o *ipTyped) Panic() string     { panic("boom") }
func (o *ipTyped) Big(n int) string  { return strings.Repeat("x", n) }
func (o *ipTyped) OnewayNote(string) { o.oneways.Add(1) }
func (o *ipTyped) Oneways() int64    { return o.oneways.Load() }
func (o *ipTyped) Child() *ipChild   { return o.kids[0] }
func (o *ipTyped) Children() []any   { return []any{o.kids[0], o.kids[1]} }
func (o *ipTyped) ChildMap() map[string]any {
	return map[string]any{"kid": o.kids[0], "n": 1, "all": o.kids[:], "tuple": py.Tuple{o.kids[1]},
		"dict": py.DictOf("k", o.kids[0])}
}
func (o *ipTyped) ObjURI(name string) pyro.URI {
	return pyro.URI{Protocol: "PYRO", Object: name, Host: "example.org", Port: 1234}
}
func (o *ipTyped) URIText(u pyro.URI) string { return u.String() }

func (o *ipTyped) ReverseBytes(b []byte) []byte {
	out := slices.Clone(b)
	slices.Reverse(out)
	return out
}

func (o *ipTyped) SumList(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

func (o *ipTyped) Sum(xs ...float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

func (o *ipTyped) SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (o *ipTyped) Invert(m map[string]int) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[fmt.Sprint(v)] = k
	}
	return out
}

func (o *ipTyped) Opts(a int, kw pyro.Kwargs) map[string]any {
	out := map[string]any{"a": a}
	for k, v := range kw {
		out[k] = v
	}
	return out
}

func (o *ipTyped) OptName(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func (o *ipTyped) Lookup(key string) (string, error) {
	if key == "a" {
		return "A", nil
	}
	return "", &pyro.PythonError{Class: "KeyError", Msg: key}
}

func (o *ipTyped) Countdown(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := n; i > 0; i-- {
			if !yield(i) {
				return
			}
		}
	}
}

// ContextInfo reports the correlation id and the XTRA request annotation,
// and answers with an XRES response annotation.
func (o *ipTyped) ContextInfo(ctx context.Context) map[string]any {
	cc := pyro.CallContextFrom(ctx)
	xtra := string(cc.Annotations["XTRA"])
	cc.ResponseAnnotations = map[string][]byte{"XRES": []byte(xtra + "!")}
	c := cc.CorrelationID
	corr := fmt.Sprintf("%x-%x-%x-%x-%x", c[0:4], c[4:6], c[6:8], c[8:10], c[10:16])
	return map[string]any{"corr": corr, "xtra": xtra}
}

// RequestFlags returns the header flags of the request (to see compression).
func (o *ipTyped) RequestFlags(ctx context.Context, data any) int {
	return int(pyro.CallContextFrom(ctx).Flags)
}

func (o *ipTyped) Size(data any) (int, error) {
	switch d := data.(type) {
	case string:
		return len([]rune(d)), nil
	case []byte:
		return len(d), nil
	}
	return 0, &pyro.PythonError{Class: "TypeError", Msg: "size of " + py.TypeName(data)}
}

func (o *ipTyped) Label() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.label
}

func (o *ipTyped) SetLabel(s string) {
	o.mu.Lock()
	o.label = s
	o.mu.Unlock()
}

// startGoDaemon serves a Go echo server ("test.echoserver") and an ipTyped
// ("typed") until the test ends.
func startGoDaemon(t *testing.T, cfg *pyro.Config, opts ...pyro.DaemonOption) (*pyro.Daemon, *ipTyped) {
	t.Helper()
	if cfg == nil {
		cfg = pyro.BuiltinConfig()
	}
	cfg.SerializersAccepted = allSerializers
	d, err := pyro.NewDaemon(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	typed := newTyped()
	for id, obj := range map[string]any{echoserver.ObjectID: &echoserver.EchoServer{SlowDelay: slowDelay}, "typed": typed} {
		if _, err := d.Register(obj, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range typed.kids {
		if _, err := d.Register(k, ""); err != nil {
			t.Fatal(err)
		}
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Shutdown(ctx)
		if err := <-served; !errors.Is(err, pyro.ErrDaemonClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return d, typed
}

// startPyEchoServer runs python -m Pyro4.test.echoserver and returns its URI.
func startPyEchoServer(t *testing.T, env ...string) string {
	t.Helper()
	s := pytest.Cmd{
		Args:  []string{"-m", "Pyro4.test.echoserver", "-H", "127.0.0.1"},
		Env:   append([]string{pyServerEnv}, env...),
		Ready: regexp.MustCompile(`^echo uri: (\S+)`),
	}.Start(t)
	return s.Ready
}

// ---------------------------------------------------------------------------
// A. Python clients -> Go daemons (and C-F from the Python side)

type pyCase struct {
	OK      bool    `json:"ok"`
	Skip    bool    `json:"skip"`
	Detail  string  `json:"detail"`
	Seconds float64 `json:"seconds"`
}

// requiredPyCases must be among the script's results, so a script that
// silently stops running a check cannot pass.
var requiredPyCases = []string{
	"echo/bigint", "echo/unicode", "echo/nan", "echo/dict_int_keys", "echo/nested", "echo/error", "echo/oneway_echo",
	"echo/generator", "echo/verbose_attribute", "echo/dunder", "echo/nan_inf", "echo/metadata",
	"typed/ints", "typed/floats", "typed/strings", "typed/bytes", "typed/lists", "typed/dicts", "typed/struct",
	"typed/kwargs", "typed/none", "typed/key_error", "typed/batch", "typed/autoproxy", "typed/context",
	"typed/ping_message", "daemon/methods", "hmac/ok", "hmac/wrong_key", "hmac/no_key", "hmac/key_vs_unkeyed_daemon",
	"unix/path", "unix/abstract", "compression/both_ways", "max_message_size/request_too_big",
	"max_message_size/reply_too_big", "typed/async", "typed/timeout", "daemon/serializer_not_accepted",
	"handshake/accepted", "handshake/refused",
	"typed/arity", "typed/large_messages", "compression/with_hmac",
}

func TestInteropPythonClients(t *testing.T) {
	pytest.Python(t)
	pyEcho := startPyEchoServer(t)

	main, _ := startGoDaemon(t, nil)
	hmacD, _ := startGoDaemon(t, nil, pyro.WithHMACKey([]byte(interopKey)))
	unixD, _ := startGoDaemon(t, nil, pyro.WithUnixSocket(filepath.Join(t.TempDir(), "go.sock")))
	abstract := ""
	if isLinux() {
		ad, _ := startGoDaemon(t, nil, pyro.WithUnixSocket(fmt.Sprintf("\x00pyrogo-interop-%d-%d", os.Getpid(), time.Now().UnixNano())))
		abstract = ad.URIFor("typed").String()
	}
	ccfg := pyro.BuiltinConfig()
	ccfg.Compression = true
	compD, _ := startGoDaemon(t, ccfg)
	hccfg := pyro.BuiltinConfig()
	hccfg.Compression = true
	hmacCompD, _ := startGoDaemon(t, hccfg, pyro.WithHMACKey([]byte(interopKey)))
	lcfg := pyro.BuiltinConfig()
	lcfg.MaxMessageSize = interopLimit
	limD, _ := startGoDaemon(t, lcfg)
	shakeD, _ := startGoDaemon(t, nil, pyro.WithHandshake(func(ctx context.Context, c *pyro.ConnInfo, data any) (any, error) {
		d, _ := data.(*py.Dict)
		secret, _ := d.GetString("secret")
		n, _ := d.GetString("n")
		if secret != "open sesame" {
			return nil, fmt.Errorf("go away: bad handshake %s", py.Repr(data))
		}
		return py.DictOf("welcome", true, "n", n), nil
	}))

	input, err := json.Marshal(map[string]any{
		"go_echo":       main.URIFor(echoserver.ObjectID).String(),
		"py_echo":       pyEcho,
		"typed":         main.URIFor("typed").String(),
		"daemon":        main.URIFor(pyro.DaemonObjectID).String(),
		"hmac":          map[string]string{"uri": hmacD.URIFor("typed").String(), "key": interopKey},
		"unix":          unixD.URIFor("typed").String(),
		"abstract":      abstract,
		"compress":      compD.URIFor("typed").String(),
		"limited":       limD.URIFor("typed").String(),
		"shake":         shakeD.URIFor("typed").String(),
		"hmac_compress": hmacCompD.URIFor("typed").String(),
		"limit":         interopLimit,
		"slow_delay":    slowDelay.Seconds(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ser := range allSerializers {
		t.Run(ser, func(t *testing.T) {
			res := pytest.Cmd{
				Args:  []string{"testdata/interop/pyclient.py"},
				Env:   []string{"PYRO_SERIALIZER=" + ser},
				Stdin: string(input),
			}.Run(t)
			var out struct {
				Serializer string            `json:"serializer"`
				Cases      map[string]pyCase `json:"cases"`
			}
			if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil {
				t.Fatalf("pyclient.py exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			if out.Serializer != ser {
				t.Fatalf("script used serializer %q", out.Serializer)
			}
			for _, name := range requiredPyCases {
				if _, ok := out.Cases[name]; !ok {
					t.Errorf("case %s missing from the script's results", name)
				}
			}
			names := make([]string, 0, len(out.Cases))
			for n := range out.Cases {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, name := range names {
				c := out.Cases[name]
				t.Run(name, func(t *testing.T) {
					switch {
					case !c.OK:
						t.Error(c.Detail)
					case c.Skip:
						t.Skip(c.Detail)
					case c.Detail != "":
						t.Log(c.Detail)
					}
					if c.Seconds > 2 {
						t.Logf("took %.1fs in the Python client", c.Seconds)
					}
				})
			}
			if res.Stderr != "" && t.Failed() {
				t.Logf("stderr:\n%s", res.Stderr)
			}
		})
	}
}

func isLinux() bool { return runtime.GOOS == "linux" }

// ---------------------------------------------------------------------------
// B. Go proxies -> Python daemons (and C-F from the Go side)

type pyServers struct {
	plain, hmac, unix, abstract string // URIs of "thing" in each daemon
	echo                        string
}

func startPyServers(t *testing.T) pyServers {
	t.Helper()
	abstractName := fmt.Sprintf("pyrogo-py-%d-%d", os.Getpid(), time.Now().UnixNano())
	s := pytest.Cmd{
		Args: []string{"testdata/interop/pyserver.py", t.TempDir(), interopKey, abstractName},
		// compression on: every Python reply of 200 bytes or more is compressed
		Env: []string{pyServerEnv, "PYRO_COMPRESSION=true"},
	}.Start(t)
	var uris map[string]string
	if err := json.Unmarshal([]byte(s.Ready), &uris); err != nil {
		t.Fatalf("pyserver.py READY line %q: %v", s.Ready, err)
	}
	return pyServers{plain: uris["plain"], hmac: uris["hmac"], unix: uris["unix"], abstract: uris["abstract"],
		echo: startPyEchoServer(t)}
}

func TestInteropGoProxies(t *testing.T) {
	pytest.Python(t)
	srv := startPyServers(t)
	for _, ser := range allSerializers {
		t.Run(ser, func(t *testing.T) {
			goProxySuite(t, srv, ser)
		})
	}
	t.Run("hmac", func(t *testing.T) { goProxyHMAC(t, srv) })
	t.Run("unix", func(t *testing.T) { goProxyUnix(t, srv) })
	t.Run("compression", func(t *testing.T) { goProxyCompression(t, srv) })
	t.Run("compression_hmac", func(t *testing.T) { goProxyCompressionHMAC(t, srv) })
	t.Run("max_message_size", func(t *testing.T) { goProxyMaxSize(t, srv) })
}

func mustProxy(t *testing.T, uri string, cfg *pyro.Config, opts ...pyro.ProxyOption) *pyro.Proxy {
	t.Helper()
	p, err := pyro.NewProxy(uri, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func withURIObject(t *testing.T, uri, object string) string {
	t.Helper()
	u, err := pyro.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	u.Object = object
	return u.String()
}

func bigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return b
}

// echoCase is a value a Go proxy sends to Python's echo server, with what
// comes back per serializer (nil map entry: the value itself).
type echoCase struct {
	name   string
	value  any
	want   map[string]any // serializer -> expected result, when it differs
	cannot []string       // serializers that cannot carry the value
}

func echoCorpus() []echoCase {
	nested := any([]any{})
	for range 40 {
		nested = []any{nested}
	}
	intKeys := py.DictOf(int64(1), "one", int64(-2), py.Tuple{int64(2)})
	strKeys := py.DictOf("1", "one", "-2", []any{int64(2)})
	tuple := py.Tuple{int64(1), "a", 2.5}
	tupleAsList := []any{int64(1), "a", 2.5}
	set := py.SetOf(int64(1), int64(2), int64(3))
	setAsList := []any{int64(1), int64(2), int64(3)}
	long := strings.Repeat("0123456789abcdef", 8192)
	frozen := py.NewSet(1, true)
	frozen.Add("a")
	longList := make([]any, 10000)
	for i := range longList {
		longList[i] = int64(i)
	}
	return []echoCase{
		{name: "none", value: nil},
		{name: "true", value: true},
		{name: "false", value: false},
		{name: "int_zero", value: int64(0)},
		{name: "int_neg", value: int64(-42)},
		{name: "int_max64", value: int64(math.MaxInt64)},
		{name: "int_min64", value: int64(math.MinInt64)},
		{name: "uint64_max", value: bigInt("18446744073709551615")},
		{name: "bigint", value: bigInt("1267650600228229401496703217721")},
		{name: "bigint_neg", value: bigInt("-2503155504993241601315571986085849")},
		{name: "float", value: math.Pi},
		{name: "float_neg_zero", value: math.Copysign(0, -1)},
		{name: "float_tiny", value: 5e-324},
		{name: "float_huge", value: math.MaxFloat64},
		{name: "float_int_valued", value: 2.0},
		{name: "nan", value: math.NaN()},
		{name: "inf", value: math.Inf(1)},
		{name: "neg_inf", value: math.Inf(-1)},
		{name: "str", value: "hello"},
		{name: "str_empty", value: ""},
		{name: "unicode", value: "häßlich € ☃ 𝄞 中文 مرحبا"},
		{name: "str_escapes", value: "it's \"quoted\" \\ back\nnew\ttab\rcr \x7f \x01 \u2028"},
		{name: "str_long", value: long},
		{name: "bytes", value: []byte("\x00\x01\xff\xfeabc"), cannot: []string{"json"}},
		{name: "list", value: []any{int64(1), "a", 2.5, nil, true}},
		{name: "list_empty", value: []any{}},
		{name: "tuple", value: tuple, want: map[string]any{"json": tupleAsList, "msgpack": tupleAsList}},
		{name: "tuple_empty", value: py.Tuple{}, want: map[string]any{"json": []any{}, "msgpack": []any{}}},
		{name: "dict", value: py.DictOf("a", int64(1), "b", []any{int64(1)}, "c", py.DictOf("d", nil))},
		{name: "dict_empty", value: py.NewDict(0)},
		{name: "dict_int_keys", value: intKeys, want: map[string]any{"json": strKeys}, cannot: []string{"msgpack"}},
		{name: "set", value: set, want: map[string]any{"json": setAsList, "msgpack": setAsList}},
		{name: "struct", value: ipPerson{"Ann", 41}, want: map[string]any{
			"serpent": py.DictOf("name", "Ann", "age", int64(41)), "json": py.DictOf("name", "Ann", "age", int64(41)),
			"marshal": py.DictOf("name", "Ann", "age", int64(41)), "msgpack": py.DictOf("name", "Ann", "age", int64(41))}},
		{name: "nested", value: nested},
		{name: "complex", value: complex(1.5, -2), cannot: []string{"json"}},
		{name: "floats_nested", value: []any{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), py.DictOf("x", math.NaN())}},
		{name: "str_nul", value: "a\x00b\x00"},
		{name: "bigint_huge", value: new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 1000), big.NewInt(1))},
		{name: "bigint_huge_neg", value: new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 999))},
		// serpent has no frozenset literal (Python sends a set too); Pyro's
		// json and msgpack serializers cannot carry frozensets, nor can ours
		{name: "frozenset", value: frozen, want: map[string]any{"serpent": py.SetOf("a")}, cannot: []string{"json", "msgpack"}},
		{name: "list_long", value: longList},
		{name: "dict_unicode_keys", value: py.DictOf("été", int64(1), "😀", []any{"☃"})},
	}
}

// describeCases: what Python's describe() says it received, per serializer
// (canonical form of pyserver.py's canon(); "*" applies to all).
var describeCases = []struct {
	name  string
	value any
	want  map[string]string
}{
	{"int", int64(7), map[string]string{"*": `["int","7"]`}},
	{"int_go_width", int8(-3), map[string]string{"*": `["int","-3"]`}},
	{"uint64", uint64(math.MaxUint64), map[string]string{"*": `["int","18446744073709551615"]`}},
	// msgpack carries ints beyond 64 bits as ext type 0x31 (as Pyro4 does);
	// Pyro4's daemon decodes call arguments without its ext hook, so the
	// method gets a raw ExtType, exactly as from a Python client
	{"bigint", bigInt("-1267650600228229401496703217721"), map[string]string{"serpent": `["int","-1267650600228229401496703217721"]`,
		"json": `["int","-1267650600228229401496703217721"]`, "marshal": `["int","-1267650600228229401496703217721"]`,
		"msgpack": `["tuple",[["int","49"],["bytes","2d31323637363530363030323238323239343031343936373033323137373231"]]]`}},
	{"float", 2.5, map[string]string{"*": `["float","2.5"]`}},
	{"float32", float32(0.5), map[string]string{"*": `["float","0.5"]`}},
	{"float_whole", 3.0, map[string]string{"*": `["float","3.0"]`}},
	{"bool", true, map[string]string{"*": `["bool",true]`}},
	{"none", nil, map[string]string{"*": `["None"]`}},
	{"str", "ü€𝄞", map[string]string{"*": `["str","ü€𝄞"]`}},
	{"bytes", []byte("ab"), map[string]string{
		"serpent": `["dict",[[["str","data"],["str","YWI="]],[["str","encoding"],["str","base64"]]]]`,
		"marshal": `["bytes","6162"]`, "msgpack": `["bytes","6162"]`}},
	{"tuple", py.Tuple{int64(1)}, map[string]string{"serpent": `["tuple",[["int","1"]]]`, "marshal": `["tuple",[["int","1"]]]`,
		"json": `["list",[["int","1"]]]`, "msgpack": `["list",[["int","1"]]]`}},
	{"list", []string{"a"}, map[string]string{"*": `["list",[["str","a"]]]`}},
	{"set", py.SetOf("a"), map[string]string{"serpent": `["set",[["str","a"]]]`, "marshal": `["set",[["str","a"]]]`,
		"json": `["list",[["str","a"]]]`, "msgpack": `["list",[["str","a"]]]`}},
	{"map_int_keys", map[int]string{1: "x"}, map[string]string{"serpent": `["dict",[[["int","1"],["str","x"]]]]`,
		"marshal": `["dict",[[["int","1"],["str","x"]]]]`, "json": `["dict",[[["str","1"],["str","x"]]]]`}},
	{"struct", ipPoint{1, -2}, map[string]string{"*": `["dict",[[["str","x"],["float","1.0"]],[["str","y"],["float","-2.0"]]]]`}},
	{"nan", math.NaN(), map[string]string{"*": `["float","nan"]`}},
	{"neg_inf", math.Inf(-1), map[string]string{"*": `["float","-inf"]`}},
	{"complex", complex(1, 2), map[string]string{"serpent": `["complex","(1+2j)"]`, "marshal": `["complex","(1+2j)"]`,
		"msgpack": `["tuple",[["int","48"],["bytes","000000000000f03f0000000000000040"]]]`}}, // ext 0x30, raw as above
}

func canonJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad canonical form %s: %v", s, err)
	}
	return v
}

func goProxySuite(t *testing.T, srv pyServers, ser string) {
	ctx := context.Background()
	p := mustProxy(t, srv.plain, nil, pyro.WithSerializer(ser))
	echo := mustProxy(t, srv.echo, nil, pyro.WithSerializer(ser))

	t.Run("echo_corpus", func(t *testing.T) {
		for _, c := range echoCorpus() {
			t.Run(c.name, func(t *testing.T) {
				got, err := echo.Call(ctx, "echo", c.value)
				if slices.Contains(c.cannot, ser) {
					t.Skipf("%s cannot carry %s (got %v, %v)", ser, c.name, py.Repr(got), err)
				}
				if err != nil {
					t.Fatal(err)
				}
				want, ok := c.want[ser]
				if !ok {
					want = c.value
				}
				if ser == "serpent" && c.name == "bytes" {
					// Pyro never turns serpent's base64 dict back into bytes; it
					// converts on demand, as Pyro's serpent.tobytes does
					var b []byte
					if err := py.Convert(&b, got); err != nil || string(b) != string(c.value.([]byte)) {
						t.Errorf("bytes over serpent: %s (%v)", py.Repr(got), err)
					}
					return
				}
				if !py.Same(got, want) {
					t.Errorf("echo(%.200s) = %.200s, want %.200s", py.Repr(c.value), py.Repr(got), py.Repr(want))
				}
			})
		}
	})

	t.Run("types_seen_by_python", func(t *testing.T) {
		for _, c := range describeCases {
			t.Run(c.name, func(t *testing.T) {
				want, ok := c.want[ser]
				if !ok {
					want, ok = c.want["*"]
				}
				got, err := p.Call(ctx, "describe", c.value)
				if !ok {
					t.Skipf("%s cannot carry %s (got %v, %v)", ser, c.name, got, err)
				}
				if err != nil {
					t.Fatal(err)
				}
				var args []any
				if err := json.Unmarshal([]byte(got.(string)), &args); err != nil {
					t.Fatal(err)
				}
				// describe(*args, **kwargs): args is always a tuple in Python
				wantArgs := canonJSON(t, `[["tuple",[`+want+`]],["dict",[]]]`)
				if !jsonEqual(args, wantArgs) {
					t.Errorf("python received %s, want %s", got, mustJSON(wantArgs))
				}
			})
		}
		got, err := p.CallKw(ctx, "describe", nil, map[string]any{"k": int64(1), "ü": []any{"x"}})
		if err != nil {
			t.Fatal(err)
		}
		var args []any
		json.Unmarshal([]byte(got.(string)), &args)
		// (canon() sorts entries by their JSON text, where ü is \u00fc)
		want := canonJSON(t, `["dict",[[["str","ü"],["list",[["str","x"]]]],[["str","k"],["int","1"]]]]`)
		if len(args) != 2 || !jsonEqual(args[1], want) {
			t.Errorf("kwargs seen by python: %s", got)
		}
	})

	t.Run("results", func(t *testing.T) {
		if v, err := p.Call(ctx, "add", 2, 3); err != nil || !py.Same(v, int64(5)) {
			t.Errorf("add = %v, %v", v, err)
		}
		if v, err := p.Call(ctx, "add", "a", "b"); err != nil || v != "ab" {
			t.Errorf("add strings = %v, %v", v, err)
		}
		n, err := pyro.CallT[int](ctx, p, "add", 40, 2)
		if err != nil || n != 42 {
			t.Errorf("CallT[int] = %v, %v", n, err)
		}
		v, err := p.Call(ctx, "kinds")
		if err != nil {
			t.Fatal(err)
		}
		d, ok := v.(*py.Dict)
		if !ok {
			t.Fatalf("kinds() = %s", py.Repr(v))
		}
		get := func(k string) any { x, _ := d.GetString(k); return x }
		tupleWant := any(py.Tuple{int64(1), "a"})
		intKeys := any(py.DictOf(int64(1), "one", int64(2), "two"))
		switch ser {
		case "json":
			tupleWant = []any{int64(1), "a"}
			intKeys = py.DictOf("1", "one", "2", "two")
		case "msgpack":
			tupleWant = []any{int64(1), "a"}
		}
		for k, want := range map[string]any{
			"int": int64(7), "neg": int64(-7), "big": bigInt("1267650600228229401496703205376"), "float": 2.5,
			"str": "h\u00e9llo \u2603 \U0001d11e", "list": []any{int64(1), []any{int64(2), []any{int64(3)}}},
			"tuple": tupleWant, "none": nil, "true": true, "intkeys": intKeys, "empty": py.NewDict(0),
		} {
			if !py.Same(get(k), want) {
				t.Errorf("kinds()[%q] = %s, want %s", k, py.Repr(get(k)), py.Repr(want))
			}
		}
		var kinds struct {
			Int   int            `pyro:"int"`
			Big   *big.Int       `pyro:"big"`
			Str   string         `pyro:"str"`
			List  []any          `pyro:"list"`
			Empty map[string]int `pyro:"empty"`
		}
		if err := p.CallInto(ctx, &kinds, "kinds"); err != nil || kinds.Int != 7 || kinds.Big.BitLen() != 101 || kinds.Str != "h\u00e9llo \u2603 \U0001d11e" {
			t.Errorf("CallInto struct: %+v %v", kinds, err)
		}
		if ser == "json" {
			var keys map[string]string
			if err := py.Convert(&keys, get("intkeys")); err != nil || keys["2"] != "two" {
				t.Errorf("intkeys %v %v", keys, err)
			}
		} else {
			var keys map[int]string
			if err := py.Convert(&keys, get("intkeys")); err != nil || keys[2] != "two" {
				t.Errorf("intkeys %v %v", keys, err)
			}
		}
	})

	t.Run("large_messages", func(t *testing.T) {
		const n = 3 * 1000 * 1000
		if got, err := pyro.CallT[int](ctx, p, "size", strings.Repeat("y", n)); err != nil || got != n {
			t.Errorf("3 MB argument: %v %v", got, err)
		}
		if s, err := pyro.CallT[string](ctx, p, "big", n); err != nil || len(s) != n {
			t.Errorf("3 MB result: %d %v", len(s), err)
		}
	})

	t.Run("kwargs", func(t *testing.T) {
		for _, c := range []struct {
			args []any
			kw   map[string]any
			want string
		}{
			{[]any{"Ann"}, nil, "hello Ann!"},
			{[]any{"Ann"}, map[string]any{"greeting": "hi"}, "hi Ann!"},
			{nil, map[string]any{"name": "Bob", "punct": "?", "greeting": "yo"}, "yo Bob?"},
		} {
			if v, err := p.CallKw(ctx, "greet", c.args, c.kw); err != nil || v != c.want {
				t.Errorf("greet(%v, %v) = %v, %v", c.args, c.kw, v, err)
			}
		}
		_, err := p.CallKw(ctx, "greet", []any{"Ann"}, map[string]any{"bogus": 1})
		var re *pyro.RemoteError
		if !errors.As(err, &re) || re.Class() != "builtins.TypeError" || !strings.Contains(re.Message(), "bogus") {
			t.Errorf("unexpected keyword: %v", err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := p.Call(ctx, "fail")
		var re *pyro.RemoteError
		if !errors.As(err, &re) {
			t.Fatalf("fail: %#v", err)
		}
		if re.Class() != "builtins.ValueError" || !py.Same(re.Args(), py.Tuple{"expected failure", int64(12)}) && !py.Same(re.Args(), []any{"expected failure", int64(12)}) {
			t.Errorf("fail: class %s args %s", re.Class(), py.Repr(re.Args()))
		}
		if re.Message() != "('expected failure', 12)" {
			t.Errorf("fail message %q", re.Message())
		}
		tb := strings.Join(re.Traceback(), "")
		if !strings.Contains(tb, "Traceback") || !strings.Contains(tb, "ValueError: ('expected failure', 12)") || !strings.Contains(tb, "pyserver.py") {
			t.Errorf("fail traceback: %q", tb)
		}
		if errors.Is(err, pyro.ErrPyro) {
			t.Errorf("a ValueError matches ErrPyro")
		}

		_, err = p.Call(ctx, "naming")
		if !errors.Is(err, pyro.ErrNaming) || !errors.Is(err, pyro.ErrPyro) || errors.Is(err, pyro.ErrCommunication) {
			t.Errorf("naming: errors.Is mismatch for %v", err)
		}
		if !errors.As(err, &re) || re.Class() != "Pyro4.errors.NamingError" || re.Message() != "unknown name: nope" || len(re.Traceback()) == 0 {
			t.Errorf("naming: %#v", err)
		}

		_, err = p.Call(ctx, "key_error", "k")
		if !errors.As(err, &re) || re.Class() != "builtins.KeyError" || re.Args()[0] != "k" {
			t.Errorf("key_error: %v", err)
		}
		// the connection survives remote errors
		if v, err := p.Call(ctx, "add", 1, 1); err != nil || !py.Same(v, int64(2)) {
			t.Errorf("after errors: %v %v", v, err)
		}
		if _, err := p.Call(ctx, "nosuchmethod"); !errors.Is(err, pyro.ErrPyro) || !strings.Contains(err.Error(), "no exposed attribute or method") {
			t.Errorf("unknown method: %v", err)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		methods, oneway, attrs, err := p.Metadata(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"echo", "add", "greet", "fail", "naming", "gen", "child", "oneway_inc", "describe"} {
			if !slices.Contains(methods, m) {
				t.Errorf("methods %v lack %s", methods, m)
			}
		}
		if !slices.Equal(oneway, []string{"oneway_inc"}) || !slices.Equal(attrs, []string{"value"}) {
			t.Errorf("oneway %v attrs %v", oneway, attrs)
		}
	})

	t.Run("attribute", func(t *testing.T) {
		if v, err := p.GetAttr(ctx, "value"); err != nil || !py.Same(v, int64(42)) {
			t.Fatalf("value = %v %v", v, err)
		}
		if err := p.SetAttr(ctx, "value", "changed"); err != nil {
			t.Fatal(err)
		}
		if v, err := p.Call(ctx, "value"); err != nil || v != "changed" { // routed to __getattr__ by metadata
			t.Errorf("value after set = %v %v", v, err)
		}
		if err := p.SetAttr(ctx, "value", 42); err != nil {
			t.Fatal(err)
		}
		_, err := p.GetAttr(ctx, "echo")
		var re *pyro.RemoteError
		if !errors.As(err, &re) || re.Class() != "builtins.AttributeError" {
			t.Errorf("__getattr__ of a method: %v", err)
		}
	})

	t.Run("oneway", func(t *testing.T) {
		before, err := pyro.CallT[int](ctx, p, "oneways")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if v, err := p.Call(ctx, "oneway_inc", 5); err != nil || v != nil {
			t.Fatalf("oneway_inc = %v %v", v, err)
		}
		if err := p.Oneway(ctx, "oneway_inc", 1); err != nil { // explicit oneway
			t.Fatal(err)
		}
		if time.Since(start) > testbound.Scale(2*time.Second) {
			t.Errorf("oneway calls took %v", time.Since(start))
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, err := pyro.CallT[int](ctx, p, "oneways")
			if err != nil {
				t.Fatal(err)
			}
			if n == before+6 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("oneways %d, want %d", n, before+6)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("generator", func(t *testing.T) {
		v, err := p.Call(ctx, "gen", 5)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := v.(*pyro.Stream)
		if !ok {
			t.Fatalf("gen returned %s", py.Repr(v))
		}
		var items []any
		for it, err := range s.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
		if !py.Same(items, []any{int64(0), int64(1), int64(2), int64(3), int64(4)}) {
			t.Errorf("gen items %s", py.Repr(items))
		}
		// early close
		v, err = p.Call(ctx, "gen", 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range v.(*pyro.Stream).All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 3 {
				break
			}
		}
		if v, err := p.Call(ctx, "add", 1, 2); err != nil || !py.Same(v, int64(3)) {
			t.Errorf("after closing a stream: %v %v", v, err)
		}
	})

	t.Run("batch", func(t *testing.T) {
		res, err := p.Batch().Call("add", 1, 2).CallKw("greet", []any{"Ann"}, map[string]any{"punct": "."}).Call("fail").Call("add", 3, 4).Run(ctx)
		var re *pyro.RemoteError
		switch {
		case ser == "marshal":
			// Pyro4's marshal serializer cannot dump a result list holding an
			// _ExceptionWrapper (it converts only top-level objects), so the
			// Python daemon answers the whole batch with this error instead
			if !errors.As(err, &re) || re.Class() != "builtins.ValueError" || re.Message() != "unmarshallable object" || len(res) != 0 {
				t.Errorf("marshal batch with a failure: %s, %v", py.Repr(res), err)
			}
		case !errors.As(err, &re) || re.Class() != "builtins.ValueError" || re.Message() != "('expected failure', 12)":
			t.Errorf("batch error %v", err)
		case !py.Same(res, []any{int64(3), "hello Ann."}):
			t.Errorf("batch results before the failure: %s", py.Repr(res))
		}
		res, err = p.Batch().Call("add", 5, 5).Call("echo", "x").Run(ctx)
		if err != nil || !py.Same(res, []any{int64(10), "x"}) {
			t.Errorf("batch = %s, %v", py.Repr(res), err)
		}
		before, _ := pyro.CallT[int](ctx, p, "oneways")
		if err := p.Batch().Call("oneway_inc", 1).Call("oneway_inc", 2).RunOneway(ctx); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, func() bool { n, _ := pyro.CallT[int](ctx, p, "oneways"); return n == before+3 })
	})

	t.Run("autoproxy", func(t *testing.T) {
		v, err := p.Call(ctx, "child")
		if err != nil {
			t.Fatal(err)
		}
		if ser == "marshal" {
			// Pyro4 cannot autoproxy with marshal: it sends the object's
			// attribute dict (vars(obj)), which arrives as a plain dict
			d, ok := v.(*py.Dict)
			name, _ := d.GetString("_name")
			if !ok || name != "kid" {
				t.Errorf("marshal child() = %s", py.Repr(v))
			}
			return
		}
		cp, ok := v.(*pyro.Proxy)
		if !ok {
			t.Fatalf("child() = %s", py.Repr(v))
		}
		defer cp.Close()
		// Pyro autoproxies registered objects at any depth of a result
		m, err := p.Call(ctx, "child_map")
		if err != nil {
			t.Fatal(err)
		}
		md, _ := m.(*py.Dict)
		kid, _ := md.GetString("kid")
		all, _ := md.GetString("all")
		var nested []any
		if l, ok := all.([]any); ok {
			nested = append([]any{kid}, l...)
		}
		if len(nested) != 3 {
			t.Fatalf("child_map() = %s", py.Repr(m))
		}
		for i, x := range nested {
			switch x := x.(type) {
			case *pyro.Proxy:
				if name, err := x.Call(ctx, "name"); err != nil || name != "kid" {
					t.Errorf("nested proxy %d: %v %v", i, name, err)
				}
				x.Close()
			default:
				t.Errorf("nested proxy %d is a %T, not a live *pyro.Proxy", i, x)
			}
		}
		if name, err := cp.Call(ctx, "name"); err != nil || name != "kid" {
			t.Errorf("child name %v %v", name, err)
		}
		a, err1 := pyro.CallT[int](ctx, cp, "incr")
		b, err2 := pyro.CallT[int](ctx, cp, "incr")
		if err1 != nil || err2 != nil || b != a+1 {
			t.Errorf("child incr %d %d %v %v", a, b, err1, err2)
		}
	})

	t.Run("handshake", func(t *testing.T) {
		bad := mustProxy(t, srv.plain, nil, pyro.WithSerializer(ser), pyro.WithHandshakeData("let me in"))
		_, err := bad.Call(ctx, "add", 1, 2)
		if !errors.Is(err, pyro.ErrConnectionDenied) || !errors.Is(err, pyro.ErrCommunication) {
			t.Errorf("bad handshake: %v", err)
		}
		if err == nil || !strings.Contains(err.Error(), "rejected: go away: bad handshake 'let me in'") {
			t.Errorf("bad handshake reason: %v", err)
		}
		var resp any
		good := mustProxy(t, srv.plain, nil, pyro.WithSerializer(ser), pyro.WithHandshakeData("open sesame"),
			pyro.WithHandshakeCheck(func(r any) error { resp = r; return nil }))
		if v, err := good.Call(ctx, "handshake_seen"); err != nil || v != "open sesame" || resp != "welcome" {
			t.Errorf("custom handshake: seen %v, response %v, %v", v, resp, err)
		}
		refuse := mustProxy(t, srv.plain, nil, pyro.WithSerializer(ser),
			pyro.WithHandshakeCheck(func(r any) error { return errors.New("not my server") }))
		if _, err := refuse.Call(ctx, "add", 1, 2); err == nil || !strings.Contains(err.Error(), "not my server") {
			t.Errorf("client-side handshake refusal: %v", err)
		}
		unknown := mustProxy(t, withURIObject(t, srv.plain, "no.such.object"), nil, pyro.WithSerializer(ser))
		if _, err := unknown.Call(ctx, "x"); !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "unknown object") {
			t.Errorf("unknown object: %v", err)
		}
	})

	t.Run("daemon_object", func(t *testing.T) {
		d := mustProxy(t, withURIObject(t, srv.plain, pyro.DaemonObjectID), nil, pyro.WithSerializer(ser))
		if v, err := d.Call(ctx, "ping"); err != nil || v != nil {
			t.Errorf("ping %v %v", v, err)
		}
		var reg []string
		if err := d.CallInto(ctx, &reg, "registered"); err != nil || !slices.Contains(reg, "thing") || !slices.Contains(reg, pyro.DaemonObjectID) {
			t.Errorf("registered %v %v", reg, err)
		}
		v, err := d.Call(ctx, "get_metadata", "thing")
		if err != nil {
			t.Fatal(err)
		}
		md, _ := v.(*py.Dict)
		methods, _ := md.GetString("methods")
		var names []string
		if err := py.Convert(&names, methods); err != nil || !slices.Contains(names, "echo") {
			t.Errorf("get_metadata methods %s (%v)", py.Repr(methods), err)
		}
		if _, isSet := methods.(*py.Set); isSet != (ser == "serpent" || ser == "marshal") {
			t.Errorf("%s get_metadata gives %s", ser, py.TypeName(methods))
		}
		if _, err := d.Call(ctx, "get_metadata", "nope"); !errors.Is(err, pyro.ErrDaemon) {
			t.Errorf("get_metadata(nope): %v", err)
		}
		if s, err := d.Call(ctx, "info"); err != nil || !strings.HasPrefix(s.(string), "Pyro.Daemon bound on 127.0.0.1:") {
			t.Errorf("info %v %v", s, err)
		}
	})

	t.Run("no_metadata", func(t *testing.T) {
		cfg := pyro.BuiltinConfig()
		cfg.Metadata = false
		q := mustProxy(t, srv.plain, cfg, pyro.WithSerializer(ser))
		if v, err := q.Call(ctx, "add", 1, 2); err != nil || !py.Same(v, int64(3)) {
			t.Errorf("add without metadata: %v %v", v, err)
		}
		if v, err := q.GetAttr(ctx, "value"); err != nil || !py.Same(v, int64(42)) {
			t.Errorf("value without metadata: %v %v", v, err)
		}
		_, err := q.Call(ctx, "nosuchmethod")
		var re *pyro.RemoteError
		if !errors.As(err, &re) || re.Class() != "builtins.AttributeError" {
			t.Errorf("unknown method without metadata: %v", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := p.Call(tctx, "sleep", 0.5)
		if !errors.Is(err, pyro.ErrTimeout) {
			t.Errorf("sleep with a 100ms deadline: %v", err)
		}
		if v, err := p.Call(ctx, "add", 2, 2); err != nil || !py.Same(v, int64(4)) {
			t.Errorf("after a timeout: %v %v", v, err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		q := mustProxy(t, srv.plain, nil, pyro.WithSerializer(ser), pyro.WithMaxConns(8))
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 5 {
					v, err := q.Call(ctx, "add", i, j)
					if err != nil || !py.Same(v, int64(i+j)) {
						t.Errorf("add(%d, %d) = %v, %v", i, j, v, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})

	t.Run("python_echoserver", func(t *testing.T) {
		methods, oneway, attrs, err := echo.Metadata(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(methods)
		slices.Sort(oneway)
		want := []string{"__dunder__", "echo", "error", "error_with_text", "generator", "inf", "nan", "oneway_echo", "oneway_slow", "shutdown", "slow"}
		if !slices.Equal(methods, want) || !slices.Equal(oneway, []string{"oneway_echo", "oneway_slow"}) || !slices.Equal(attrs, []string{"verbose"}) {
			t.Errorf("echo server metadata %v %v %v", methods, oneway, attrs)
		}
		if v, err := echo.CallKw(ctx, "echo", nil, map[string]any{"message": "kw"}); err != nil || v != "kw" {
			t.Errorf("echo(message=) %v %v", v, err)
		}
		var re *pyro.RemoteError
		if _, err := echo.Call(ctx, "error"); !errors.As(err, &re) || re.Class() != "builtins.ValueError" || re.Message() != "expected error from echoserver error() method" {
			t.Errorf("error(): %v", err)
		}
		if _, err := echo.Call(ctx, "error_with_text"); !errors.As(err, &re) || re.Message() != "the message of the error" {
			t.Errorf("error_with_text(): %v", err)
		}
		if v, err := echo.Call(ctx, "oneway_echo", "x"); err != nil || v != nil {
			t.Errorf("oneway_echo %v %v", v, err)
		}
		v, err := echo.Call(ctx, "generator")
		if err != nil {
			t.Fatal(err)
		}
		var items []any
		for it, err := range v.(*pyro.Stream).All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
		if !py.Same(items, []any{"one", "two", "three"}) {
			t.Errorf("generator %s", py.Repr(items))
		}
		if err := echo.SetAttr(ctx, "verbose", false); err != nil {
			t.Error(err)
		}
		if v, err := echo.GetAttr(ctx, "verbose"); err != nil || v != false {
			t.Errorf("verbose %v %v", v, err)
		}
		if v, err := echo.Call(ctx, "__dunder__"); err != nil || v != "should be allowed (dunder)" {
			t.Errorf("__dunder__ %v %v", v, err)
		}
		if v, err := echo.Call(ctx, "nan"); err != nil || !math.IsNaN(v.(float64)) {
			t.Errorf("nan %v %v", v, err)
		}
		if v, err := echo.Call(ctx, "inf"); err != nil || !math.IsInf(v.(float64), 1) {
			t.Errorf("inf %v %v", v, err)
		}
	})
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func jsonEqual(a, b any) bool { return mustJSON(a) == mustJSON(b) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func goProxyHMAC(t *testing.T, srv pyServers) {
	ctx := context.Background()
	key := []byte(interopKey)
	for _, ser := range allSerializers {
		p := mustProxy(t, srv.hmac, nil, pyro.WithSerializer(ser), pyro.WithHMACKey(key))
		if v, err := p.Call(ctx, "add", 2, 2); err != nil || !py.Same(v, int64(4)) {
			t.Errorf("%s: keyed call %v %v", ser, v, err)
		}
		// batch and stream over the keyed connection
		if res, err := p.Batch().Call("add", 1, 1).Call("echo", "k").Run(ctx); err != nil || len(res) != 2 {
			t.Errorf("%s: keyed batch %v %v", ser, res, err)
		}
	}
	for _, c := range []struct {
		name, uri string
		key       []byte
		reason    string
	}{
		{"wrong_key", srv.hmac, []byte("wrong key"), "message hmac mismatch"},
		{"no_key", srv.hmac, nil, "hmac key config not symmetric"},
		{"key_vs_unkeyed_daemon", srv.plain, key, "hmac key config not symmetric"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := mustProxy(t, c.uri, nil, pyro.WithHMACKey(c.key))
			_, err := p.Call(ctx, "add", 1, 2)
			if !errors.Is(err, pyro.ErrCommunication) {
				t.Errorf("not a CommunicationError: %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Errorf("error %v, want it to say %q", err, c.reason)
			}
		})
	}
}

func goProxyUnix(t *testing.T, srv pyServers) {
	ctx := context.Background()
	uris := map[string]string{"path": srv.unix, "abstract": srv.abstract}
	for _, name := range []string{"path", "abstract"} {
		t.Run(name, func(t *testing.T) {
			if uris[name] == "" {
				t.Skip("no abstract unix sockets here")
			}
			u, err := pyro.ParseURI(uris[name])
			if err != nil {
				t.Fatal(err)
			}
			if u.Sockname == "" || (name == "abstract") != (u.Sockname[0] == 0) {
				t.Fatalf("URI %q parsed as %+v", uris[name], u)
			}
			for _, ser := range allSerializers {
				p := mustProxy(t, uris[name], nil, pyro.WithSerializer(ser))
				if v, err := p.Call(ctx, "add", "u", "nix"); err != nil || v != "unix" {
					t.Errorf("%s: %v %v", ser, v, err)
				}
			}
			p := mustProxy(t, uris[name], nil)
			v, err := p.Call(ctx, "gen", 3)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, err := range v.(*pyro.Stream).All(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != 3 {
				t.Errorf("stream over unix socket gave %d items", n)
			}
		})
	}
}

func goProxyCompression(t *testing.T, srv pyServers) {
	ctx := context.Background()
	tap := newWireTap(t, srv.plain)
	cfg := pyro.BuiltinConfig()
	cfg.Compression = true
	for _, ser := range allSerializers {
		t.Run(ser, func(t *testing.T) {
			p := mustProxy(t, tap.uri, cfg, pyro.WithSerializer(ser))
			arg := strings.Repeat("compress me ", 5000)
			flags, err := pyro.CallT[int](ctx, p, "request_flags", arg)
			if err != nil {
				t.Fatal(err)
			}
			if wire.Flags(flags)&wire.FlagCompressed == 0 {
				t.Errorf("python saw request flags %#x: not compressed", flags)
			}
			if n, err := pyro.CallT[int](ctx, p, "size", arg); err != nil || n != len(arg) {
				t.Errorf("size of compressed argument %d %v", n, err)
			}
			tap.reset()
			s, err := pyro.CallT[string](ctx, p, "big", 100000)
			if err != nil || s != strings.Repeat("x", 100000) {
				t.Fatalf("big reply: %d chars, %v", len(s), err)
			}
			if r := tap.last(false); r.typ != wire.MsgResult || r.flags&wire.FlagCompressed == 0 {
				t.Errorf("python's reply was not compressed: %+v", r)
			}
			// small payloads go uncompressed
			if flags, err := pyro.CallT[int](ctx, p, "request_flags", "tiny"); err != nil || wire.Flags(flags)&wire.FlagCompressed != 0 {
				t.Errorf("tiny request flags %#x %v", flags, err)
			}
		})
	}
}

func goProxyCompressionHMAC(t *testing.T, srv pyServers) {
	ctx := context.Background()
	tap := newWireTap(t, srv.hmac)
	cfg := pyro.BuiltinConfig()
	cfg.Compression = true
	p := mustProxy(t, tap.uri, cfg, pyro.WithHMACKey([]byte(interopKey)))
	arg := strings.Repeat("compress and sign ", 5000)
	if flags, err := pyro.CallT[int](ctx, p, "request_flags", arg); err != nil || wire.Flags(flags)&wire.FlagCompressed == 0 {
		t.Errorf("request flags %#x, %v", flags, err)
	}
	s, err := pyro.CallT[string](ctx, p, "big", 100000)
	if err != nil || len(s) != 100000 {
		t.Fatalf("big: %d %v", len(s), err)
	}
	if r := tap.last(false); r.flags&wire.FlagCompressed == 0 {
		t.Errorf("reply not compressed: %+v", r)
	}
}

func goProxyMaxSize(t *testing.T, srv pyServers) {
	ctx := context.Background()
	cfg := pyro.BuiltinConfig()
	cfg.MaxMessageSize = interopLimit
	p := mustProxy(t, srv.plain, cfg)
	if n, err := pyro.CallT[int](ctx, p, "size", "small"); err != nil || n != 5 {
		t.Fatalf("small call: %v %v", n, err)
	}
	_, err := p.Call(ctx, "size", strings.Repeat("x", interopLimit+1000))
	if !errors.Is(err, pyro.ErrMessageTooLarge) || !strings.Contains(err.Error(), "max message size exceeded") {
		t.Errorf("oversize request: %v", err)
	}
	if n, err := pyro.CallT[int](ctx, p, "size", "again"); err != nil || n != 5 {
		t.Errorf("call after refused request: %v %v", n, err)
	}
	_, err = p.Call(ctx, "big", interopLimit+1000)
	if !errors.Is(err, pyro.ErrMessageTooLarge) {
		t.Errorf("oversize reply: %v", err)
	}
	if n, err := pyro.CallT[int](ctx, p, "size", "after"); err != nil || n != 5 {
		t.Errorf("call after oversize reply: %v %v", n, err)
	}
}

// ---------------------------------------------------------------------------
// wireTap relays one TCP endpoint and records the header of every message,
// to see what travels on the wire (e.g. the compression flag).

type tapMsg struct {
	fromClient bool
	typ        wire.MsgType
	flags      wire.Flags
}

type wireTap struct {
	uri  string
	ln   net.Listener
	mu   sync.Mutex
	msgs []tapMsg
	wg   sync.WaitGroup
}

func newWireTap(t *testing.T, target string) *wireTap {
	t.Helper()
	u, err := pyro.ParseURI(target)
	if err != nil {
		t.Fatal(err)
	}
	network, addr, err := u.Dial()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tu := u
	tu.Host, tu.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	w := &wireTap{uri: tu.String(), ln: ln}
	var conns sync.Map
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial(network, addr)
			if err != nil {
				c.Close()
				continue
			}
			conns.Store(c, s)
			w.wg.Add(2)
			go w.pipe(c, s, true)
			go w.pipe(s, c, false)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, v any) bool { k.(net.Conn).Close(); v.(net.Conn).Close(); return true })
		w.wg.Wait()
	})
	return w
}

func (w *wireTap) pipe(from, to net.Conn, fromClient bool) {
	defer w.wg.Done()
	defer to.Close()
	br := bufio.NewReader(from)
	hdr := make([]byte, wire.HeaderSize)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return
		}
		h, err := wire.ParseHeader(hdr)
		if err != nil {
			return
		}
		w.mu.Lock()
		w.msgs = append(w.msgs, tapMsg{fromClient, h.Type, h.Flags})
		w.mu.Unlock()
		if _, err := to.Write(hdr); err != nil {
			return
		}
		if _, err := io.CopyN(to, br, int64(h.AnnotationsLen+h.PayloadLen)); err != nil {
			return
		}
	}
}

func (w *wireTap) reset() {
	w.mu.Lock()
	w.msgs = nil
	w.mu.Unlock()
}

// last returns the most recent message in one direction.
func (w *wireTap) last(fromClient bool) tapMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.msgs) - 1; i >= 0; i-- {
		if w.msgs[i].fromClient == fromClient {
			return w.msgs[i]
		}
	}
	return tapMsg{}
}
