package naming

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	"github.com/pyrogo/pyro"
)

// ServerOption configures Start.
type ServerOption interface {
	applyServer(*serverConfig)
}

// serverConfig is what the ServerOptions set.
type serverConfig struct {
	host              string
	hostSet           bool
	port              int
	portSet           bool
	unixSocket        string
	storage           Storage
	noBroadcast       bool
	bcHost            string
	bcHostSet         bool
	bcPort            int
	bcPortSet         bool
	logger            *slog.Logger
	autoclean         *AutocleanTiming
	daemonOpts        []pyro.DaemonOption
	policy            *Policy
	regexBudget       int64
	observer          Observer // observer.go
	loopbackBroadcast bool     // tests: start the responder on loopback binds too
}

// serverOption is a ServerOption.
type serverOption func(*serverConfig)

func (o serverOption) applyServer(c *serverConfig) { o(c) }

// WithHost binds the name server to host (default: the config's HOST).
// "" and "0.0.0.0" bind every IPv4 interface, as pyro4-ns -n does: the
// URI then carries 0.0.0.0, and the broadcast responder answers with the
// address of the interface that reaches each requester.
func WithHost(host string) ServerOption {
	return serverOption(func(o *serverConfig) { o.host, o.hostSet = host, true })
}

// WithPort binds the name server to port (default: the config's NS_PORT,
// 9090; 0 = any free port).
func WithPort(port int) ServerOption {
	return serverOption(func(o *serverConfig) { o.port, o.portSet = port, true })
}

// WithUnixSocket binds the name server to a unix domain socket instead
// of TCP (no broadcast responder then).
func WithUnixSocket(path string) ServerOption {
	return serverOption(func(o *serverConfig) { o.unixSocket = path })
}

// WithStorage sets the registrations' storage (default: a new
// MemoryStorage). The server closes it when it shuts down.
func WithStorage(s Storage) ServerOption {
	return serverOption(func(o *serverConfig) { o.storage = s })
}

// WithBroadcast turns the broadcast responder off (false) or on (true,
// the default). Even when on, it is not started for a unix socket, an
// IPv6 address or a loopback address, as in pyro4-ns.
func WithBroadcast(enabled bool) ServerOption {
	return serverOption(func(o *serverConfig) { o.noBroadcast = !enabled })
}

// WithBroadcastHost binds the responder to host (default: the config's
// NS_BCHOST, "" = all interfaces).
func WithBroadcastHost(host string) ServerOption {
	return serverOption(func(o *serverConfig) { o.bcHost, o.bcHostSet = host, true })
}

// WithBroadcastPort binds the responder to port (default: the config's
// NS_BCPORT, 9091; 0 = any).
func WithBroadcastPort(port int) ServerOption {
	return serverOption(func(o *serverConfig) { o.bcPort, o.bcPortSet = port, true })
}

// WithLogger sets the logger of the name server, its daemon, responder
// and auto-clean (default: discard).
func WithLogger(l *slog.Logger) ServerOption {
	return serverOption(func(o *serverConfig) { o.logger = l })
}

// WithAutoclean sets the auto-clean timings, overriding the config's
// NS_AUTOCLEAN and its 3 s minimum (meant for tests).
func WithAutoclean(t AutocleanTiming) ServerOption {
	return serverOption(func(o *serverConfig) { o.autoclean = &t })
}

// WithDaemonOptions passes options to the name server's daemon (TLS,
// HMAC key, passphrases, handshake validation, ...).
func WithDaemonOptions(opts ...pyro.DaemonOption) ServerOption {
	return serverOption(func(o *serverConfig) { o.daemonOpts = append(o.daemonOpts, opts...) })
}

// Server is a running name server: a daemon holding the NameServer object
// under "Pyro.NameServer", plus the broadcast responder and auto-clean
// when they apply. Its goroutines run from Start until Shutdown or Close.
type Server struct {
	ns        *NameServer
	daemon    *pyro.Daemon
	store     Storage
	uri       pyro.URI
	internal  pyro.URI
	responder *Responder
	noBcWhy   string
	log       *slog.Logger

	stopClean context.CancelFunc
	wg        sync.WaitGroup
	served    chan struct{}
	serveErr  error
	closeOnce sync.Once
}

