package pyro

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) { testkit.RemoveBuilds(); os.Exit(code) }))
}

// Person is a struct argument/result.
type Person struct {
	Name string
	Age  int `pyro:"age"`
}

// Thing is the test object; it covers every kind of method.
type Thing struct {
	Verbose  bool
	onewayed atomic.Int64
	child    *Child
}

type Child struct{ name string }

func (c *Child) Name() string { return c.name }

func (t *Thing) PyroExpose() Exposure {
	return Exposure{
		Oneway: []string{"oneway_echo"},
		Attrs:  []string{"verbose"},
		Names:  map[string]string{"__dunder__": "Dunder"},
		Params: map[string][]string{"echo": {"message"}, "add": {"a", "b"}, "kw": {"a"}},
	}
}
func (t *Thing) Echo(message any) any { return message }
func (t *Thing) Add(a, b int) int     { return a + b }
func (t *Thing) Fail() error          { return &PythonError{Class: "ValueError", Msg: "expected failure"} }
func (t *Thing) Panic() string        { panic("boom") }
func (t *Thing) Generator() iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, s := range []string{"one", "two", "three"} {
			if !yield(s) {
				return
			}
		}
	}
}
func (t *Thing) Infinite() iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; ; i++ {
			if !yield(i) {
				return
			}
		}
	}
}
func (t *Thing) Chan() <-chan int {
	ch := make(chan int, 3)
	ch <- 1
	ch <- 2
	ch <- 3
	close(ch)
	return ch
}
func (t *Thing) Sum(nums ...float64) float64 {
	s := 0.0
	for _, n := range nums {
		s += n
	}
	return s
}
func (t *Thing) Older(p Person) Person { p.Age++; return p }
func (t *Thing) Kw(a int, kw Kwargs) string {
	return fmt.Sprintf("%d %v", a, len(kw))
}
func (t *Thing) Dunder() string        { return "should be allowed (dunder)" }
func (t *Thing) OnewayEcho(msg string) { t.onewayed.Add(1) }
func (t *Thing) Nan() float64          { return math.NaN() }
func (t *Thing) Bytes(b []byte) []byte { return append(b, '!') }
func (t *Thing) Slow(ctx context.Context) string {
	time.Sleep(300 * time.Millisecond)
	return "slow"
}

// Stall answers only when its call's context ends (the connection
// closed or the daemon shut down), or after a minute: a deadline or a
// cancellation of the caller must end the call on the client's side
// however late the machine's timers fire (a call that merely took 300
// ms could return before a late-firing 50 ms deadline).
func (t *Thing) Stall(ctx context.Context) string {
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
	}
	return "stalled"
}
func (t *Thing) Corr(ctx context.Context) string {
	cc := CallContextFrom(ctx)
	cc.ResponseAnnotations = map[string][]byte{"XRES": []byte("ok")}
	return uuidString(cc.CorrelationID)
}
func (t *Thing) GetChild() *Child { return t.child }
func (t *Thing) Naming() error {
	return &PythonError{Class: "Pyro4.errors.NamingError", Msg: "unknown name: nope"}
}

// protocolChoices are the proxy's protocol choices the Go-Go tests run
// with, and the protocol each speaks to a pyrogo daemon (which answers a
// 48 CONNECT in 48, so auto mode stays on 48 and never probes).
var protocolChoices = []struct {
	choice string
	want   int
}{{Protocol4, 48}, {Protocol5, 502}, {ProtocolAuto, 48}}

// transport is one way of connecting daemon and proxy.
type transport struct {
	name   string
	daemon func(t *testing.T, cfg *Config) []DaemonOption
	proxy  []ProxyOption
}

