package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
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
	req := "GET " + target + " HTTP/1.1\r\nConnection: close\r\n"
	if !slices.ContainsFunc(hdr, func(h string) bool { return strings.HasPrefix(strings.ToLower(h), "host:") }) {
		req += "Host: localhost\r\n"
	}
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
		{base, "/pyro/http." + strings.Repeat("a", 2000) + "/echo", 400, textTooLong},
		{base, "/pyro/http.ok/" + strings.Repeat("a", 2000), 400, textTooLong},
		{base, "/pyro/http.ok/_pyroBind", 403, textDeniedMethod},
		{base, "/pyro/http.ok/_pyroRelease", 403, textDeniedMethod},
		{base, "/pyro/http.ok/__getattr__?name=x", 403, textDeniedMethod},
		{base, "/pyro/http.ok/__class__", 403, textDeniedMethod},
		{base, "/pyro/http.ok/_private", 403, textDeniedMethod},
		{base, "/pyro/http.ok/echo.__class__", 403, textDeniedMethod},
		{base, "/pyro/http.ok/$key", 403, textDeniedMethod},
		{base, "/pyro/http.ok/%24meta", 200, `{"methods": ["corr", "echo", "fail", "slow"]`},
		{base, "/pyro/http.ok/echo?message=fine", 200, `"fine"`},
		{base, "/pyro/http.ok/x/echo?message=slash", 200, `"slash"`}, // the name http.ok/x
		{open, "/pyro/secret/echo?message=open", 200, `"open"`},      // control: reachable when exposed
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

// honest checks that an ordinary request is answered.
func honest(t *testing.T, base string) {
	t.Helper()
	status, body := rawGet(t, base, "/pyro/http.ok/echo?message=honest")
	if status != 200 || body != `"honest"` {
		t.Errorf("honest request: %d %q", status, body)
	}
}

// TestHostileLimits: huge bodies, header floods, thousands of parameters
// and bad forms get clear 4xx answers, and the gateway keeps serving.
func TestHostileLimits(t *testing.T) {
	h := newHostileSetup(t)
	g, base := startGateway(t, h.ns, WithLimits(Limits{MaxBodyBytes: 64 << 10, MaxHeaderBytes: 8 << 10, MaxParams: 100}))
	post := func(ctype string, body io.Reader, n int64) (int, string) {
		req, _ := http.NewRequest("POST", base+"/pyro/http.ok/echo", body)
		req.Header.Set("Content-Type", ctype)
		req.ContentLength = n
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// a 100 MiB body (streamed, never held by the client) is cut off at the limit
	huge := io.LimitReader(repeatReader('a'), 100<<20)
	if status, body := post("application/x-www-form-urlencoded", io.MultiReader(strings.NewReader("message="), huge), 100<<20+8); status != 413 ||
		body != textTooLarge+"65536 bytes" {
		t.Errorf("huge body: %d %q", status, body)
	}
	honest(t, base)
	// chunked (no length) is bounded the same way
	if status, _ := post("application/x-www-form-urlencoded", io.LimitReader(repeatReader('b'), 1<<20), -1); status != 413 {
		t.Errorf("huge chunked body: %d", status)
	}
	// a multipart field beyond the limit, a file, a missing boundary
	mp := "--B\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n" + strings.Repeat("m", 100<<10) + "\r\n--B--\r\n"
	if status, _ := post("multipart/form-data; boundary=B", strings.NewReader(mp), int64(len(mp))); status != 413 {
		t.Errorf("huge multipart field: %d", status)
	}
	file := "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\ndata\r\n--B--\r\n"
	if status, body := post("multipart/form-data; boundary=B", strings.NewReader(file), int64(len(file))); status != 400 || !strings.Contains(body, "file uploads") {
		t.Errorf("file upload: %d %q", status, body)
	}
	if status, _ := post("multipart/form-data", strings.NewReader("x"), 1); status != 400 {
		t.Errorf("multipart without boundary: %d", status)
	}
	if status, _ := post("multipart/form-data; boundary=B", strings.NewReader("garbage"), 7); status != 400 {
		t.Errorf("bad multipart: %d", status)
	}
	// bad urlencoded forms are parsed as Python does, not refused
	if status, body := post("application/x-www-form-urlencoded", strings.NewReader("message=%zz%&&=&x"), 17); status != 200 || body != `"%zz%"` {
		t.Errorf("odd form: %d %q", status, body)
	}
	// thousands of parameters
	var qs strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&qs, "p%d=1&", i)
	}
	if status, body := post("application/x-www-form-urlencoded", strings.NewReader(qs.String()), int64(qs.Len())); status != 400 || body != textTooManyParams+"100" {
		t.Errorf("5000 parameters: %d %q", status, body)
	}
	if status, _ := rawGet(t, base, "/pyro/http.ok/echo?"+strings.Repeat("a=1&", 101)); status != 400 {
		t.Errorf("101 query parameters: %d", status)
	}
	// header flood: one huge header, and thousands of small ones
	if status, _ := rawGet(t, base, "/pyro/http.ok/echo", "X-Big: "+strings.Repeat("h", 64<<10)); status != 431 {
		t.Errorf("huge header: %d", status)
	}
	many := make([]string, 2000)
	for i := range many {
		many[i] = fmt.Sprintf("X-H%d: v", i)
	}
	if status, _ := rawGet(t, base, "/pyro/http.ok/echo", many...); status != 431 {
		t.Errorf("2000 headers: %d", status)
	}
	honest(t, base)
	if n := g.Info().Refused; n < 8 {
		t.Errorf("refused counter %d after 8+ refusals", n)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// dialRaw opens a TCP connection to the gateway; closed with the test.
func dialRaw(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), testbound.Scale(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed reads from c until the server closes it and returns what
// it sent; it fails the test if that takes longer than bound.
func waitClosed(t *testing.T, c net.Conn, bound time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(bound))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v (read %q)", bound, b)
	}
	return string(b)
}