// Start creates a name server as pyro4-ns does and starts serving (cfg
// nil means pyro.BuiltinConfig()): it binds the daemon (the config's
// HOST and NS_PORT unless options say otherwise), registers the
// NameServer object, registers its own URI under "Pyro.NameServer" with
// the metadata {"class:Pyro4.naming.NameServer",
// "class:Pyro5.nameserver.NameServer"} (each caller sees its protocol's
// tag; this replaces an entry a persistent storage kept from a previous
// run; on a Shared storage the registration stays in this name server
// and is never written to the storage, see Shared), installs Pyro5Interceptor (innermost), starts the broadcast
// responder unless the bind address is loopback, IPv6 or a unix socket,
// and starts auto-clean if NS_AUTOCLEAN is set (it must then be ≥ 3 s).
// The HMAC key is the config's (or WithDaemonOptions(pyro.WithHMACKey(...))).
// The server keeps a copy of cfg.
func Start(cfg *pyro.Config, opts ...ServerOption) (*Server, error) {
	if cfg == nil {
		cfg = pyro.BuiltinConfig()
	} else {
		cfg = cfg.Clone()
	}
	var o serverConfig
	for _, opt := range opts {
		if opt != nil {
			opt.applyServer(&o)
		}
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var timing AutocleanTiming
	if o.autoclean != nil {
		timing = *o.autoclean
	} else if cfg.NSAutoclean > 0 {
		if cfg.NSAutoclean < minAutoclean {
			return nil, fmt.Errorf("NS_AUTOCLEAN cannot be smaller than %d", int(minAutoclean.Seconds()))
		}
		timing.Period = cfg.NSAutoclean
	}
	store := o.storage
	if store == nil {
		store = NewMemoryStorage()
	}
	s := &Server{store: store, log: logger, served: make(chan struct{})}
	s.ns = NewNameServer(store, logger)
	s.ns.regex = newRegexGate(o.regexBudget)

	port := cfg.NSPort
	if o.portSet {
		port = o.port
	}
	dopts := []pyro.DaemonOption{pyro.WithPort(port), pyro.WithLogger(logger)}
	if o.hostSet {
		dopts = append(dopts, pyro.WithHost(o.host))
	}
	if o.unixSocket != "" {
		dopts = append(dopts, pyro.WithUnixSocket(o.unixSocket))
	}
	if o.observer != nil { // outermost: it sees the policy's refusals
		dopts = append(dopts, pyro.WithInterceptors(observerInterceptor{o.observer}))
	}
	if o.policy != nil {
		dopts = append(dopts, pyro.WithConnValidators(o.policy), pyro.WithInterceptors(o.policy.Interceptor(logger)))
	}

	dopts = append(dopts, o.daemonOpts...)
	// innermost, after the policy's: refusals come first
	dopts = append(dopts, pyro.WithInterceptors(Pyro5Interceptor()))
	d, err := pyro.NewDaemon(cfg, dopts...)
	if err != nil {
		return nil, err
	}
	s.daemon = d
	fail := func(err error) (*Server, error) {
		d.Close()
		return nil, err
	}
	if _, err := d.Register(s.ns, ObjectID); err != nil {
		return fail(err)
	}
	s.uri = d.URIFor(ObjectID)
	bindHost := cfg.Host
	if o.hostSet {
		bindHost = o.host
	}
	s.internal = internalURI(d, s.uri, bindHost)
	own := []string{ClassMetadata, ClassMetadata5}
	if sh, ok := store.(Shared); ok {
		// Other name servers share the storage: the own registration
		// stays in this one (see Shared).
		s.ns.store = newOwnEntry(sh, Entry{Name: ObjectID, URI: s.uri.String(), Metadata: own})
	} else if err := s.ns.register(ObjectID, s.uri.String(), own); err != nil {
		return fail(storeErr(err))
	}

	// broadcast responder, by pyro4-ns's rules
	tcp, isTCP := d.Addr().(*net.TCPAddr)
	switch {
	case !isTCP:
		s.noBcWhy = "unix socket"
	case tcp.IP.To4() == nil:
		s.noBcWhy = "IPv6"
	case tcp.IP.IsLoopback() && !o.loopbackBroadcast:
		s.noBcWhy = "localhost"
	case o.noBroadcast:
		s.noBcWhy = "disabled"
	default:
		bcHost, bcPort := cfg.NSBcHost, cfg.NSBcPort
		if o.bcHostSet {
			bcHost = o.bcHost
		}
		if o.bcPortSet {
			bcPort = o.bcPort
		}
		r, err := StartResponder(bcHost, bcPort, s.internal, cfg.SockReuse, logger)
		if err != nil {
			return fail(err)
		}
		r.SetPolicy(o.policy)
		s.responder = r
	}

	if timing.Period > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopClean = cancel
		c := newCleaner(s.ns, timing, cfg, logger)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.run(ctx)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.served)
		if err := d.Serve(context.Background()); err != nil && !errors.Is(err, pyro.ErrDaemonClosed) {
			s.serveErr = err
			logger.Error("naming: name server stopped serving", "err", err)
		}
	}()
	logger.Info("naming: name server running", "uri", s.uri.String())
	return s, nil
}

