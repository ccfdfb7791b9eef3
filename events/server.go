package events

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"

	"github.com/pyrogo/pyro"
)

// ServerOption configures Start. Every Option of NewService is a
// ServerOption too (it configures the Service that Start creates), so
// events.Start(cfg, events.WithStore(st), events.WithLogger(l)) works;
// WithServiceOptions passes a slice of them.
type ServerOption interface {
	applyServer(*serverConfig)
}

// applyServer makes an Option a ServerOption for the server's Service.
func (o Option) applyServer(c *serverConfig) { c.svcOpts = append(c.svcOpts, o) }

// serverConfig is what the ServerOptions set.
type serverConfig struct {
	host       string
	hostSet    bool
	port       int
	unixSocket string
	daemonOpts []pyro.DaemonOption
	svcOpts    []Option
}

// serverOption is a ServerOption.
type serverOption func(*serverConfig)

func (o serverOption) applyServer(c *serverConfig) { o(c) }

// WithServerHost binds the event server to host (default: the config's
// HOST; "" or "0.0.0.0" bind every IPv4 interface).
func WithServerHost(host string) ServerOption {
	return serverOption(func(c *serverConfig) { c.host, c.hostSet = host, true })
}

// WithServerPort binds the event server to port (default 0, a free port:
// Pyro3's event server had no port of its own, and clients find it
// through the name server).
func WithServerPort(port int) ServerOption {
	return serverOption(func(c *serverConfig) { c.port = port })
}

// WithServerUnixSocket binds the event server to a unix domain socket
// instead of TCP.
func WithServerUnixSocket(path string) ServerOption {
	return serverOption(func(c *serverConfig) { c.unixSocket = path })
}

// WithServerDaemonOptions passes options to the event server's daemon
// (HMAC key, TLS, pyro.WithAllowedIdentifications for passphrases,
// connection validators, interceptors, ...).
func WithServerDaemonOptions(opts ...pyro.DaemonOption) ServerOption {
	return serverOption(func(c *serverConfig) { c.daemonOpts = append(c.daemonOpts, opts...) })
}

// WithServiceOptions passes options to the Service that Start creates
// (the same as passing each Option to Start).
func WithServiceOptions(opts ...Option) ServerOption {
	return serverOption(func(c *serverConfig) {
		for _, o := range opts {
			if o != nil {
				c.svcOpts = append(c.svcOpts, o)
			}
		}
	})
}

// Server is a running event server: a daemon holding a Service under
// ObjectID. Its goroutines run from Start until Shutdown or Close.
type Server struct {
	svc    *Service
	daemon *pyro.Daemon
	uri    pyro.URI
	log    *slog.Logger

	wg        sync.WaitGroup
	served    chan struct{}
	serveErr  error
	closeOnce sync.Once
	closeErr  error
}

