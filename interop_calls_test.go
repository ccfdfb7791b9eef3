package pyro_test

// Interop B, calls: errors, metadata, attributes, oneway, streams,
// batches, autoproxies, handshakes, Pyro.Daemon, timeouts and
// concurrency between Go proxies and Python daemons.

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
)

func goProxyErrors(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p := c.p
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
	script := "pyserver.py"
	if c.py5 {
		script = "pyserver5.py"
	}
	if !strings.Contains(tb, "Traceback") || !strings.Contains(tb, "ValueError: ('expected failure', 12)") || !strings.Contains(tb, script) {
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
}

func goProxyMetadata(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p := c.p
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
}

func goProxyAttribute(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p := c.p
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
}

func goProxyOneway(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p := c.p
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
	testkit.Eventually(t, "the oneway calls run", func() bool {
		n, err := pyro.CallT[int](ctx, p, "oneways")
		if err != nil {
			t.Fatal(err)
		}
		return n == before+6
	})
}

func goProxyGenerator(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p := c.p
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
}

func goProxyBatch(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p, ser := c.p, c.ser
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
	testkit.Eventually(t, "the batch's oneway calls run", func() bool { n, _ := pyro.CallT[int](ctx, p, "oneways"); return n == before+3 })
}

func goProxyAutoproxy(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p, ser := c.p, c.ser
	v, err := p.Call(ctx, "child")
	if err != nil && !(ser == "marshal" && c.py5) {
		t.Fatal(err)
	}
	if ser == "marshal" && c.py5 {
		// nor can Pyro5, whose marshal serializer refuses the object
		var re *pyro.RemoteError
		if !errors.As(err, &re) || re.Class() != "builtins.ValueError" || re.Message() != "unmarshallable object" {
			t.Errorf("Pyro5 marshal child() = %s, %v", py.Repr(v), err)
		}
		return
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
}

func goProxyHandshake(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	ser, srv := c.ser, c.srv
	bad := pyrotest.Proxy(t, srv.plain, nil, pyro.WithSerializer(ser), pyro.WithHandshakeData("let me in"))
	_, err := bad.Call(ctx, "add", 1, 2)
	if !errors.Is(err, pyro.ErrConnectionDenied) || !errors.Is(err, pyro.ErrCommunication) {
		t.Errorf("bad handshake: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "rejected: go away: bad handshake 'let me in'") {
		t.Errorf("bad handshake reason: %v", err)
	}
	var resp any
	good := pyrotest.Proxy(t, srv.plain, nil, pyro.WithSerializer(ser), pyro.WithHandshakeData("open sesame"),
		pyro.WithHandshakeCheck(func(r any) error { resp = r; return nil }))
	if v, err := good.Call(ctx, "handshake_seen"); err != nil || v != "open sesame" || resp != "welcome" {
		t.Errorf("custom handshake: seen %v, response %v, %v", v, resp, err)
	}
	refuse := pyrotest.Proxy(t, srv.plain, nil, pyro.WithSerializer(ser),
		pyro.WithHandshakeCheck(func(r any) error { return errors.New("not my server") }))
	if _, err := refuse.Call(ctx, "add", 1, 2); err == nil || !strings.Contains(err.Error(), "not my server") {
		t.Errorf("client-side handshake refusal: %v", err)
	}
	unknown := pyrotest.Proxy(t, withURIObject(t, srv.plain, "no.such.object"), nil, pyro.WithSerializer(ser))
	if _, err := unknown.Call(ctx, "x"); !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "unknown object") {
		t.Errorf("unknown object: %v", err)
	}
}

func goProxyDaemonObject(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	ser, srv := c.ser, c.srv
	d := pyrotest.Proxy(t, withURIObject(t, srv.plain, pyro.DaemonObjectID), nil, pyro.WithSerializer(ser))
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
}

func goProxyNoMetadata(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	ser, srv := c.ser, c.srv
	cfg := pyro.BuiltinConfig()
	cfg.Metadata = false
	q := pyrotest.Proxy(t, srv.plain, cfg, pyro.WithSerializer(ser))
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
}

func goProxyTimeout(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	p := c.p
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := p.Call(tctx, "sleep", 0.5)
	if !errors.Is(err, pyro.ErrTimeout) {
		t.Errorf("sleep with a 100ms deadline: %v", err)
	}
	if v, err := p.Call(ctx, "add", 2, 2); err != nil || !py.Same(v, int64(4)) {
		t.Errorf("after a timeout: %v %v", v, err)
	}
}

func goProxyConcurrent(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	ser, srv := c.ser, c.srv
	q := pyrotest.Proxy(t, srv.plain, nil, pyro.WithSerializer(ser), pyro.WithMaxConns(8))
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
}

func goProxyPythonEchoserver(t *testing.T, c goProxyCase) {
	ctx := context.Background()
	echo := c.echo
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
	errText := "expected error from echoserver error() method"
	if c.py5 {
		errText = "this is the generated error from echoserver echo() method" // Pyro5's text
	}
	if _, err := echo.Call(ctx, "error"); !errors.As(err, &re) || re.Class() != "builtins.ValueError" || re.Message() != errText {
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
}