// internalURI is the name server's URI without NAT: the daemon's own
// location, as Pyro4's daemon.uriFor(nat=False) gives it (the host name
// it was bound with, or the bound address, 0.0.0.0 included).
func internalURI(d *pyro.Daemon, external pyro.URI, bindHost string) pyro.URI {
	if d.Config().NATHost == "" {
		return external
	}
	u := external
	if a, ok := d.Addr().(*net.TCPAddr); ok {
		u.Host, u.Port = a.IP.String(), a.Port
		if bindHost != "" && net.ParseIP(bindHost) == nil {
			u.Host = bindHost
		}
	}
	return u
}

// URI returns the name server's URI (with the NAT host and port when the
// config has them) — what pyro4-ns prints as "URI = ...".
func (s *Server) URI() pyro.URI { return s.uri }

// InternalURI returns the URI without NAT translation (the one broadcast
// discovery answers with).
func (s *Server) InternalURI() pyro.URI { return s.internal }

// NATActive reports whether URI and InternalURI differ (NAT configured).
func (s *Server) NATActive() bool { return !s.uri.Equal(s.internal) }

// Addr returns the address the name server's daemon listens on.
func (s *Server) Addr() net.Addr { return s.daemon.Addr() }

// Daemon returns the name server's daemon; other objects may be
// registered in it.
func (s *Server) Daemon() *pyro.Daemon { return s.daemon }

// NameServer returns the name server object.
func (s *Server) NameServer() *NameServer { return s.ns }

// Responder returns the broadcast responder, or nil when none runs.
func (s *Server) Responder() *Responder { return s.responder }

// NoBroadcastReason says why no broadcast responder runs: "localhost",
// "IPv6", "unix socket" or "disabled"; "" when one runs.
func (s *Server) NoBroadcastReason() string { return s.noBcWhy }

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

// Shutdown stops the responder and auto-clean, shuts the daemon down
// gracefully (calls in progress finish until ctx expires), waits for
// every goroutine and closes the storage.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.stop(func() error { return s.daemon.Shutdown(ctx) })
}

// Close stops everything at once and closes the storage.
func (s *Server) Close() error {
	return s.stop(s.daemon.Close)
}

func (s *Server) stop(stopDaemon func() error) error {
	var err error
	s.closeOnce.Do(func() {
		if s.responder != nil {
			s.responder.Close()
		}
		if s.stopClean != nil {
			s.stopClean()
		}
		err = stopDaemon()
		s.wg.Wait()
		if cerr := s.store.Close(); cerr != nil && err == nil {
			err = cerr
		}
		s.log.Info("naming: name server stopped")
	})
	return err
}

// BindDescription returns the host part pyro4-ns prints in "NS running
// on HOST:PORT (IP)": the bound IP address, or "Unix domain socket".
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
