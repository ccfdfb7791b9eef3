package pyro_test

// Interop B for Pyro5: Go proxies against Python Pyro5 daemons
// (testdata/interop5/pyserver5.py and Pyro5's echo server) over protocol
// 502, per serializer and per feature; see interop_goproxies_test.go for
// the Pyro4 side, whose feature checks run here too.

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
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
	_ = context.Background
}
