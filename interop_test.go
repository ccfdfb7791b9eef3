package pyro_test

// Interop with real Python Pyro4 4.82, in both directions. This file has
// what the suite shares (the Go objects served to Python, the daemons'
// starters, small helpers); the tests are in interop_pyclients_test.go
// (A) and interop_goproxies_test.go (B, whose checks per feature are in
// interop_values_test.go and interop_calls_test.go).
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
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit/pyrotest"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/py"
)

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
// ("typed") until the test ends, with every serializer accepted.
func startGoDaemon(t *testing.T, cfg *pyro.Config, opts ...pyro.DaemonOption) (*pyro.Daemon, *ipTyped) {
	t.Helper()
	if cfg == nil {
		cfg = pyro.BuiltinConfig()
	}
	cfg.SerializersAccepted = pyrotest.Serializers
	d := pyrotest.Start(t, cfg, opts...)
	typed := newTyped()
	pyrotest.Register(t, d, echoserver.ObjectID, &echoserver.EchoServer{SlowDelay: slowDelay})
	pyrotest.Register(t, d, "typed", typed)
	for _, k := range typed.kids {
		pyrotest.Register(t, d, "", k)
	}
	return d, typed
}

// startPyEchoServer runs Pyro4's echo server accepting every serializer,
// and returns its URI.
func startPyEchoServer(t *testing.T, env ...string) string {
	t.Helper()
	return pytest.StartEchoServer(t, append([]string{pyServerEnv}, env...)...)
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

func canonJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad canonical form %s: %v", s, err)
	}
	return v
}

func jsonEqual(a, b any) bool { return mustJSON(a) == mustJSON(b) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
