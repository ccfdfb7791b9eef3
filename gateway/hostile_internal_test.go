package gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/naming"
)

// SecretThing counts every call that reaches it: no request through the
// gateway may.
type SecretThing struct{ calls *atomic.Int64 }

// Echo returns its argument.
func (s SecretThing) Echo(a goEchoArgs) any { s.calls.Add(1); return a.Message }

// List is a method with the name server's name.
func (s SecretThing) List() string { s.calls.Add(1); return "secret" }

// hostileSetup is a Go name server with GoThing as http.ok and
// SecretThing as "secret", "httpx.secret" and "Http.secret".
type hostileSetup struct {
	ns      *naming.Server
	goURI   pyro.URI
	secret  pyro.URI
	reached *atomic.Int64
}

func newHostileSetup(t *testing.T) *hostileSetup {
	t.Helper()
	ns := startNS(t)
	h := &hostileSetup{ns: ns, reached: new(atomic.Int64)}
	h.goURI = startGoDaemon(t, ns, "http.ok", "http.ok/x")
	d, err := pyro.NewDaemon(testConfig(), pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	if h.secret, err = d.Register(SecretThing{h.reached}, "secret"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Serve(ctx) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		d.Shutdown(sctx)
		cancel()
		<-done
	})
	c := nsClientFor(t, ns)
	for _, n := range []string{"secret", "httpx.secret", "Http.secret", "http\u202e.secret", "ｈttp.secret", "secret/http.ok"} {
		if err := c.Register(context.Background(), n, h.secret, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// get sends a raw request line (the path exactly as given, no client-side
// cleaning) and returns the status and body.
func rawGet(t *testing.T, base, target string, hdr ...string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), testbound.Scale(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testbound.Scale(30 * time.Second)))
	req := "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	for _, h := range hdr {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHostilePaths: no path, encoding or method trick reaches a name
// outside the expose regex or a method outside the metadata; each
// refusal is a 4xx with Pyro4's text or a clear one.
func TestHostilePaths(t *testing.T) {
	h := newHostileSetup(t)
	_, base := startGateway(t, h.ns)
	_, open := startGateway(t, h.ns, WithExpose("")) // everything exposed
	_, anchored := startGateway(t, h.ns, WithExpose(`http\.ok$`))
	goURI := h.goURI.String()
	cases := []struct {
		base, target string
		status       int
		body         string // a prefix of the answer
	}{
		{base, "/pyro/secret/echo", 403, textDeniedObject},
		{base, "/pyro/secret/$meta", 403, textDeniedObject},
		{base, "/pyro/Pyro.NameServer/list", 403, textDeniedObject},
		{base, "/pyro/Pyro.NameServer/lookup?name=secret", 403, textDeniedObject},
		{base, "/pyro/httpx.secret/echo", 403, textDeniedObject},
		{base, "/pyro/Http.secret/echo", 403, textDeniedObject},
		{base, "/pyro/HTTP.ok/echo", 403, textDeniedObject},
		{base, "/pyro/%68ttp%2esecret/echo", 500, `{"__class__": "Pyro4.errors.NamingError"`}, // http.secret: not registered
		{base, "/pyro/http%E2%80%AE.secret/echo", 403, textDeniedObject},
		{base, "/pyro/%EF%BD%88ttp.secret/echo", 403, textDeniedObject},
		{base, "/pyro/http.ok%00/echo", 400, textBadPath},
		{base, "/pyro/http.ok%0a/echo", 400, textBadPath},
		{base, "/pyro/http.ok/echo%00", 400, textBadPath},
		{base, "/pyro/http.%C0%AE/echo", 400, textBadPath}, // invalid UTF-8
		{base, "/pyro/http.%FF/echo", 400, textBadPath},
		{base, "/pyro/http.ok/../secret/echo", 500, `{"__class__": "Pyro4.errors.NamingError"`},
		{base, "/pyro/http.ok/%2e%2e/secret/echo", 500, `{"__class__": "Pyro4.errors.NamingError"`},
		{base, "/pyro/..%2Fsecret/echo", 403, textDeniedObject},
		{base, "/pyro//secret/echo", 403, textDeniedObject},
		{base, "/pyro/%2Fsecret/echo", 403, textDeniedObject},
		{base, "//pyro//http.ok/echo", 403, textDeniedObject},
		{base, "/pyro/secret%2Fhttp.ok/echo", 403, textDeniedObject},
		{base, "/pyro/http.ok/_pyroBind", 403, textDeniedMethod},
		{base, "/pyro/http.ok/_pyroRelease", 403, textDeniedMethod},
		{base, "/pyro/http.ok/__getattr__?name=x", 403, textDeniedMethod},
		{base, "/pyro/http.ok/__class__", 403, textDeniedMethod},
		{base, "/pyro/http.ok/_private", 403, textDeniedMethod},
		{base, "/pyro/http.ok/echo.__class__", 403, textDeniedMethod},
		{base, "/pyro/http.ok/$key", 403, textDeniedMethod},
		{base, "/pyro/http.ok/%24meta", 200, `{"methods": ["echo", "fail", "slow"]`},
		{base, "/pyro/http.ok/echo?message=fine", 200, `"fine"`},
		{base, "/pyro/http.ok/x/echo?message=slash", 200, `"slash"`}, // the name http.ok/x
		{open, "/pyro/secret/echo?message=open", 200, `"open"`},     // control: reachable when exposed
		{open, "/pyro/" + goURI + "/echo", 403, textDeniedObject},
		{open, "/pyro/pyro:" + strings.TrimPrefix(h.secret.String(), "PYRO:") + "/echo", 403, textDeniedObject},
		{open, "/pyro/PYRONAME:secret/echo", 403, textDeniedObject},
		{open, "/pyro/PYROMETA:x/echo", 403, textDeniedObject},
		{anchored, "/pyro/http.ok/echo?message=a", 200, `"a"`},
		{anchored, "/pyro/http.ok/x/echo", 403, textDeniedObject},
	}
	before := h.reached.Load()
	for _, c := range cases {
		status, body := rawGet(t, c.base, c.target)
		if status != c.status || !strings.HasPrefix(body, c.body) {
			t.Errorf("GET %s: %d %q, want %d %q...", c.target, status, body, c.status, c.body)
		}
	}
	if n := h.reached.Load() - before; n != 1 { // the one call of the exposed control case
		t.Errorf("the secret object was called %d times, want 1 (the control case)", n)
	}
}
