package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"log/slog"
)

// TestHTTPSAndWarning: Serve speaks HTTPS when the server has a TLS
// config, the connection limit still applies, and binding to a
// non-loopback address without a gateway key logs a warning (loopback
// or a key: none).
func TestHTTPSAndWarning(t *testing.T) {
	h := newHostileSetup(t)
	b, err := devcert.New("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := b.ServerTLS(false)
	if err != nil {
		t.Fatal(err)
	}
	clientTLS, err := b.ClientTLS(false)
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := testkit.TextLogger(slog.LevelInfo)
	g, err := New(testConfig(), WithNameServer(h.ns.URI().String()), WithLogger(logger), WithLimits(Limits{MaxConns: 4}))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := g.NewServer(l.Addr().String())
	srv.TLSConfig = serverTLS
	done := make(chan error, 1)
	go func() { done <- g.Serve(srv, l) }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}, Timeout: testbound.Scale(30e9)}
	defer client.CloseIdleConnections()
	for range 10 { // more requests than connection slots: idle ones are reused or evicted
		resp, err := client.Get("https://" + l.Addr().String() + "/pyro/http.ok/echo?message=tls")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != `"tls"` {
			t.Fatalf("https: %d %q", resp.StatusCode, body)
		}
	}
	srv.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "without a gateway key") {
		t.Errorf("warning on a loopback address: %s", logs)
	}
	// a listener that says it is bound to a non-loopback address (it is
	// on loopback: tests use loopback only)
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv2 := g.NewServer(l2.Addr().String())
	done2 := make(chan error, 1)
	go func() {
		done2 <- g.Serve(srv2, addrListener{l2, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 8080}})
	}()
	testkit.WaitLog(t, logs, "reachable from the network without a gateway key")
	srv2.Close()
	<-done2
}

type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }
