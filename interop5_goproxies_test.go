package pyro_test

// Interop B for Pyro5: Go proxies against Python Pyro5 daemons
// (testdata/interop5/pyserver5.py and Pyro5's echo server) over protocol
// 502, per serializer and per feature; see interop_goproxies_test.go for
// the Pyro4 side, whose feature checks run here too.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/py"
)

// startPy5Servers runs pyserver5.py (plain, unix, abstract daemons; more
// with args) and Pyro5's echo server, with compression on.
func startPy5Servers(t *testing.T, args ...string) (*pytest.Server5, pyServers) {
	t.Helper()
	pytest.Pyro5(t)
	abstractName := fmt.Sprintf("pyrogo-py5-%d-%d", os.Getpid(), time.Now().UnixNano())
	s := pytest.StartServer5(t, append([]string{t.TempDir(), abstractName}, args...), "PYRO_COMPRESSION=true")
	echo := pytest.StartEchoServer5(t, pytest.Echo5{})
	return s, pyServers{plain: s.URIs["plain"], unix: s.URIs["unix"], abstract: s.URIs["abstract"], echo: echo}
}

func TestInterop5GoProxies(t *testing.T) {
	_, srv := startPy5Servers(t)
	for _, ser := range pyrotest.Serializers {
		t.Run(ser, func(t *testing.T) {
			c := goProxyCase{srv: srv, ser: ser, py5: true,
				p:    pyrotest.Proxy(t, srv.plain, nil, pyro.WithSerializer(ser), pyro.WithProtocol("5")),
				echo: pyrotest.Proxy(t, srv.echo, nil, pyro.WithSerializer(ser), pyro.WithProtocol("5"))}
			for _, f := range goProxyFeatures {
				t.Run(f.name, func(t *testing.T) { f.run(t, c) })
			}
		})
	}
}

// goProxy5Add calls add(2, 3) on p and checks it spoke 502.
func goProxy5Add(t *testing.T, what string, p *pyro.Proxy) {
	t.Helper()
	v, err := p.Call(context.Background(), "add", 2, 3)
	if err != nil || !py.Same(v, int64(5)) {
		t.Errorf("%s: add = %v, %v", what, v, err)
		return
	}
	if p.Protocol() != 502 {
		t.Errorf("%s: the proxy spoke %d", what, p.Protocol())
	}
}

// TestInterop5GoProxiesTransports: unix sockets, TLS, mutual TLS and
// passphrase authentication over 502, against pyserver5.py's daemons;
// the proxies are in auto mode, so they detect Pyro5 first.
func TestInterop5GoProxiesTransports(t *testing.T) {
	ctx := context.Background()
	b, err := devcert.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "certs")
	if err := b.Write(dir); err != nil {
		t.Fatal(err)
	}
	s, srv := startPy5Servers(t, "--tls", dir, "--passphrase")
	ms, _ := startPy5Servers(t, "--tls", dir, "--mutual")
	clientTLS := func(withCert bool) *tls.Config {
		c, err := b.ClientTLS(withCert)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, ser := range pyrotest.Serializers {
		t.Run(ser, func(t *testing.T) {
			opt := pyro.WithSerializer(ser)
			goProxy5Add(t, "unix", pyrotest.Proxy(t, srv.unix, nil, opt))
			if srv.abstract != "" {
				goProxy5Add(t, "abstract", pyrotest.Proxy(t, srv.abstract, nil, opt))
			}
			goProxy5Add(t, "tls", pyrotest.Proxy(t, s.URIs["tls"], nil, opt, pyro.WithTLSConfig(clientTLS(false))))
			goProxy5Add(t, "mtls", pyrotest.Proxy(t, ms.URIs["tls"], nil, opt, pyro.WithTLSConfig(clientTLS(true)), pyro.WithProtocol("5")))
			// mutual TLS without a client certificate is refused
			nocert := pyrotest.Proxy(t, ms.URIs["tls"], nil, opt, pyro.WithTLSConfig(clientTLS(false)), pyro.WithProtocol("5"))
			if _, err := nocert.Call(ctx, "add", 1, 2); !errors.Is(err, pyro.ErrCommunication) {
				t.Errorf("mtls without a client certificate: %v", err)
			}
			// plain text to the TLS daemon: nothing readable comes back
			plain := pyrotest.Proxy(t, s.URIs["tls"], nil, opt, pyro.WithTimeout(testkit.Bound()))
			if _, err := plain.Call(ctx, "add", 1, 2); err == nil {
				t.Error("a plain-text proxy reached the TLS daemon")
			}

			// passphrase (pyrogo-auth-v2) played by a Pyro5 daemon: the
			// metadata comes after the proof, by get_metadata
			pass := pyrotest.Proxy(t, s.URIs["passphrase"], nil, opt, pyro.WithIdentification("pyro5 pass phrase"))
			goProxy5Add(t, "passphrase", pass)
			if methods, _, _, err := pass.Metadata(ctx); err != nil || !slices.Contains(methods, "add") {
				t.Errorf("passphrase metadata %v %v", methods, err)
			}
			wrong := pyrotest.Proxy(t, s.URIs["passphrase"], nil, opt, pyro.WithIdentification("wrong"))
			if _, err := wrong.Call(ctx, "add", 1, 2); !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "authentication failed") {
				t.Errorf("wrong passphrase: %v", err)
			}
			none := pyrotest.Proxy(t, s.URIs["passphrase"], nil, opt)
			if _, err := none.Call(ctx, "add", 1, 2); !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "passphrase authentication required") {
				t.Errorf("no passphrase: %v", err)
			}
			// a daemon without passphrases cannot prove one: refused
			impostor := pyrotest.Proxy(t, srv.unix, nil, opt, pyro.WithIdentification("pyro5 pass phrase"))
			if _, err := impostor.Call(ctx, "add", 1, 2); !errors.Is(err, pyro.ErrSecurity) {
				t.Errorf("passphrase against an open daemon: %v", err)
			}
		})
	}
}

