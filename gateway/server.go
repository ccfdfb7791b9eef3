package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// NewServer returns an http.Server for the gateway with its limits:
// header bytes (MaxHeaderBytes), ReadHeaderTimeout (slow clients),
// ReadTimeout (the body), a WriteTimeout that leaves the Pyro call its
// whole Timeout, and IdleTimeout. Serve it with Serve (which also bounds
// the connections), or with its own methods.
func (g *Gateway) NewServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           g,
		MaxHeaderBytes:    g.lim.MaxHeaderBytes,
		ReadHeaderTimeout: g.lim.ReadHeaderTimeout,
		ReadTimeout:       g.lim.ReadTimeout,
		WriteTimeout:      g.lim.ReadTimeout + g.timeout + 10*time.Second,
		IdleTimeout:       g.lim.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
}

// Serve serves srv (from NewServer) on l, holding at most MaxConns
// connections: when it is full, it closes the oldest connection that has
// not started a request (new or idle between requests) to make room, and
// answers 503 and closes the new connection when every one is busy. It
// returns as srv.Serve does.
//
// With srv.TLSConfig set (certificates included), it serves HTTPS
// (HTTP/1.1). A gateway reachable from other hosts (not bound to a
// loopback address) without a gateway key logs a warning.
func (g *Gateway) Serve(srv *http.Server, l net.Listener) error {
	if a, ok := l.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() && len(g.key) == 0 {
		g.log.Warn("gateway: reachable from the network without a gateway key: anyone who can connect may call the exposed objects",
			"addr", a.String(), "expose", g.exposeSrc)
	}
	cl := &connLimiter{Listener: l, max: g.lim.MaxConns, conns: make(map[net.Conn]*connEntry), g: g,
		refusing: make(chan struct{}, 64)}
	if srv.TLSConfig != nil {
		cl.tls = srv.TLSConfig.Clone()
		cl.tls.NextProtos = []string{"http/1.1"}
	}
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		cl.state(c, s)
		if prev != nil {
			prev(c, s)
		}
	}
	return srv.Serve(cl)
}

// ListenAndServe listens on addr and serves the gateway with its limits
// until ctx ends, then shuts the server down gracefully within grace.
func (g *Gateway) ListenAndServe(ctx context.Context, addr string, grace time.Duration) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := g.NewServer(addr)
	done := make(chan error, 1)
	go func() { done <- g.Serve(srv, l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
	}
	<-done
	return err
}

type connEntry struct {
	raw   net.Conn // the TCP connection (under TLS)
	state http.ConnState
	since uint64 // order of the last state change
}

// connLimiter is a listener that bounds the open connections.
type connLimiter struct {
	net.Listener
	max   int
	g     *Gateway
	mu    sync.Mutex
	clock uint64
	conns map[net.Conn]*connEntry
	// refusing bounds the goroutines writing 503 to refused connections
	refusing chan struct{}
	tls      *tls.Config // nil: plain HTTP
}

// busyReply is the answer to a connection that finds every slot busy.
const busyReply = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n" +
	"Connection: close\r\nContent-Length: 46\r\n\r\n503 Service Unavailable - too many connections"

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		var victim net.Conn // closed raw, so that no TLS alert is written here
		if len(l.conns) >= l.max {
			var oldest *connEntry
			var key net.Conn
			for vc, e := range l.conns {
				if (e.state == http.StateNew || e.state == http.StateIdle) && (oldest == nil || e.since < oldest.since) {
					key, oldest = vc, e
				}
			}
			if oldest != nil {
				delete(l.conns, key)
				victim = oldest.raw
			}
		}
		full := len(l.conns) >= l.max
		served := c
		if !full {
			if l.tls != nil {
				served = tls.Server(c, l.tls)
			}
			l.clock++
			l.conns[served] = &connEntry{raw: c, state: http.StateNew, since: l.clock}
		}
		l.mu.Unlock()
		if victim != nil {
			victim.Close()
		}
		if full {
			l.g.refused.Add(1)
			select {
			case l.refusing <- struct{}{}: // at most cap(refusing) refusals being written
				go func() {
					refuseConn(c) // never wait on a client in the accept loop
					<-l.refusing
				}()
			default:
				c.Close()
			}
			continue
		}
		return served, nil
	}
}

// refuseConn writes the 503 answer with a short deadline and closes c.
func refuseConn(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte(busyReply))
	c.Close()
}

func (l *connLimiter) state(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	default:
		if e := l.conns[c]; e != nil {
			l.clock++
			e.state, e.since = s, l.clock
		}
	}
}
