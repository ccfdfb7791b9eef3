package gateway

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
)

// BenchmarkGateway measures requests per second for one small call
// (GET /pyro/http.gothing/echo?message=hello, answered by a Go daemon)
// through Pyro4's own gateway and through the Go gateway (reusing
// proxies, and with a new proxy per request as Pyro4 does), beside plain
// net/http answering a constant (the HTTP baseline), in the same run.
// One client, sequential requests, keep-alive where the server allows
// it.
//
//	go test -run '^$' -bench BenchmarkGateway -benchtime 2000x ./gateway
func BenchmarkGateway(b *testing.B) {
	ns := startNS(b)
	startGoDaemon(b, ns, "http.gothing")
	const path = "/pyro/http.gothing/echo?message=hello"
	run := func(b *testing.B, url string) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || len(body) == 0 {
				b.Fatalf("%d %q", resp.StatusCode, body)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("nethttp-baseline", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentJSON)
			io.WriteString(w, `"hello"`)
		})}
		go srv.Serve(l)
		defer srv.Close()
		run(b, "http://"+l.Addr().String()+path)
	})
	b.Run("go-gateway", func(b *testing.B) {
		_, base := startGateway(b, ns)
		run(b, base+path)
	})
	b.Run("go-gateway-new-proxy-per-request", func(b *testing.B) {
		_, base := startGateway(b, ns, func(s *settings) { s.noReuse = true })
		run(b, base+path)
	})
	b.Run("pyro4-gateway", func(b *testing.B) {
		pytest.Python(b)
		base := startPyGateway(b, ns)
		run(b, base+path)
	})
}