// TestInterop5GoProxiesTyped: the typed API (CallT, CallKwT, CallStream,
// CallInto, attributes, autoproxies) against pyserver5.py's "typed".
func TestInterop5GoProxiesTyped(t *testing.T) {
	_, srv := startPy5Servers(t)
	typed := withURIObject(t, srv.plain, "typed")
	for _, ser := range pyrotest.Serializers {
		t.Run(ser, func(t *testing.T) {
			goProxyTypedCalls(t, pyrotest.Proxy(t, typed, nil, pyro.WithSerializer(ser), pyro.WithProtocol("5")), ser, 502)
		})
	}
}

// goProxyTypedCalls makes TestInterop5GoProxiesTyped's calls through p,
// a proxy for a typed object (pyserver5.py's Typed or the Go ipTyped),
// which must speak protocol want.
func goProxyTypedCalls(t *testing.T, p *pyro.Proxy, ser string, want int) {
	ctx := context.Background()
	if n, err := pyro.CallT[int64](ctx, p, "add_ints", 40, 2); err != nil || n != 42 {
		t.Errorf("add_ints %v %v", n, err)
	}
	if f, err := pyro.CallT[float64](ctx, p, "mul_float", 1.5, 4); err != nil || f != 6 {
		t.Errorf("mul_float %v %v", f, err)
	}
	if pt, err := pyro.CallT[ipPoint](ctx, p, "scale", ipPoint{1, -2}, 2); err != nil || pt != (ipPoint{2, -4}) {
		t.Errorf("scale %v %v", pt, err)
	}
	if ps, err := pyro.CallT[[]ipPerson](ctx, p, "people"); err != nil || len(ps) != 2 || ps[0] != (ipPerson{"Ann", 41}) {
		t.Errorf("people %v %v", ps, err)
	}
	if m, err := pyro.CallKwT[map[string]int](ctx, p, "opts", []any{1}, map[string]any{"b": 2}); err != nil || m["a"] != 1 || m["b"] != 2 {
		t.Errorf("opts %v %v", m, err)
	}
	if s, err := pyro.CallKwT[string](ctx, p, "greet", []any{"Ann"}, map[string]any{"greeting": "hi", "punct": "!"}); err != nil || s != "hi Ann!" {
		t.Errorf("greet %q %v", s, err)
	}
	var keys []string
	if err := p.CallInto(ctx, &keys, "sorted_keys", map[string]any{"b": 1, "a": 2}); err != nil || !slices.Equal(keys, []string{"a", "b"}) {
		t.Errorf("sorted_keys %v %v", keys, err)
	}
	var got []int
	for v, err := range pyro.CallStream[int](ctx, p, "countdown", 3) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if !slices.Equal(got, []int{3, 2, 1}) {
		t.Errorf("countdown %v", got)
	}
	_, err := pyro.CallT[string](ctx, p, "lookup", "zz")
	var re *pyro.RemoteError
	if !errors.As(err, &re) || re.Class() != "builtins.KeyError" {
		t.Errorf("lookup(zz): %v", err)
	}
	if _, err := pyro.CallT[int](ctx, p, "add_ints", "x", 1); !errors.As(err, &re) || re.Class() != "builtins.TypeError" {
		t.Errorf("add_ints(x): %v", err)
	}
	if v, err := p.GetAttr(ctx, "label"); err != nil || v != "initial" {
		t.Errorf("label %v %v", v, err)
	}
	if err := p.SetAttr(ctx, "label", "set by go"); err != nil {
		t.Error(err)
	}
	if v, err := p.GetAttr(ctx, "label"); err != nil || v != "set by go" {
		t.Errorf("label after set %v %v", v, err)
	}
	p.SetAttr(ctx, "label", "initial")
	if b, err := pyro.CallT[bool](ctx, p, "is_none", nil); err != nil || !b {
		t.Errorf("is_none %v %v", b, err)
	}
	if u, err := pyro.CallT[pyro.URI](ctx, p, "obj_uri", "x"); err != nil || u.String() != "PYRO:x@example.org:1234" {
		t.Errorf("obj_uri %v %v", u, err)
	}
	before, _ := pyro.CallT[int](ctx, p, "oneways")
	if _, err := p.Call(ctx, "oneway_note", "n"); err != nil {
		t.Error(err)
	}
	testkit.Eventually(t, "oneway_note runs", func() bool { n, _ := pyro.CallT[int](ctx, p, "oneways"); return n == before+1 })
	if ser == "marshal" {
		return // Pyro5's marshal cannot send an object (no autoproxy)
	}
	kid, err := pyro.CallT[*pyro.Proxy](ctx, p, "child")
	if err != nil {
		t.Fatal(err)
	}
	defer kid.Close()
	if n, err := pyro.CallT[string](ctx, kid, "name"); err != nil || n != "kid" {
		t.Errorf("child name %v %v", n, err)
	}
	if kid.Protocol() != want || p.Protocol() != want {
		t.Errorf("the proxy spoke %d, the autoproxy %d, want %d", p.Protocol(), kid.Protocol(), want)
	}
	kids, err := pyro.CallT[[]*pyro.Proxy](ctx, p, "children")
	if err != nil || len(kids) != 2 {
		t.Fatalf("children %v %v", kids, err)
	}
	for _, k := range kids {
		k.Close()
	}
}

