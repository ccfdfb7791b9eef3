package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Path is where Serve answers with the metrics.
const Path = "/metrics"

// Listen opens addr ("host:port") for Serve. The metrics tell much about
// a server (its objects, methods, clients' errors and refusals), so an
// address that is not loopback gets a warning in the registry's log:
// metrics are best scraped on localhost, or through a firewall that only
// lets the Prometheus server in.
func (r *Registry) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if !isLoopback(ln.Addr()) {
		r.log.Warn("metrics: the metrics endpoint is reachable from the network; it tells which objects, methods and errors the server has",
			"addr", ln.Addr().String())
	}
	return ln, nil
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// Serve answers GET /metrics on ln (404 elsewhere) until ctx ends, then
// closes it and waits at most 5 s for scrapes in progress; it returns nil
// then, or the error that stopped it before. Requests are bounded: 10 s
// for the headers, 30 s for the whole, 8 KiB of headers.
func (r *Registry) Serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, r.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()
	err := srv.Serve(ln)
	close(done)
	<-stopped
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ListenAndServe is Listen and Serve.
func (r *Registry) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := r.Listen(addr)
	if err != nil {
		return err
	}
	return r.Serve(ctx, ln)
}
