package gateway

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// TestNameServerRestart: while the name server is down, requests fail
// with a 500 and Pyro's error; once it is back on its address, the
// gateway's name server proxy reconnects by itself.
func TestNameServerRestart(t *testing.T) {
	port := testkit.FreeTCPPort(t)
	start := func() *naming.Server {
		s, err := naming.Start(testConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(port), naming.WithBroadcast(false))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stop := func(s *naming.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}
	ns := start()
	startGoDaemon(t, ns, "http.ok")
	_, base := startGateway(t, ns)
	if r := do(t, base, "GET", "/pyro/http.ok/echo?message=1", nil, "", ""); r.status != 200 {
		t.Fatalf("before the restart: %d %s", r.status, r.body)
	}
	stop(ns)
	if r := do(t, base, "GET", "/pyro/http.ok/echo?message=2", nil, "", ""); r.status != 500 || r.ctype != contentJSON {
		t.Errorf("name server down: %d %q %s", r.status, r.ctype, r.body)
	}
	ns = start()
	defer stop(ns)
	startGoDaemon(t, ns, "http.ok")
	if r := do(t, base, "GET", "/pyro/http.ok/echo?message=3", nil, "", ""); r.status != 200 || string(r.body) != `"3"` {
		t.Errorf("after the restart: %d %s", r.status, r.body)
	}
}

// TestListenAndServe: ListenAndServe serves until its context ends and
// then shuts down.
func TestListenAndServe(t *testing.T) {
	ns := startNS(t)
	startGoDaemon(t, ns, "http.ok")
	g, err := New(testConfig(), WithNameServer(ns.URI().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	addr := "127.0.0.1:" + itoa(int64(testkit.FreeTCPPort(t)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.ListenAndServe(ctx, addr, 5*time.Second) }()
	var r gwReply
	for deadline := time.Now().Add(testbound.Scale(10 * time.Second)); ; time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/pyro/http.ok/echo?message=las", nil)
		if resp, err := testClient.Do(req); err == nil {
			resp.Body.Close()
			r = do(t, "http://"+addr, "GET", "/pyro/http.ok/echo?message=las", nil, "", "")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ListenAndServe did not serve")
		}
	}
	if r.status != 200 || string(r.body) != `"las"` {
		t.Errorf("%d %s", r.status, r.body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe returned %v after its context ended", err)
	}
}
