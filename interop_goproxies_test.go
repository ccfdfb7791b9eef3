package pyro_test

// Interop B: Go proxies against Python Pyro4 daemons
// (testdata/interop/pyserver.py and Python's echo server), per
// serializer and per feature, and over HMAC, unix sockets, compression
// and MAX_MESSAGE_SIZE; see interop_test.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

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
	for _, ser := range pyrotest.Serializers {
		t.Run(ser, func(t *testing.T) {
			c := goProxyCase{srv: srv, ser: ser,
				p:    pyrotest.Proxy(t, srv.plain, nil, pyro.WithSerializer(ser)),
				echo: pyrotest.Proxy(t, srv.echo, nil, pyro.WithSerializer(ser))}
			for _, f := range goProxyFeatures {
				t.Run(f.name, func(t *testing.T) { f.run(t, c) })
			}
		})
	}
	t.Run("hmac", func(t *testing.T) { goProxyHMAC(t, srv) })
	t.Run("unix", func(t *testing.T) { goProxyUnix(t, srv) })
	t.Run("compression", func(t *testing.T) { goProxyCompression(t, srv) })
	t.Run("compression_hmac", func(t *testing.T) { goProxyCompressionHMAC(t, srv) })
	t.Run("max_message_size", func(t *testing.T) { goProxyMaxSize(t, srv) })
}

// goProxyCase is what a feature check of TestInteropGoProxies works
// with: the Python daemons, the serializer, and proxies (using it) for
// pyserver.py's "thing" (p) and for Python's echo server (echo).
type goProxyCase struct {
	srv     pyServers
	ser     string
	p, echo *pyro.Proxy
	py5     bool // the daemons are Pyro5's (interop5_goproxies_test.go)
}

// goProxyFeatures are the checks TestInteropGoProxies runs for each
// serializer, in order; each is a function of interop_values_test.go or
// interop_calls_test.go.
var goProxyFeatures = []struct {
	name string
	run  func(t *testing.T, c goProxyCase)
}{
	{"echo_corpus", goProxyEchoCorpus},
	{"types_seen_by_python", goProxyTypesSeenByPython},
	{"results", goProxyResults},
	{"large_messages", goProxyLargeMessages},
	{"kwargs", goProxyKwargs},
	{"errors", goProxyErrors},
	{"metadata", goProxyMetadata},
	{"attribute", goProxyAttribute},
	{"oneway", goProxyOneway},
	{"generator", goProxyGenerator},
	{"batch", goProxyBatch},
	{"autoproxy", goProxyAutoproxy},
	{"handshake", goProxyHandshake},
	{"daemon_object", goProxyDaemonObject},
	{"no_metadata", goProxyNoMetadata},
	{"timeout", goProxyTimeout},
	{"concurrent", goProxyConcurrent},
	{"python_echoserver", goProxyPythonEchoserver},
}

func goProxyHMAC(t *testing.T, srv pyServers) {
	ctx := context.Background()
	key := []byte(interopKey)
	for _, ser := range pyrotest.Serializers {
		p := pyrotest.Proxy(t, srv.hmac, nil, pyro.WithSerializer(ser), pyro.WithHMACKey(key))
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
			p := pyrotest.Proxy(t, c.uri, nil, pyro.WithHMACKey(c.key))
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
			for _, ser := range pyrotest.Serializers {
				p := pyrotest.Proxy(t, uris[name], nil, pyro.WithSerializer(ser))
				if v, err := p.Call(ctx, "add", "u", "nix"); err != nil || v != "unix" {
					t.Errorf("%s: %v %v", ser, v, err)
				}
			}
			p := pyrotest.Proxy(t, uris[name], nil)
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
	tap, tapURI := wireTap(t, srv.plain)
	cfg := pyro.BuiltinConfig()
	cfg.Compression = true
	for _, ser := range pyrotest.Serializers {
		t.Run(ser, func(t *testing.T) {
			p := pyrotest.Proxy(t, tapURI, cfg, pyro.WithSerializer(ser))
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
			tap.Reset()
			s, err := pyro.CallT[string](ctx, p, "big", 100000)
			if err != nil || s != strings.Repeat("x", 100000) {
				t.Fatalf("big reply: %d chars, %v", len(s), err)
			}
			if r := lastReply(t, tap); r.Type != wire.MsgResult || r.Flags&wire.FlagCompressed == 0 {
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
	tap, tapURI := wireTap(t, srv.hmac)
	cfg := pyro.BuiltinConfig()
	cfg.Compression = true
	p := pyrotest.Proxy(t, tapURI, cfg, pyro.WithHMACKey([]byte(interopKey)))
	arg := strings.Repeat("compress and sign ", 5000)
	if flags, err := pyro.CallT[int](ctx, p, "request_flags", arg); err != nil || wire.Flags(flags)&wire.FlagCompressed == 0 {
		t.Errorf("request flags %#x, %v", flags, err)
	}
	s, err := pyro.CallT[string](ctx, p, "big", 100000)
	if err != nil || len(s) != 100000 {
		t.Fatalf("big: %d %v", len(s), err)
	}
	if r := lastReply(t, tap); r.Flags&wire.FlagCompressed == 0 {
		t.Errorf("reply not compressed: %+v", r)
	}
}

func goProxyMaxSize(t *testing.T, srv pyServers) {
	ctx := context.Background()
	cfg := pyro.BuiltinConfig()
	cfg.MaxMessageSize = interopLimit
	p := pyrotest.Proxy(t, srv.plain, cfg)
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
// the wire between a Go proxy and a Python daemon

// wireTap puts a relay that records the wire in front of the daemon of
// uri, and returns it and the URI through it.
func wireTap(t *testing.T, uri string) (*testkit.Relay, string) {
	t.Helper()
	u, err := pyro.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	network, addr, err := u.Dial()
	if err != nil {
		t.Fatal(err)
	}
	r := testkit.NewRelay(t, testkit.Listen(t), func() (net.Conn, error) { return net.Dial(network, addr) })
	u.Host, u.Port = r.Host(), r.Port()
	return r, u.String()
}

// lastReply returns the header of the last whole message the daemon sent
// through r (a zero header when there is none).
func lastReply(t *testing.T, r *testkit.Relay) wire.Header {
	t.Helper()
	hs := rawpyro.Headers(t, r.Received())
	if len(hs) == 0 {
		return wire.Header{}
	}
	return hs[len(hs)-1]
}