func transports(t *testing.T) []transport {
	key := []byte("secret key")
	return append([]transport{
		{name: "tcp", daemon: func(*testing.T, *Config) []DaemonOption { return nil }},
		{name: "tcp6", daemon: func(t *testing.T, _ *Config) []DaemonOption {
			ln, err := net.Listen("tcp", "[::1]:0")
			if err != nil {
				t.Skip("no IPv6 loopback:", err)
			}
			return []DaemonOption{WithListener(ln)}
		}},
		{name: "unix", daemon: func(t *testing.T, _ *Config) []DaemonOption {
			return []DaemonOption{WithUnixSocket(filepath.Join(t.TempDir(), "d.sock"))}
		}},
		{name: "unix-abstract", daemon: func(t *testing.T, _ *Config) []DaemonOption {
			return []DaemonOption{WithUnixSocket(fmt.Sprintf("\x00pyrogo-test-%d-%d", os.Getpid(), time.Now().UnixNano()))}
		}},
		{name: "hmac", daemon: func(*testing.T, *Config) []DaemonOption { return []DaemonOption{WithHMACKey(key)} },
			proxy: []ProxyOption{WithHMACKey(key)}},
		{name: "hmac-replay-protected", daemon: func(*testing.T, *Config) []DaemonOption { return []DaemonOption{WithReplayProtectedHMAC(key)} },
			proxy: []ProxyOption{WithReplayProtectedHMAC(key)}},
		{name: "passphrase", daemon: func(*testing.T, *Config) []DaemonOption {
			return []DaemonOption{WithAllowedIdentifications([]string{"other", "pass phrase"})}
		}, proxy: []ProxyOption{WithIdentification("pass phrase")}},
	}, tlsTransports(t)...)
}