// Start creates an event server, as `pyro es` runs it (cfg nil means
// pyro.BuiltinConfig(); the server keeps a copy): a Service made with
// cfg and the Options given, registered under ObjectID in a new daemon
// bound to the config's HOST and a free port unless WithServerHost,
// WithServerPort or WithServerUnixSocket say otherwise. The daemon runs
// every check that cfg and the options give: the HMAC key, TLS and
// mutual TLS (SSL_* items), MAXCONNECTIONS, passphrases
// (pyro.WithAllowedIdentifications) and connection validators
// (WithServerDaemonOptions). When the Service has a Policy (WithPolicy),
// its daemon options (connection validator and interceptor) come before
// the caller's daemon options. The Service delivers with cfg's HMAC key,
// TLS and protocol settings.
//
// Start owns the Service's store (WithStore) from the call on: it is
// closed when the server stops, and also when Start fails.
//
// Start does not register the server in a name server; do that with
// naming.RegisterAll(ctx, ns, s.Daemon(), map[string]string{ObjectID:
// ObjectID}), as `pyro es` does.
func Start(cfg *pyro.Config, opts ...ServerOption) (*Server, error) {
	if cfg == nil {
		cfg = pyro.BuiltinConfig()
	} else {
		cfg = cfg.Clone()
	}
	var c serverConfig
	for _, opt := range opts {
		if opt != nil {
			opt.applyServer(&c)
		}
	}
	svc := NewService(cfg, c.svcOpts...)
	if err := svc.Err(); err != nil {
		return nil, errors.Join(err, svc.Close())
	}
	logger := svc.o.log
	s := &Server{svc: svc, log: logger, served: make(chan struct{})}

	dopts := []pyro.DaemonOption{pyro.WithPort(c.port), pyro.WithLogger(logger)}
	if c.hostSet {
		dopts = append(dopts, pyro.WithHost(c.host))
	}
	if c.unixSocket != "" {
		dopts = append(dopts, pyro.WithUnixSocket(c.unixSocket))
	}
	if p := svc.Policy(); p != nil {
		// before the caller's: refusals come first
		dopts = append(dopts, p.DaemonOptions(logger)...)
	}
	dopts = append(dopts, c.daemonOpts...)
	d, err := pyro.NewDaemon(cfg, dopts...)
	if err != nil {
		return nil, errors.Join(err, svc.Close())
	}
	s.daemon = d
	if s.uri, err = d.Register(svc, ObjectID); err != nil {
		return nil, errors.Join(err, d.Close(), svc.Close())
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.served)
		if err := d.Serve(context.Background()); err != nil && !errors.Is(err, pyro.ErrDaemonClosed) {
			s.serveErr = err
			logger.Error("events: event server stopped serving", "err", err)
		}
	}()
	logger.Info("events: event server running", "uri", s.uri.String())
	return s, nil
}

// URI returns the event server's URI, PYRO:Pyro.EventService@host:port
// (with the NAT host and port when the config has them).
func (s *Server) URI() pyro.URI { return s.uri }

// Addr returns the address the event server's daemon listens on.
func (s *Server) Addr() net.Addr { return s.daemon.Addr() }

// Daemon returns the event server's daemon; other objects may be
// registered in it.
func (s *Server) Daemon() *pyro.Daemon { return s.daemon }

// Service returns the event service object.
func (s *Server) Service() *Service { return s.svc }

// Done is closed when the daemon stopped serving (after Shutdown or
// Close, or when its listener failed; see Err).
func (s *Server) Done() <-chan struct{} { return s.served }

// Err returns why serving stopped on its own (nil after a shutdown).
func (s *Server) Err() error {
	select {
	case <-s.served:
		return s.serveErr
	default:
		return nil
	}
}

// Shutdown stops the daemon gracefully (it accepts no more connections;
// calls in progress finish until ctx ends), then lets the Service deliver
// what is queued until ctx ends, stops its subscribers and closes its
// store. An error wraps ctx.Err() when the deadline cut something off.
// Shutdown and Close after the first do nothing and return its result.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.stop(func() error { return s.daemon.Shutdown(ctx) }, func() error { return s.svc.Shutdown(ctx) })
}

// Close stops everything at once: the daemon, then the Service (queued
// events are discarded), then the store.
func (s *Server) Close() error {
	return s.stop(s.daemon.Close, s.svc.Close)
}

func (s *Server) stop(stopDaemon, stopService func() error) error {
	s.closeOnce.Do(func() {
		err := stopDaemon()
		if errors.Is(err, pyro.ErrDaemonClosed) {
			err = nil
		}
		s.wg.Wait()
		s.closeErr = errors.Join(err, stopService())
		s.log.Info("events: event server stopped")
	})
	return s.closeErr
}

// BindDescription returns the bound IP address, or "Unix domain socket"
// (what `pyro es` prints in "ES running on HOST:PORT (IP)").
func (s *Server) BindDescription() string {
	switch a := s.daemon.Addr().(type) {
	case *net.TCPAddr:
		return a.IP.String()
	case *net.UnixAddr:
		return "Unix domain socket"
	default:
		h, _, _ := strings.Cut(a.String(), ":")
		return h
	}
}