// TestGoProxiesGoDaemon: the calls TestInterop5GoProxiesTyped makes
// against Python Pyro5, and the echo corpus and echo server checks of
// TestInterop5GoProxies, made against a Go daemon (ipTyped and the Go echo
// server) with each protocol choice of the proxy. Transports, HMAC and
// the core call suite over 502 are TestTransportMatrix's.
func TestGoProxiesGoDaemon(t *testing.T) {
	d, _ := startGoDaemon(t, nil)
	typed, echo := d.URIFor("typed").String(), d.URIFor(echoserver.ObjectID).String()
	for _, pc := range []struct {
		choice string
		want   int
	}{{pyro.Protocol5, 502}, {pyro.ProtocolAuto, 48}, {pyro.Protocol4, 48}} {
		for _, ser := range pyrotest.Serializers {
			t.Run(pc.choice+"/"+ser, func(t *testing.T) {
				opts := []pyro.ProxyOption{pyro.WithSerializer(ser), pyro.WithProtocol(pc.choice)}
				goProxyTypedCalls(t, pyrotest.Proxy(t, typed, nil, opts...), ser, pc.want)
				c := goProxyCase{ser: ser, py5: pc.want == 502, echo: pyrotest.Proxy(t, echo, nil, opts...)}
				t.Run("echo_corpus", func(t *testing.T) { goProxyEchoCorpus(t, c) })
				t.Run("echoserver", func(t *testing.T) { goProxyPythonEchoserver(t, c) })
				if c.echo.Protocol() != pc.want {
					t.Errorf("the echo proxy spoke %d", c.echo.Protocol())
				}
			})
		}
	}
}