// startDaemon runs a daemon with a Thing registered as "thing" and
// returns its URI; the daemon stops with the test.
func startDaemon(t *testing.T, cfg *Config, opts ...DaemonOption) (*Daemon, URI, *Thing) {
	t.Helper()
	if cfg == nil {
		cfg = BuiltinConfig()
	}
	d, err := NewDaemon(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	thing := &Thing{child: &Child{name: "kid"}}
	u, err := d.Register(thing, "thing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(thing.child, ""); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
		if err := <-served; !errors.Is(err, ErrDaemonClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return d, u, thing
}

func newProxy(t *testing.T, u URI, cfg *Config, opts ...ProxyOption) *Proxy {
	t.Helper()
	p, err := NewProxyURI(u, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestTransportMatrix runs the core call suite over every transport,
// every serializer and every protocol choice of the proxy (4, 5, auto).
// A proxy with an HMAC key cannot be made for protocol 5 (502 has no
// HMAC); there the matrix checks that refusal and that the keyed daemon
// refuses a keyless 502 proxy with a clear reason instead.
func TestTransportMatrix(t *testing.T) {
	for _, tr := range transports(t) {
		for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
			for _, pc := range protocolChoices {
				t.Run(tr.name+"/"+ser+"/"+pc.choice, func(t *testing.T) {
					cfg := BuiltinConfig()
					cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
					_, u, thing := startDaemon(t, cfg, tr.daemon(t, cfg)...)
					opts := append([]ProxyOption{WithSerializer(ser), WithProtocol(pc.choice)}, tr.proxy...)
					if pc.want == 502 && strings.HasPrefix(tr.name, "hmac") {
						hmacRefuses502(t, u, opts)
						return
					}
					p := newProxy(t, u, nil, opts...)
					callSuite(t, p, thing, ser)
					if got := p.Protocol(); got != pc.want {
						t.Errorf("protocol %s spoke %d, want %d", pc.choice, got, pc.want)
					}
				})
			}
		}
	}
}

// hmacRefuses502: a proxy with an HMAC key cannot be made for protocol
// 502, and a keyless 502 proxy is refused by the keyed daemon with the
// reason, while the daemon goes on serving keyed 48 proxies.
func hmacRefuses502(t *testing.T, u URI, opts []ProxyOption) {
	t.Helper()
	if p, err := NewProxyURI(u, nil, opts...); !errors.Is(err, ErrSecurity) || !strings.Contains(err.Error(), "which has no HMAC") {
		if p != nil {
			p.Close()
		}
		t.Errorf("a keyed proxy for protocol 5: %v", err)
	}
	keyless := slices.Clone(opts[:2]) // serializer and protocol, without the key
	p := newProxy(t, u, nil, keyless...)
	_, err := p.Call(context.Background(), "echo", 1)
	if !errors.Is(err, ErrConnectionDenied) || !strings.Contains(err.Error(), "requires an HMAC key, which Pyro5 (protocol 502) cannot carry") {
		t.Errorf("keyless 502 proxy against a keyed daemon: %v", err)
	}
	auto := newProxy(t, u, nil, append(opts[:1:1], opts[2:]...)...) // keyed, auto
	if v, err := auto.Call(context.Background(), "echo", 1); err != nil || v != int64(1) || auto.Protocol() != 48 {
		t.Errorf("keyed auto proxy after the refusal: %v %v, protocol %d", v, err, auto.Protocol())
	}
}

func callSuite(t *testing.T, p *Proxy, thing *Thing, ser string) {
	ctx := context.Background()
	check := func(method string, want any, args ...any) {
		t.Helper()
		got, err := p.Call(ctx, method, args...)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if !py.Same(got, want) {
			t.Errorf("%s(%v) = %s, want %s", method, args, py.Repr(got), py.Repr(want))
		}
	}
	check("echo", "hello", "hello")
	check("add", int64(5), 2, 3)
	check("sum", 6.5, 1.5, 2, 3)
	check("__dunder__", "should be allowed (dunder)")
	switch ser {
	case "serpent": // serpent carries bytes as a base64 dict, as in Pyro
		var b []byte
		if err := p.CallInto(ctx, &b, "bytes", []byte("ab")); err != nil || string(b) != "ab!" {
			t.Errorf("bytes over serpent: %q %v", b, err)
		}
	case "json": // json cannot carry bytes
	default:
		check("bytes", []byte("ab!"), []byte("ab"))
	}
	if got, err := p.CallKw(ctx, "add", nil, map[string]any{"a": 1, "b": 2}); err != nil || got != int64(3) {
		t.Errorf("add by keyword = %v, %v", got, err)
	}
	if got, err := p.CallKw(ctx, "kw", []any{7}, map[string]any{"x": 1, "y": 2}); err != nil || got != "7 2" {
		t.Errorf("kw = %v, %v", got, err)
	}
	var older Person
	if err := p.CallInto(ctx, &older, "older", Person{Name: "Ann", Age: 41}); err != nil || older != (Person{"Ann", 42}) {
		t.Errorf("older = %+v, %v", older, err)
	}
	// typed errors
	_, err := p.Call(ctx, "fail")
	var re *RemoteError
	if !errors.As(err, &re) || re.Class() != "builtins.ValueError" || re.Message() != "expected failure" || len(re.Traceback()) == 0 {
		t.Errorf("fail: %#v", err)
	}
	_, err = p.Call(ctx, "panic")
	if !errors.As(err, &re) || re.Class() != "builtins.RuntimeError" {
		t.Errorf("panic: %v", err)
	}
	_, err = p.Call(ctx, "add", "x", 1)
	if !errors.As(err, &re) || re.Class() != "builtins.TypeError" || re.Message() != "arg 1: cannot convert str to int" {
		t.Errorf("bad arg: %v", err)
	}
	if _, err := p.Call(ctx, "nosuch"); err == nil || !errors.Is(err, ErrPyro) {
		t.Errorf("unknown method: %v", err)
	}
	// attributes
	if err := p.SetAttr(ctx, "verbose", true); err != nil {
		t.Fatal(err)
	}
	if v, err := p.GetAttr(ctx, "verbose"); err != nil || v != true {
		t.Errorf("verbose = %v %v", v, err)
	}
	// oneway
	before := thing.onewayed.Load()
	if _, err := p.Call(ctx, "oneway_echo", "x"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the oneway call run", func() bool { return thing.onewayed.Load() == before+1 })
	// streams
	for _, method := range []string{"generator", "chan"} {
		v, err := p.Call(ctx, method)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := v.(*Stream)
		if !ok {
			t.Fatalf("%s returned %T", method, v)
		}
		var items []any
		for it, err := range s.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
		if len(items) != 3 {
			t.Errorf("%s items %v", method, items)
		}
	}
	v, _ := p.Call(ctx, "infinite")
	n := 0
	for range v.(*Stream).All(ctx) {
		if n++; n == 5 {
			break
		}
	}
	// batch
	res, err := p.Batch().Call("echo", 1).Call("add", 2, 3).Call("fail").Call("echo", 4).Run(ctx)
	if len(res) != 2 || !errors.As(err, &re) || re.Class() != "builtins.ValueError" {
		t.Errorf("batch = %v, %v", res, err)
	}
	// correlation id and response annotations
	if v, err := p.Call(ctx, "corr"); err != nil || len(v.(string)) != 36 {
		t.Errorf("corr = %v %v", v, err)
	}
	// autoproxy
	if ser != "marshal" {
		v, err = p.Call(ctx, "get_child")
		if err != nil {
			t.Fatal(err)
		}
		cp, ok := v.(*Proxy)
		if !ok {
			t.Fatalf("get_child returned %T", v)
		}
		if name, err := cp.Call(ctx, "name"); err != nil || name != "kid" {
			t.Errorf("child name %v %v", name, err)
		}
		cp.Close()
	}
	// async
	f := p.Go(ctx, "echo", "async")
	if v, err := f.Wait(ctx); err != nil || v != "async" {
		t.Errorf("async %v %v", v, err)
	}
	callSuiteMore(t, p, ser)
}

// callSuiteMore: Pyro error classes with errors.Is, metadata, typed
// streams closed early, and deadlines and cancellation on a live
// connection.
func callSuiteMore(t *testing.T, p *Proxy, ser string) {
	ctx := context.Background()
	_, err := p.Call(ctx, "naming")
	var re *RemoteError
	if !errors.Is(err, ErrNaming) || !errors.Is(err, ErrPyro) || errors.Is(err, ErrCommunication) ||
		!errors.As(err, &re) || re.Class() != "Pyro4.errors.NamingError" || re.Message() != "unknown name: nope" {
		t.Errorf("naming: %v", err)
	}
	if _, err := p.Call(ctx, "fail"); errors.Is(err, ErrPyro) {
		t.Errorf("a ValueError matched ErrPyro: %v", err)
	}
	methods, oneway, attrs, err := p.Metadata(ctx)
	if err != nil || !slices.Contains(methods, "echo") || !slices.Equal(oneway, []string{"oneway_echo"}) || !slices.Equal(attrs, []string{"verbose"}) {
		t.Errorf("metadata %v %v %v %v", methods, oneway, attrs, err)
	}
	n := 0
	for v, err := range CallStream[int](ctx, p, "infinite") {
		if err != nil || v != n {
			t.Fatalf("infinite item %d: %v %v", n, v, err)
		}
		if n++; n == 3 {
			break // closes the stream on the daemon
		}
	}
	var items []string
	for v, err := range CallStream[string](ctx, p, "generator") {
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, v)
	}
	if !slices.Equal(items, []string{"one", "two", "three"}) {
		t.Errorf("generator %v", items)
	}
	// a deadline during a call: ErrTimeout, and the next call reconnects
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = p.Call(dctx, "stall")
	cancel()
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("stall with a 50ms deadline: %v", err)
	}
	// cancellation during a call: context.Canceled
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, err := p.Call(cctx, "stall"); !errors.Is(err, context.Canceled) {
		t.Errorf("stall, cancelled: %v", err)
	}
	if v, err := p.Call(ctx, "echo", 7); err != nil || v != int64(7) {
		t.Errorf("after timeout and cancel: %v %v", v, err)
	}
}

func TestDaemonObject(t *testing.T) {
	_, u, _ := startDaemon(t, nil)
	du := u
	du.Object = DaemonObjectID
	p := newProxy(t, du, nil)
	ctx := context.Background()
	if v, err := p.Call(ctx, "ping"); err != nil || v != nil {
		t.Errorf("ping %v %v", v, err)
	}
	v, err := p.Call(ctx, "registered")
	if err != nil || len(v.([]any)) != 3 {
		t.Errorf("registered %v %v", v, err)
	}
	v, err = p.Call(ctx, "get_metadata", "thing")
	if err != nil {
		t.Fatal(err)
	}
	md := v.(*py.Dict)
	methods, _ := md.GetString("methods")
	if !methods.(*py.Set).Contains("echo") || methods.(*py.Set).Contains("verbose") {
		t.Errorf("metadata %s", py.Repr(md))
	}
	if _, err := p.CallKw(ctx, "get_metadata", []any{"thing"}, map[string]any{"as_lists": true}); err != nil {
		t.Error(err)
	}
	_, err = p.Call(ctx, "get_metadata", "nope")
	if !errors.Is(err, ErrDaemon) {
		t.Errorf("unknown object metadata: %v", err)
	}
}

func TestConcurrentClients(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	_, u, _ := startDaemon(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := NewProxyURI(u, nil)
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			for j := 0; j < 3; j++ {
				v, err := p.Call(context.Background(), "add", i, j)
				if err != nil {
					errs <- err
					return
				}
				if v != int64(i+j) {
					errs <- fmt.Errorf("add(%d,%d) = %v", i, j, v)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestProxySharedByGoroutines(t *testing.T) {
	_, u, _ := startDaemon(t, nil)
	p := newProxy(t, u, nil, WithMaxConns(4))
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if v, err := p.Call(context.Background(), "echo", i); err != nil || v != int64(i) {
				t.Errorf("echo %d = %v %v", i, v, err)
			}
		}(i)
	}
	wg.Wait()
	if p.open > 4 {
		t.Errorf("%d connections open", p.open)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	_, u, _ := startDaemon(t, nil)
	p := newProxy(t, u, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Call(ctx, "stall")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("stall with 50ms deadline: %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("not a net.Error timeout: %v", err)
	}
	// the proxy reconnects for the next call
	if v, err := p.Call(context.Background(), "echo", 1); err != nil || v != int64(1) {
		t.Errorf("after timeout: %v %v", v, err)
	}
}

func TestHMACMismatch(t *testing.T) {
	_, u, _ := startDaemon(t, nil, WithHMACKey([]byte("right")))
	for _, key := range [][]byte{[]byte("wrong"), nil} {
		p := newProxy(t, u, nil, WithHMACKey(key))
		_, err := p.Call(context.Background(), "echo", 1)
		if !errors.Is(err, ErrCommunication) {
			t.Errorf("key %q: %v", key, err)
		}
	}
}

func TestHandshakeValidation(t *testing.T) {
	check := func(ctx context.Context, c *ConnInfo, data any) (any, error) {
		if data != "open sesame" {
			return nil, errors.New("go away")
		}
		return map[string]any{"welcome": int64(c.Protocol)}, nil
	}
	_, u, _ := startDaemon(t, nil, WithHandshake(check))
	for _, pc := range protocolChoices {
		t.Run(pc.choice, func(t *testing.T) {
			p := newProxy(t, u, nil, WithProtocol(pc.choice))
			_, err := p.Call(context.Background(), "echo", 1)
			if !errors.Is(err, ErrConnectionDenied) || err.Error() != "connection to "+u.Location()+" rejected: go away" {
				t.Errorf("refused handshake: %v", err)
			}
			var got any
			p2 := newProxy(t, u, nil, WithProtocol(pc.choice), WithHandshakeData("open sesame"),
				WithHandshakeCheck(func(r any) error { got = r; return nil }))
			if _, err := p2.Call(context.Background(), "echo", 1); err != nil || !py.Same(got, py.DictOf("welcome", int64(pc.want))) {
				t.Errorf("accepted handshake: %v %s", err, py.Repr(got))
			}
			p3 := newProxy(t, u, nil, WithProtocol(pc.choice), WithHandshakeData("open sesame"),
				WithHandshakeCheck(func(r any) error { return errors.New("not my server") }))
			if _, err := p3.Call(context.Background(), "echo", 1); err == nil || !strings.Contains(err.Error(), "not my server") {
				t.Errorf("the proxy's handshake check refused: %v", err)
			}
		})
	}
}

// countingListener counts the connections a daemon accepts.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// TestProtocolChoiceConnections: against a pyrogo daemon every protocol
// choice, auto included, makes one connection for a series of calls (auto
// sends its CONNECT in 48, which the daemon answers in 48: no probe).
func TestProtocolChoiceConnections(t *testing.T) {
	for _, pc := range protocolChoices {
		t.Run(pc.choice, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cl := &countingListener{Listener: ln}
			_, u, _ := startDaemon(t, nil, WithListener(cl))
			knownProtocols.forget(protocolKey("tcp", u.Location()))
			p := newProxy(t, u, nil, WithProtocol(pc.choice))
			for i := range 5 {
				if v, err := p.Call(context.Background(), "add", i, 1); err != nil || v != int64(i+1) {
					t.Fatalf("add: %v %v", v, err)
				}
			}
			if n := cl.n.Load(); n != 1 || p.Protocol() != pc.want {
				t.Errorf("%d connections, protocol %d; want 1, %d", n, p.Protocol(), pc.want)
			}
		})
	}
}

func TestShutdownGraceful(t *testing.T) {
	d, err := NewDaemon(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := d.Register(&Thing{}, "thing")
	go d.Serve(context.Background())
	p := newProxy(t, u, nil)
	f := p.Go(context.Background(), "slow")
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := f.Wait(ctx); err != nil || v != "slow" {
		t.Errorf("call in progress during shutdown: %v %v", v, err)
	}
}

func TestUnregisterAndDuplicates(t *testing.T) {
	d, _, _ := startDaemon(t, nil)
	if _, err := d.Register(&Thing{}, "thing"); !errors.Is(err, ErrDaemon) {
		t.Errorf("duplicate id: %v", err)
	}
	if err := d.Unregister(DaemonObjectID); !errors.Is(err, ErrDaemon) {
		t.Errorf("unregister Pyro.Daemon: %v", err)
	}
	if err := d.Unregister("thing"); err != nil {
		t.Error(err)
	}
	if err := d.Unregister("thing"); !errors.Is(err, ErrDaemon) {
		t.Errorf("unregister twice: %v", err)
	}
}