// TestHostileSlowClients: a client that sends its headers byte by byte,
// or promises a body it never sends, is cut off after ReadHeaderTimeout
// or ReadTimeout, while honest requests are answered meanwhile.
func TestHostileSlowClients(t *testing.T) {
	h := newHostileSetup(t)
	_, base := startGateway(t, h.ns, WithLimits(Limits{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond}))
	var slow []net.Conn
	for range 20 {
		c := dialRaw(t, base)
		io.WriteString(c, "GET /pyro/http.ok/echo HTTP/1.1\r\nHost: localhost\r\n")
		slow = append(slow, c)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range slow {
		wg.Go(func() { // a header byte now and then, never the end of the headers
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := io.WriteString(c, "X"); err != nil {
						return
					}
				}
			}
		})
	}
	honest(t, base)
	for _, c := range slow {
		waitClosed(t, c, testbound.Scale(10*time.Second))
	}
	close(stop)
	wg.Wait()
	// a body promised and never sent
	c := dialRaw(t, base)
	io.WriteString(c, "POST /pyro/http.ok/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nmessage=x")
	honest(t, base)
	if got := waitClosed(t, c, testbound.Scale(10*time.Second)); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Errorf("stalled body answered %q, want a 400", got)
	}
	honest(t, base)
}

// BlockThing's Block waits until the test releases it.
type BlockThing struct {
	entered chan struct{}
	release chan struct{}
}

// Block signals that it runs and waits for release.
func (b *BlockThing) Block() string {
	b.entered <- struct{}{}
	<-b.release
	return "released"
}

// TestHostileConcurrency: with MaxConcurrent requests running, the next
// one is answered 503 at once instead of queueing; the running ones
// complete.
func TestHostileConcurrency(t *testing.T) {
	h := newHostileSetup(t)
	bt := &BlockThing{entered: make(chan struct{}), release: make(chan struct{})}
	d, err := pyro.NewDaemon(testConfig(), pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := d.Register(bt, "block")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Serve(ctx) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		d.Shutdown(sctx)
		cancel()
		<-done
	}()
	if err := nsClientFor(t, h.ns).Register(context.Background(), "http.block", u, false, nil); err != nil {
		t.Fatal(err)
	}
	g, base := startGateway(t, h.ns, WithLimits(Limits{MaxConcurrent: 2, MaxPerDaemon: 2}))
	results := make(chan string, 2)
	for range 2 {
		go func() {
			status, body := rawGet(t, base, "/pyro/http.block/block")
			results <- fmt.Sprint(status, " ", body)
		}()
	}
	for range 2 {
		select {
		case <-bt.entered:
		case <-time.After(testbound.Scale(20 * time.Second)):
			t.Fatal("blocking calls did not start")
		}
	}
	refusedBefore := g.Info().Refused
	status, body := rawGet(t, base, "/pyro/http.ok/echo?message=third")
	if status != 503 || body != textBusy {
		t.Errorf("third request: %d %q, want 503", status, body)
	}
	if g.Info().Refused != refusedBefore+1 {
		t.Errorf("refused counter did not count the 503")
	}
	close(bt.release)
	for range 2 {
		if r := <-results; r != `200 "released"` {
			t.Errorf("blocked request answered %s", r)
		}
	}
	honest(t, base)
}

