package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway"
	"github.com/pyrogo/pyro/naming"
)

// nsHTTPFlags are "pyro ns"'s flags for serving the HTTP gateway and the
// web console beside the name server.
type nsHTTPFlags struct {
	addr, expose, keyFile    string
	allowHosts, allowOrigins listFlag
}

func (h *nsHTTPFlags) add(fs interface {
	StringVar(p *string, name, value, usage string)
	Var(v flag.Value, name, usage string)
}) {
	fs.Var(&h.allowHosts, "allow-host", "with --http: also accept this `name` in the Host header of requests on loopback (repeatable; DNS rebinding protection)")
	fs.Var(&h.allowOrigins, "allow-origin", "with --http: let pages of this web `origin` make browsers call objects (repeatable; \"*\": any)")
	fs.StringVar(&h.addr, "http", "", "also serve the HTTP gateway and the web console for this name server on `addr` (host:port; an empty host is localhost)")
	fs.StringVar(&h.expose, "http-expose", gateway.DefaultExpose, "with --http: the gateway's expose `regex` (Python re.match; \"\" exposes every name)")
	fs.StringVar(&h.keyFile, "gateway-key-file", "", "with --http: read the gateway api key from `file` (mode 0600; or PYRO_HTTPGATEWAY_KEY)")
}

// check completes and checks the flags: the address gets localhost for an
// empty host, and the gateway key comes from PYRO_HTTPGATEWAY_KEY or the
// key file (not both).
func (h *nsHTTPFlags) check(set map[string]bool, environ []string) (key []byte, err error) {
	if h.addr == "" {
		if set["http-expose"] || set["gateway-key-file"] || set["allow-host"] || set["allow-origin"] {
			return nil, errors.New("--http-expose, --gateway-key-file, --allow-host and --allow-origin go with --http")
		}
		return nil, nil
	}
	host, port, err := net.SplitHostPort(h.addr)
	if err != nil {
		return nil, fmt.Errorf("--http %q: want host:port or :port", h.addr)
	}
	if host == "" {
		host = "localhost"
	}
	h.addr = net.JoinHostPort(host, port)
	envKey, inEnv := getenv(environ, "PYRO_HTTPGATEWAY_KEY")
	switch {
	case inEnv && h.keyFile != "":
		return nil, errors.New("don't use --gateway-key-file and PYRO_HTTPGATEWAY_KEY at the same time")
	case inEnv:
		return []byte(envKey), nil
	case h.keyFile != "":
		return pyro.ReadKeyFile(h.keyFile)
	}
	return nil, nil
}

// nsHTTP is the HTTP gateway (and so the web console) that "pyro ns
// --http ADDR" serves for its own name server.
type nsHTTP struct {
	g    *gateway.Gateway
	srv  *http.Server
	url  string
	done chan error
}

// startNSHTTP listens on addr and serves a gateway for the name server
// ns, whose proxies use the name server's configuration (HMAC key, TLS
// settings) and the passphrase, if any.
func startNSHTTP(cfg *pyro.Config, ns *naming.Server, h nsHTTPFlags, key []byte, passphrases []string, logger *slog.Logger) (*nsHTTP, error) {
	var popts []pyro.ProxyOption
	if len(passphrases) > 0 {
		popts = append(popts, pyro.WithIdentification(passphrases[0]))
	}
	g, err := gateway.New(cfg, gateway.WithNameServer(ns.URI().String()), gateway.WithExpose(h.expose),
		gateway.WithGatewayKey(key), gateway.WithLogger(logger), gateway.WithProxyOptions(popts...),
		gateway.WithAllowedHosts(h.allowHosts...), gateway.WithAllowedOrigins(h.allowOrigins...))
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", h.addr)
	if err != nil {
		g.Close()
		return nil, fmt.Errorf("--http: %w", err)
	}
	s := &nsHTTP{g: g, srv: g.NewServer(l.Addr().String()), url: "http://" + l.Addr().String() + "/pyro/", done: make(chan error, 1)}
	go func() { s.done <- g.Serve(s.srv, l) }()
	return s, nil
}

// stop shuts the HTTP server down (requests in progress get until ctx
// ends), then closes the gateway's proxies.
func (s *nsHTTP) stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	s.g.Close()
	return err
}
