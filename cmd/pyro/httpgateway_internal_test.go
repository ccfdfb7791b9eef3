package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// gatewayRun is an in-process "pyro httpgateway".
type gatewayRun struct {
	url            string
	stdout, stderr *testkit.Buffer
	finished       chan struct{}
	code           int
	cancel         context.CancelFunc
}

func startGatewayCmd(t *testing.T, environ []string, args ...string) *gatewayRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &gatewayRun{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}, finished: make(chan struct{}), cancel: cancel}
	urls := make(chan string, 1)
	go func() {
		defer close(r.finished)
		r.code = httpgatewayMain(ctx, args, r.stdout, r.stderr, environ, func(u string) { urls <- u })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.finished:
		case <-time.After(waitLimit):
			t.Error("gateway did not stop")
		}
	})
	select {
	case r.url = <-urls:
	case <-r.finished:
		t.Fatalf("gateway exited with %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	case <-time.After(waitLimit):
		t.Fatalf("gateway did not start:\n%s\n%s", r.stdout, r.stderr)
	}
	return r
}

func httpGet(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{Timeout: waitLimit}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHTTPGatewayCommand: pyro httpgateway prints Pyro4's lines, finds
// the name server given with -n/--nsport, serves calls, requires the key
// of PYRO_HTTPGATEWAY_KEY, and stops cleanly on its context (a signal).
func TestHTTPGatewayCommand(t *testing.T) {
	ns, err := naming.Start(pyro.BuiltinConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0), naming.WithBroadcast(false))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ns.Shutdown(ctx)
	}()
	echo := startGoEcho(t)
	u, _ := pyro.ParseURI(echo)
	nsp, err := pyro.NewProxyURI(ns.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nsp.Close()
	if err := naming.NewClient(nsp).Register(context.Background(), "http.echo", u, false, nil); err != nil {
		t.Fatal(err)
	}
	loc := ns.URI().Location()
	nsPort := loc[strings.LastIndexByte(loc, ':')+1:]
	r := startGatewayCmd(t, cleanEnviron("PYRO_HTTPGATEWAY_KEY=k3y"), "-H", "127.0.0.1", "-p", "0", "-n", "127.0.0.1", "--nsport", nsPort)
	for _, want := range []string{"Exposing objects with names matching:  http\\.\n", "Connected to name server at:  " + ns.URI().String() + "\n",
		"Pyro HTTP gateway running on " + r.url + "/pyro/\n", "Requiring the gateway api key.\n"} {
		if !strings.Contains(r.stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if status, body := httpGet(t, r.url+"/pyro/http.echo/echo?message=cmd"); status != 403 || body != "403 Forbidden - incorrect gateway api key" {
		t.Errorf("without key: %d %q", status, body)
	}
	if status, body := httpGet(t, r.url+"/pyro/http.echo/echo?message=cmd", "X-Pyro-Gateway-Key", "k3y"); status != 200 || body != `"cmd"` {
		t.Errorf("with key: %d %q", status, body)
	}
	r.cancel()
	<-r.finished
	if r.code != 0 || !strings.Contains(r.stdout.String(), "Pyro HTTP gateway stopped.") {
		t.Errorf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestHTTPGatewayCommandUsage: keys on the command line warn, and two
// sources of one key are a usage error.
func TestHTTPGatewayCommandUsage(t *testing.T) {
	var out, errb strings.Builder
	code := httpgatewayMain(context.Background(), []string{"-g", "x"}, &out, &errb, cleanEnviron("PYRO_HTTPGATEWAY_KEY=y"), nil)
	if code != exitUsage || !strings.Contains(errb.String(), "security problem") || !strings.Contains(errb.String(), "at the same time") {
		t.Errorf("-g with PYRO_HTTPGATEWAY_KEY: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := httpgatewayMain(context.Background(), []string{"--tls-cert", "x"}, &out, &errb, cleanEnviron(), nil); code != exitUsage {
		t.Errorf("--tls-cert alone: exit %d", code)
	}
	if code := httpgatewayMain(context.Background(), []string{"-e", "(unclosed"}, &out, &errb, cleanEnviron(), nil); code != exitUsage {
		t.Errorf("bad regex: exit %d", code)
	}
}

// TestHTTPGatewayCommandBrowserAttacks: the command refuses a rebound
// Host name and cross-site browser calls by default, and --allow-host and
// --allow-origin let named ones through.
func TestHTTPGatewayCommandBrowserAttacks(t *testing.T) {
	ns, err := naming.Start(pyro.BuiltinConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0), naming.WithBroadcast(false))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ns.Shutdown(ctx)
	}()
	u, _ := pyro.ParseURI(startGoEcho(t))
	nsp, err := pyro.NewProxyURI(ns.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nsp.Close()
	if err := naming.NewClient(nsp).Register(context.Background(), "http.echo", u, false, nil); err != nil {
		t.Fatal(err)
	}
	loc := ns.URI().Location()
	nsPort := loc[strings.LastIndexByte(loc, ':')+1:]
	r := startGatewayCmd(t, cleanEnviron(), "-H", "127.0.0.1", "-p", "0", "-n", "127.0.0.1", "--nsport", nsPort,
		"--allow-host", "gw.example", "--allow-origin", "http://app.example")
	plain := startGatewayCmd(t, cleanEnviron(), "-H", "127.0.0.1", "-p", "0", "-n", "127.0.0.1", "--nsport", nsPort)
	get := func(base, host string, hdr ...string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/pyro/http.echo/echo?message=m", nil)
		if host != "" {
			req.Host = host
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := (&http.Client{Timeout: waitLimit}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		base, host string
		hdr        []string
		status     int
	}{
		{plain.url, "evil.example:8080", nil, 403},
		{plain.url, "gw.example", nil, 403},
		{r.url, "evil.example", nil, 403},
		{r.url, "gw.example", nil, 200},
		{plain.url, "", nil, 200},
		{plain.url, "", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{plain.url, "", []string{"Origin", "http://app.example"}, 403},
		{r.url, "", []string{"Origin", "http://app.example", "Sec-Fetch-Site", "cross-site"}, 200},
		{r.url, "", []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, 403},
	} {
		if status, body := get(c.base, c.host, c.hdr...); status != c.status {
			t.Errorf("%s Host %q %v: %d %q, want %d", c.base, c.host, c.hdr, status, body, c.status)
		}
	}
}