// TestHostileConnectionFlood: connections beyond MaxConns evict the
// oldest ones that have not sent a whole request header (idle, or
// slowloris), so honest clients still get in; when every slot is taken
// by a client in the middle of a request, a new connection gets a 503 and
// is closed.
func TestHostileConnectionFlood(t *testing.T) {
	h := newHostileSetup(t)
	g, base := startGateway(t, h.ns, WithLimits(Limits{MaxConns: 8}))
	var idle []net.Conn
	for range 40 {
		idle = append(idle, dialRaw(t, base))
	}
	honest(t, base)
	// the oldest idle connections were closed to make room
	closed := 0
	for _, c := range idle[:30] {
		c.SetReadDeadline(time.Now().Add(testbound.Scale(5 * time.Second)))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	if closed < 30 {
		t.Errorf("%d of the 30 oldest idle connections were closed, want all", closed)
	}
	// 8 busy connections: in the middle of a request (headers read, the
	// body still coming); a client that has not finished its headers is
	// as evictable as an idle one
	var busy []net.Conn
	for range 8 {
		n := g.Info().Requests
		c := dialRaw(t, base)
		io.WriteString(c, "POST /pyro/http.ok/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nmess")
		busy = append(busy, c)
		for deadline := time.Now().Add(testbound.Scale(20 * time.Second)); g.Info().Requests == n; {
			if time.Now().After(deadline) {
				t.Fatal("a busy request never reached the handler")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	c := dialRaw(t, base)
	io.WriteString(c, "GET /pyro/http.ok/echo?message=probe HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	if got := waitClosed(t, c, testbound.Scale(10*time.Second)); !strings.HasPrefix(got, "HTTP/1.1 503") || !strings.HasSuffix(got, "too many connections") {
		t.Fatalf("with every slot busy, a new connection got %q, want a 503", got)
	}
	for _, c := range busy {
		c.Close()
	}
	deadline := time.Now().Add(testbound.Scale(20 * time.Second))
	for {
		c := dialRaw(t, base)
		io.WriteString(c, "GET /pyro/http.ok/echo?message=back HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		if got := waitClosed(t, c, testbound.Scale(10*time.Second)); strings.HasSuffix(got, `"back"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not served again after the busy connections closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHostileHugeBodiesMemory: 16 clients at once each send a 20 MiB
// form body (320 MiB in all); the gateway reads at most MaxBodyBytes of
// each, so what the process allocates meanwhile stays a small fraction of
// what was sent, every client gets a 413, and an honest request made
// during the attack is answered.
func TestHostileHugeBodiesMemory(t *testing.T) {
	h := newHostileSetup(t)
	_, base := startGateway(t, h.ns, WithLimits(Limits{MaxBodyBytes: 64 << 10}))
	const clients, size = 16, 20 << 20
	before := heapAllocs()
	var wg sync.WaitGroup
	statuses := make(chan int, clients)
	for range clients {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", base+"/pyro/http.ok/echo", io.MultiReader(strings.NewReader("message="), io.LimitReader(repeatReader('z'), size)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.ContentLength = size + 8
			resp, err := testClient.Do(req)
			if err != nil {
				statuses <- 0 // the server closed the connection while the body was still coming
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	honest(t, base)
	wg.Wait()
	close(statuses)
	answered := 0
	for s := range statuses {
		if s != 0 && s != 413 {
			t.Errorf("huge body answered %d, want 413", s)
		}
		if s == 413 {
			answered++
		}
	}
	allocated := heapAllocs() - before
	t.Logf("%d clients sent %d MiB each: %d answered 413 (the rest saw the connection closed), %.1f MiB allocated by the process meanwhile",
		clients, size>>20, answered, float64(allocated)/(1<<20))
	if allocated > 64<<20 {
		t.Errorf("allocated %d MiB while refusing %d MiB of bodies", allocated>>20, clients*size>>20)
	}
	honest(t, base)
}

// heapAllocs returns the bytes allocated by the process so far.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
