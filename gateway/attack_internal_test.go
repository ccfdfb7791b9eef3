package gateway

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
)

// The attack campaign of issue 14: what a web page in a browser on the
// gateway's host, a client of its port, a registrant of names or a
// daemon behind an exposed name can make the gateway do.

// rawDo sends one raw request (method, target, extra header lines, body)
// and returns the whole response; it does not fail the test, so that it
// may run in goroutines.
func rawDo(base, method, target, body string, hdr ...string) (*http.Response, string, error) {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), testbound.Scale(10*time.Second))
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testbound.Scale(60 * time.Second)))
	req := method + " " + target + " HTTP/1.1\r\nConnection: close\r\n"
	hasHost := false
	for _, h := range hdr {
		hasHost = hasHost || strings.HasPrefix(strings.ToLower(h), "host:")
		req += h + "\r\n"
	}
	if !hasHost {
		req += "Host: localhost\r\n"
	}
	if body != "" {
		req += fmt.Sprintf("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", len(body))
	}
	if _, err := io.WriteString(c, req+"\r\n"+body); err != nil {
		return nil, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// CountThing counts its calls.
type CountThing struct{ n *atomic.Int64 }

// Touch is a method with a side effect.
func (c CountThing) Touch() string { c.n.Add(1); return "touched" }

// startCounter serves a CountThing as http.count and returns its counter.
func startCounter(t *testing.T, h *hostileSetup) *atomic.Int64 {
	t.Helper()
	n := new(atomic.Int64)
	d, err := pyro.NewDaemon(testConfig(), pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Register(CountThing{n}, "count")
	if err != nil {
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
	if err := nsClientFor(t, h.ns).Register(context.Background(), "http.count", u, false, nil); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAttackDNSRebinding: a page on evil.example whose name now resolves
// to 127.0.0.1 makes the victim's browser send its same-origin requests
// (which it may read) to the gateway with "Host: evil.example:PORT".
// They are refused, the console's API included, before any object is
// called; the names people use for a gateway on loopback still work.
func TestAttackDNSRebinding(t *testing.T) {
	h := newHostileSetup(t)
	n := startCounter(t, h)
	_, base := startGateway(t, h.ns)
	_, extra := startGateway(t, h.ns, WithAllowedHosts("gw.example"))
	port := base[strings.LastIndexByte(base, ':')+1:]
	same := "Sec-Fetch-Site: same-origin" // what a browser sends to the rebound origin
	for _, host := range []string{"evil.example:" + port, "evil.example", "EVIL.example.:" + port, "127.0.0.1.evil.example", "localhost.evil.example", "gw.example"} {
		for _, target := range []string{"/pyro/http.count/touch", "/console/api/names", "/console/api/info", "/pyro/http.count/$meta", "/"} {
			resp, body, err := rawDo(base, "GET", target, "", "Host: "+host, same)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 403 || body != textBadHost {
				t.Errorf("Host %s, GET %s: %d %q, want 403 %q", host, target, resp.StatusCode, body, textBadHost)
			}
		}
	}
	if got := n.Load(); got != 0 {
		t.Fatalf("rebound requests called the object %d times", got)
	}
	hn, _ := os.Hostname()
	for _, host := range []string{"localhost:" + port, "LOCALHOST", "127.0.0.1:" + port, "127.0.0.2", "[::1]:" + port, "app.localhost:" + port, hn, ""} {
		hdr := []string{"Host: " + host}
		resp, body, err := rawDo(base, "GET", "/pyro/http.count/touch", "", hdr...)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || body != `"touched"` {
			t.Errorf("Host %q: %d %q, want 200", host, resp.StatusCode, body)
		}
	}
	if resp, body, _ := rawDo(extra, "GET", "/pyro/http.count/touch", "", "Host: gw.example:443"); resp == nil || resp.StatusCode != 200 {
		t.Errorf("allowed host: %v %q", resp, body)
	}
}

// TestAttackCSRF: a page on another site makes the visitor's browser
// call a method with <img src>, a link or a form post: it cannot read
// the answer, but the call happens. Requests that browsers mark as
// cross-site or same-site (another port on localhost), or whose Origin is
// not the gateway, are refused before any lookup; requests of the
// gateway's own pages, typed URLs and programs (no such headers) pass,
// and WithAllowedOrigins lets a named origin through.
func TestAttackCSRF(t *testing.T) {
	h := newHostileSetup(t)
	n := startCounter(t, h)
	_, base := startGateway(t, h.ns)
	_, allowed := startGateway(t, h.ns, WithAllowedOrigins("http://app.example"))
	hostOf := func(b string) string { return strings.TrimPrefix(b, "http://") }
	attacks := []struct {
		method string
		hdr    []string
	}{
		{"GET", []string{"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: no-cors", "Sec-Fetch-Dest: image"}}, // <img src>
		{"GET", []string{"Sec-Fetch-Site: same-site", "Sec-Fetch-Mode: navigate"}},                          // a page on another localhost port
		{"POST", []string{"Sec-Fetch-Site: cross-site", "Origin: http://evil.example"}},                     // form post
		{"POST", []string{"Origin: http://evil.example"}},                                                   // a browser without Sec-Fetch-*
		{"POST", []string{"Origin: null"}},                                                                  // sandboxed frame
		{"POST", []string{"Origin: http://localhost:1"}},                                                    // another port
		{"GET", []string{"Origin: http://app.example", "Sec-Fetch-Site: cross-site"}},                       // allowed only on the other gateway
	}
	for _, a := range attacks {
		body := ""
		if a.method == "POST" {
			body = "x=1"
		}
		resp, got, err := rawDo(base, a.method, "/pyro/http.count/touch", body, a.hdr...)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 403 || got != textCrossSite {
			t.Errorf("%s %v: %d %q, want 403 %q", a.method, a.hdr, resp.StatusCode, got, textCrossSite)
		}
	}
	if got := n.Load(); got != 0 {
		t.Fatalf("cross-site requests called the object %d times", got)
	}
	honestOnes := [][]string{
		nil, // curl, Python, node
		{"Sec-Fetch-Site: same-origin", "Origin: http://" + hostOf(base)},
		{"Sec-Fetch-Site: none"}, // a typed URL
		{"Origin: http://" + hostOf(base)},
	}
	for _, hdr := range honestOnes {
		hdr = append(hdr, "Host: "+hostOf(base))
		resp, got, err := rawDo(base, "POST", "/pyro/http.count/touch", "", hdr...)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || got != `"touched"` {
			t.Errorf("honest %v: %d %q", hdr, resp.StatusCode, got)
		}
	}
	if resp, got, _ := rawDo(allowed, "POST", "/pyro/http.count/touch", "", "Origin: http://app.example", "Sec-Fetch-Site: cross-site"); resp == nil || resp.StatusCode != 200 {
		t.Errorf("allowed origin: %v %q", resp, got)
	}
}

// TestAttackResponseHeaders: attacker text in the correlation id cannot
// add headers or reach the answer's headers; every answer, carrying
// object or exception text, is nosniff, and call answers are no-store.
func TestAttackResponseHeaders(t *testing.T) {
	h := newHostileSetup(t)
	_, base := startGateway(t, h.ns)
	for _, c := range []struct {
		target string
		hdr    []string
		status int
	}{
		{"/pyro/http.ok/echo?message=%3Chtml%3E%3Cscript%3Ealert(1)%3C/script%3E", nil, 200},
		{"/pyro/http.ok/%3Cscript%3E", nil, 500}, // method name in the exception text
		{"/pyro/http.ok/fail", nil, 500},
		{"/pyro/http.ok/echo", []string{"X-Pyro-Correlation-Id: 11112222-1111-2222-3333-222244449999 Set-Cookie: a=b"}, 500},
		{"/pyro/http.ok/echo", []string{"X-Pyro-Correlation-Id: 11112222-1111-2222-3333-222244449999"}, 200},
		{"/pyro/secret/echo", nil, 403},
	} {
		resp, body, err := rawDo(base, "GET", c.target, "", c.hdr...)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s %v: %d %q, want %d", c.target, c.hdr, resp.StatusCode, body, c.status)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff (%v)", c.target, resp.Header)
		}
		if c.status != 403 && resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", c.target, resp.Header.Get("Cache-Control"))
		}
		if resp.Header.Get("Set-Cookie") != "" || strings.Contains(resp.Header.Get(headerCorr), " ") {
			t.Errorf("%s: attacker header reached the answer: %v", c.target, resp.Header)
		}
	}
}

// TestAttackHangingDaemon: a daemon (or an address a name was registered
// to) that accepts connections and never answers holds at most
// MaxPerDaemon of the MaxConcurrent slots; further requests for it are
// 503 at once, and honest requests for other daemons are served
// meanwhile.
func TestAttackHangingDaemon(t *testing.T) {
	h := newHostileSetup(t)
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never read, never answered
			mu.Unlock()
		}
	}()
	release := func() {
		hang.Close()
		<-acceptDone
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}
	t.Cleanup(release)
	u, err := pyro.ParseURI("PYRO:obj@" + hang.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := nsClientFor(t, h.ns).Register(context.Background(), "http.hang", u, false, nil); err != nil {
		t.Fatal(err)
	}
	const slots = 8
	g, base := startGateway(t, h.ns, WithLimits(Limits{MaxConcurrent: slots}), WithTimeout(testbound.Scale(120*time.Second)))
	if g.Limits().MaxPerDaemon != 2 {
		t.Fatalf("MaxPerDaemon default %d, want MaxConcurrent/4", g.Limits().MaxPerDaemon)
	}
	var finished atomic.Int64
	var busy503 atomic.Int64
	var wg sync.WaitGroup
	for range slots {
		wg.Go(func() {
			resp, body, err := rawDo(base, "GET", "/pyro/http.hang/x", "")
			if err == nil && resp.StatusCode == 503 && body == textBusyDaemon {
				busy503.Add(1)
			}
			finished.Add(1)
		})
	}
	// every attack request has been answered or waits on the daemon (in
	// a daemon slot; without them, once ConnsPerProxy connections hang)
	settled := func() bool {
		mu.Lock()
		conns := len(held)
		mu.Unlock()
		g.slots.mu.Lock()
		inSlots := g.slots.n[u.Location()]
		g.slots.mu.Unlock()
		done := int(finished.Load())
		return done+len(g.sem) == slots && (done+inSlots == slots || conns >= DefaultLimits.ConnsPerProxy)
	}
	for deadline := time.Now().Add(testbound.Scale(30 * time.Second)); !settled(); {
		if time.Now().After(deadline) {
			t.Fatalf("attack requests: %d finished, %d running", finished.Load(), len(g.sem))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%d requests for the hanging daemon: %d hold a slot, %d answered 503 at once", slots, len(g.sem), busy503.Load())
	honest(t, base)
	if len(g.sem) > 2 || busy503.Load() != slots-2 {
		t.Errorf("the hanging daemon holds %d slots, %d refused; want 2 and %d", len(g.sem), busy503.Load(), slots-2)
	}
	release()
	wg.Wait()
	honest(t, base)
}

// TestAttackHugeReplies: a daemon behind an exposed name (a Pyro4
// daemon here, so that its own cost stays out of this process) answers
// with replies as large as it likes. One over MaxReplyBytes (default 8
// MiB, not the configuration's 64 MiB) fails the request with 500
// before its payload is read; one under it is forwarded without being
// decoded, so a reply of millions of tiny items costs its bytes, not
// dozens of bytes per item. Honest requests are served meanwhile.
func TestAttackHugeReplies(t *testing.T) {
	h := newHostileSetup(t)
	host, port := nsHostPort(h.ns)
	pytest.Start(t, "testdata/pybig.py", host, port)
	g, base := startGateway(t, h.ns)
	if g.Limits().MaxReplyBytes != 8<<20 {
		t.Fatalf("MaxReplyBytes default %d", g.Limits().MaxReplyBytes)
	}
	resp, body, err := rawDo(base, "GET", "/pyro/http.big/big?n=1048576", "")
	if err != nil || resp.StatusCode != 200 || len(body) != 1<<20+2 {
		t.Fatalf("1 MiB reply: %v %v %d bytes", err, resp, len(body))
	}
	attack := func(target string, n int) (statuses []int, allocated uint64) {
		t.Helper()
		before := heapAllocs()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range n {
			wg.Go(func() {
				status, body, err := getDiscard(base, target)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("%s: %v", target, err)
					statuses = append(statuses, 0)
					return
				}
				if status == 500 && !strings.Contains(body, "max message size exceeded") {
					t.Errorf("%s: 500 without saying why: %.300s", target, body)
				}
				statuses = append(statuses, status)
			})
		}
		honest(t, base)
		wg.Wait()
		return statuses, heapAllocs() - before
	}
	const clients = 4
	const huge = 24 << 20
	statuses, allocated := attack(fmt.Sprintf("/pyro/http.big/big?n=%d", huge), clients)
	t.Logf("%d requests for %d MiB replies: statuses %v, %.1f MiB allocated by the process meanwhile",
		clients, huge>>20, statuses, float64(allocated)/(1<<20))
	for _, s := range statuses {
		if s != 500 {
			t.Errorf("a %d MiB reply answered %d, want 500", huge>>20, s)
		}
	}
	if allocated > 32<<20 {
		t.Errorf("refusing %d replies of %d MiB allocated %d MiB", clients, huge>>20, allocated>>20)
	}
	const items = 1_500_000 // "[[], [], ...": 6 MiB of JSON
	statuses, allocated = attack(fmt.Sprintf("/pyro/http.big/items?n=%d", items), clients)
	t.Logf("%d requests for replies of %d empty lists (%.1f MiB of JSON each): statuses %v, %.1f MiB allocated by the process meanwhile",
		clients, items, float64(4*items)/(1<<20), statuses, float64(allocated)/(1<<20))
	for _, s := range statuses {
		if s != 200 {
			t.Errorf("a reply of %d items answered %d, want 200", items, s)
		}
	}
	// reading, keeping and writing the bytes: a few times their size,
	// not the tens of bytes per item a decoded []any costs
	if perReq := allocated / clients; perReq > 5*4*items {
		t.Errorf("%.1f MiB allocated per forwarded %.1f MiB reply", float64(perReq)/(1<<20), float64(4*items)/(1<<20))
	}
	honest(t, base)
}

// getDiscard GETs target and returns the status and the first KiB of the
// body, discarding the rest (so that the client costs this process
// little while the gateway is measured).
func getDiscard(base, target string) (int, string, error) {
	resp, err := testClient.Get(base + target)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(resp.Body, head)
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, string(head[:n]), err
}

// TestAttackGatewayKeySources: a request with the key in both the
// header and $key is judged by the header alone (a right $key does not
// make up for a wrong header), $key never reaches the method as an
// argument, and the console's API takes the header only.
func TestAttackGatewayKeySources(t *testing.T) {
	h := newHostileSetup(t)
	n := startCounter(t, h)
	_, base := startGateway(t, h.ns, WithGatewayKey([]byte("s3cret")))
	cases := []struct {
		target string
		hdr    []string
		status int
		body   string
	}{
		{"/pyro/http.count/touch?$key=s3cret", []string{headerKey + ": wrong"}, 403, textBadKey},
		{"/pyro/http.count/touch?$key=wrong", []string{headerKey + ": s3cret"}, 200, `"touched"`},
		{"/pyro/http.count/touch?$key=s3cret", nil, 200, `"touched"`},
		{"/pyro/http.count/touch?$key=s3cret&$key=s3cret", nil, 403, textBadKey}, // a list is no key
		{"/pyro/http.count/touch", []string{headerKey + ": S3CRET"}, 403, textBadKey},
		{"/pyro/http.count/touch", []string{headerKey + ": s3cret\x00"}, 400, ""}, // refused by net/http
		{"/pyro/http.count/touch?$key=s3cre", nil, 403, textBadKey},
		{"/pyro/http.count/touch?$key=s3cret%00", nil, 403, textBadKey},
		{"/pyro/http.ok/echo?$key=s3cret&message=m", nil, 200, `"m"`}, // $key is not an argument
		{"/console/api/info?$key=s3cret", nil, 403, ""},
		{"/console/api/names", []string{headerKey + ": s3cret"}, 200, ""},
	}
	for _, c := range cases {
		resp, body, err := rawDo(base, "GET", c.target, "", c.hdr...)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status || (c.body != "" && body != c.body) {
			t.Errorf("%s %v: %d %q, want %d %q", c.target, c.hdr, resp.StatusCode, body, c.status, c.body)
		}
	}
	if got := n.Load(); got != 2 {
		t.Errorf("the object was called %d times, want 2 (the requests with the right key)", got)
	}
}

// TestAttackSSRF: whoever may register names aims the gateway at any
// address. Without a target check the gateway connects there and sends
// a Pyro handshake (and nothing of the HTTP request: the call follows
// only a Pyro answer; the attacker's object id appears JSON-escaped);
// with WithTargetCheck it refuses with 403 and never connects.
func TestAttackSSRF(t *testing.T) {
	h := newHostileSetup(t)
	victim, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 8)
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			c, err := victim.Accept()
			if err != nil {
				return
			}
			c.SetReadDeadline(time.Now().Add(testbound.Scale(5 * time.Second)))
			var b []byte // the handshake: until its JSON ends, or the gateway gives up
			buf := make([]byte, 4096)
			for len(b) < 4096 && !bytes.HasSuffix(b, []byte("}")) {
				n, err := c.Read(buf)
				b = append(b, buf[:n]...)
				if err != nil {
					break
				}
			}
			c.Close()
			got <- b
		}
	}()
	t.Cleanup(func() { victim.Close(); <-acceptDone })
	u, err := pyro.ParseURI("PYRO:SET_x_y@" + victim.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := nsClientFor(t, h.ns).Register(context.Background(), "http.internal", u, false, nil); err != nil {
		t.Fatal(err)
	}
	onlyDaemons := func(u pyro.URI) error {
		if u.Sockname != "" || u.Host != "127.0.0.1" || u.Location() == victim.Addr().String() {
			return fmt.Errorf("%s is not a daemon address", u.Location())
		}
		return nil
	}
	_, checked := startGateway(t, h.ns, WithTargetCheck(onlyDaemons))
	_, open := startGateway(t, h.ns, WithTimeout(testbound.Scale(2*time.Second)))
	resp, body, err := rawDo(checked, "GET", "/pyro/http.internal/flushall?a=%0d%0aFLUSHALL%0d%0a", "")
	if err != nil || resp.StatusCode != 403 || body != textDeniedObject {
		t.Errorf("checked gateway: %v %v %q, want 403", err, resp, body)
	}
	honest(t, checked)
	select {
	case b := <-got:
		t.Fatalf("the checked gateway connected to the target and sent %q", b)
	default:
	}
	resp, body, err = rawDo(open, "GET", "/pyro/http.internal/flushall?a=%0d%0aFLUSHALL%0d%0a", "")
	if err != nil || resp.StatusCode != 500 {
		t.Errorf("unchecked gateway: %v %v %q, want 500", err, resp, body)
	}
	select {
	case b := <-got:
		t.Logf("without a target check the gateway sent the target %d bytes: %q", len(b), b)
		if bytes.Contains(b, []byte("FLUSHALL")) || bytes.Contains(b, []byte("flushall")) || !bytes.HasPrefix(b, []byte("PYRO")) {
			t.Errorf("the target got more than a Pyro handshake: %q", b)
		}
	case <-time.After(testbound.Scale(20 * time.Second)):
		t.Fatal("the unchecked gateway never connected")
	}
}
