package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/naming"
)

// startNSHTTPCmd runs "pyro ns" with args and returns it and the console
// URL it prints.
func startNSHTTPCmd(t *testing.T, environ []string, args ...string) (*nsRun, string) {
	t.Helper()
	r := startNSCmd(t, environ, args...)
	line, ok := r.stdout.WaitLine("HTTP gateway and web console on ", r.finished)
	if !ok {
		t.Fatalf("no gateway line; stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	return r, line[strings.LastIndexByte(line, ' ')+1:]
}

// registerEcho serves an echo server in a Go daemon and registers it in
// the name server at nsURI as each of names.
func registerEcho(t *testing.T, nsURI pyro.URI, names ...string) {
	t.Helper()
	d, err := pyro.NewDaemon(nil, pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Register(&echoserver.EchoServer{}, echoserver.ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Serve(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Shutdown(ctx)
		<-done
	})
	p, err := pyro.NewProxyURI(nsURI, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for _, n := range names {
		if err := naming.NewClient(p).Register(ctx, n, u.String(), false, []string{"via:go"}); err != nil {
			t.Fatal(err)
		}
	}
}

// get fetches u with an optional gateway key and returns the status, the
// Content-Security-Policy and the body.
func get(t *testing.T, method, u, key, ctype, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-Pyro-Gateway-Key", key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c := &http.Client{Timeout: waitLimit, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestNSHTTP: "pyro ns --http ADDR" serves the gateway and the console for
// its own name server: the page, the console's API (exposed names only),
// Pyro4's URL scheme, and it all stops with the name server.
func TestNSHTTP(t *testing.T) {
	r, page := startNSHTTPCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0", "--http", "127.0.0.1:0")
	registerEcho(t, r.uri, "http.echo", "secret.echo")
	base := strings.TrimSuffix(page, "/pyro/")

	code, hdr, body := get(t, "GET", page, "", "", "")
	if code != 200 || !strings.Contains(body, "/console/console.js") || !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("GET %s: %d %q %.80q", page, code, hdr.Get("Content-Security-Policy"), body)
	}
	if code, hdr, _ := get(t, "GET", base+"/", "", "", ""); code != http.StatusFound || hdr.Get("Location") != "/pyro/" {
		t.Errorf("GET /: %d to %q", code, hdr.Get("Location"))
	}
	code, _, body = get(t, "GET", base+"/console/api/names", "", "", "")
	var names struct{ Names []struct{ Name string } }
	if err := json.Unmarshal([]byte(body), &names); code != 200 || err != nil || len(names.Names) != 1 || names.Names[0].Name != "http.echo" {
		t.Errorf("names: %d %s", code, body)
	}
	code, _, body = get(t, "POST", base+"/console/api/call", "", "application/json", `{"name":"http.echo","method":"echo","args":["[1, (2, 'x')]"]}`)
	// The gateway calls with the json serializer: the tuple comes back a list.
	if code != 200 || body != `{"ok":true,"result":[1,[2,"x"]],"repr":"[1, [2, 'x']]"}`+"\n" {
		t.Errorf("console call: %d %s", code, body)
	}
	if code, _, body := get(t, "GET", base+"/pyro/http.echo/echo?message=hi", "", "", ""); code != 200 || body != `"hi"` {
		t.Errorf("gateway call: %d %s", code, body)
	}
	if code, _, _ := get(t, "GET", base+"/pyro/secret.echo/echo?message=hi", "", "", ""); code != http.StatusForbidden {
		t.Errorf("a name outside the expose regex: %d", code)
	}
	if c := r.stop(t); c != 0 {
		t.Fatalf("exit %d: %s", c, r.stderr)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		c.Close()
		t.Error("the HTTP port is still open after the name server stopped")
	}
}

// TestNSHTTPDefaults: an empty host is localhost; the expose regex and the
// gateway key (PYRO_HTTPGATEWAY_KEY) apply to the console.
func TestNSHTTPDefaults(t *testing.T) {
	r, page := startNSHTTPCmd(t, cleanEnviron("PYRO_HTTPGATEWAY_KEY=k3y"), "-n", "127.0.0.1", "-p", "0", "--http", ":0", "--http-expose", `test\.`)
	u, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		t.Errorf("--http :0 bound %s, want a loopback address", u.Host)
	}
	registerEcho(t, r.uri, "http.echo", "test.echo")
	base := "http://" + u.Host
	if code, _, _ := get(t, "GET", base+"/console/api/names", "", "", ""); code != http.StatusForbidden {
		t.Errorf("names without the key: %d", code)
	}
	code, _, body := get(t, "GET", base+"/console/api/names", "k3y", "", "")
	if code != 200 || !strings.Contains(body, `"test.echo"`) || strings.Contains(body, `"http.echo"`) {
		t.Errorf("names with the key: %d %s", code, body)
	}
	if code, _, body := get(t, "GET", base+"/console/api/info", "k3y", "", ""); code != 200 || !strings.Contains(body, `"expose":"test\\."`) || !strings.Contains(body, r.uri.Location()) {
		t.Errorf("info: %d %s", code, body)
	}
}

func TestNSHTTPUsage(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "gw.key")
	if err := os.WriteFile(keyFile, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, c := range []struct {
		env  []string
		args []string
		code int
		msg  string
	}{
		{nil, []string{"--http", "8080"}, exitUsage, "want host:port"},
		{nil, []string{"--http-expose", "x"}, exitUsage, "go with --http"},
		{nil, []string{"--gateway-key-file", keyFile}, exitUsage, "go with --http"},
		{[]string{"PYRO_HTTPGATEWAY_KEY=k"}, []string{"--http", ":0", "--gateway-key-file", keyFile}, exitUsage, "at the same time"},
		{nil, []string{"--http", ":0", "--http-expose", "(unclosed"}, exitRemote, "expose regex"},
		{nil, []string{"--http", taken.Addr().String()}, exitRemote, "--http"},
	} {
		var stdout, stderr strings.Builder
		args := append([]string{"-n", "127.0.0.1", "-p", "0"}, c.args...)
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		code := nsMain(ctx, args, &stdout, &stderr, cleanEnviron(c.env...), nsOptions{})
		cancel()
		if code != c.code || !strings.Contains(stderr.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", c.args, code, stderr.String(), c.code, c.msg)
		}
	}
}
