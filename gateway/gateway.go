package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway/console"
	"github.com/pyrogo/pyro/internal/pyre"
	"github.com/pyrogo/pyro/naming"
)

var _ console.Backend = (*Gateway)(nil)

// Gateway is the HTTP/JSON gateway: an http.Handler (see the package
// documentation for the URL scheme) and the console's Backend. It is safe
// for concurrent use. Close releases its proxies.
type Gateway struct {
	cfg       *pyro.Config
	exposeSrc string
	expose    *pyre.Pattern // nil: every name
	key       []byte
	timeout   time.Duration
	nsURI     string
	nsOpts    []naming.LocateOption
	proxyOpts []pyro.ProxyOption
	log       *slog.Logger
	lim       Limits
	console   http.Handler
	started   time.Time
	sem       chan struct{} // one token per request being served

	nsMu sync.Mutex
	ns   *pyro.Proxy // the name server proxy, made on first use

	proxies proxyCache
	noReuse bool // a new proxy per request, as Pyro4's gateway (benchmarks)

	hosts     map[string]struct{} // Host names allowed on loopback besides IPs and localhost
	anyHost   bool
	origins   map[string]struct{} // origins allowed to make browsers call
	anyOrigin bool
	slots     daemonSlots
	target    func(pyro.URI) error // nil: any target

	requests, calls, errs, refused atomic.Uint64
}

// New makes a gateway with the configuration cfg (nil:
// pyro.DefaultConfig(), i.e. Pyro's defaults and the PYRO_* environment;
// its HMAC key, TLS settings and name server location are used for the
// Pyro side). It does not contact the name server: the first request
// does.
func New(cfg *pyro.Config, opts ...Option) (*Gateway, error) {
	if cfg == nil {
		var err error
		if cfg, err = pyro.DefaultConfig(); err != nil {
			return nil, err
		}
	} else {
		cfg = cfg.Clone()
	}
	s := settings{expose: DefaultExpose, timeout: DefaultTimeout}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	cfg.Metadata = true // the gateway needs every object's metadata
	lim := s.limits.resolved()
	if cfg.MaxMessageSize <= 0 || cfg.MaxMessageSize > lim.MaxReplyBytes {
		cfg.MaxMessageSize = lim.MaxReplyBytes
	}
	g := &Gateway{cfg: cfg, exposeSrc: s.expose, key: s.key, timeout: s.timeout, nsURI: s.nsURI,
		nsOpts: s.nsOpts, log: s.log, lim: lim, started: time.Now(), noReuse: s.noReuse}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if s.expose != "" {
		p, err := pyre.Compile(s.expose, pyre.Limits{})
		if err != nil {
			return nil, fmt.Errorf("gateway: expose regex %q: %w", s.expose, err)
		}
		g.expose = p
	}
	g.proxyOpts = append(slices.Clone(s.proxyOpts), pyro.WithSerializer("json"), pyro.WithTimeout(g.timeout),
		pyro.WithMaxConns(g.lim.ConnsPerProxy), pyro.WithLogger(g.log))
	if _, err := pyro.NewProxy("PYRO:x@localhost:1", g.cfg, g.proxyOpts...); err != nil {
		return nil, fmt.Errorf("gateway: proxy settings: %w", err)
	}
	g.sem = make(chan struct{}, g.lim.MaxConcurrent)
	g.hosts, g.anyHost = hostSet(s.hosts)
	g.origins, g.anyOrigin = originSet(s.origins)
	g.slots.init(g.lim.MaxPerDaemon)
	g.target = s.target
	g.proxies.init(g.lim.MaxProxies)
	g.console = console.New(g)
	return g, nil
}

// Expose returns the expose regex ("" = every name).
func (g *Gateway) Expose() string { return g.exposeSrc }

// Limits returns the gateway's limits (defaults filled in).
func (g *Gateway) Limits() Limits { return g.lim }

// HasKey reports whether requests must carry a gateway key.
func (g *Gateway) HasKey() bool { return len(g.key) > 0 }

// Close closes the gateway's proxies (connections to the name server
// and the daemons). Requests served after Close make new ones.
func (g *Gateway) Close() error {
	g.nsMu.Lock()
	ns := g.ns
	g.ns = nil
	g.nsMu.Unlock()
	if ns != nil {
		ns.Close()
	}
	g.proxies.closeAll()
	return nil
}

// exposed reports whether name may be reached: it matches the expose
// regex and is not a Pyro URI.
func (g *Gateway) exposed(name string) bool {
	if isURIName(name) {
		return false
	}
	return g.expose == nil || g.expose.MatchString(name)
}

// nameServer returns the name server proxy, locating it on first use.
func (g *Gateway) nameServer(ctx context.Context) (*pyro.Proxy, error) {
	g.nsMu.Lock()
	defer g.nsMu.Unlock()
	if g.ns != nil {
		return g.ns, nil
	}
	var ns *pyro.Proxy
	var err error
	if g.nsURI != "" {
		ns, err = pyro.NewProxy(g.nsURI, g.cfg, g.proxyOpts...)
	} else {
		opts := append([]naming.LocateOption{naming.WithConfig(g.cfg), naming.WithProxyOptions(g.proxyOpts...)}, g.nsOpts...)
		ns, err = naming.Locate(ctx, opts...)
	}
	if err != nil {
		return nil, err
	}
	g.ns = ns
	return ns, nil
}

// NameServerURI returns the name server's URI once it is known, else "".
func (g *Gateway) NameServerURI() string {
	g.nsMu.Lock()
	defer g.nsMu.Unlock()
	if g.ns != nil {
		return g.ns.URI().String()
	}
	return g.nsURI
}

// lookup resolves an exposed name to a proxy from the cache and takes a
// slot of its daemon (errDaemonBusy when it has none left); done releases
// both.
func (g *Gateway) lookup(ctx context.Context, name string) (cp *cachedProxy, done func(), err error) {
	ns, err := g.nameServer(ctx)
	if err != nil {
		return nil, nil, err
	}
	u, err := naming.NewClient(ns).Lookup(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if g.target != nil {
		if err := g.target(u); err != nil {
			return nil, nil, fmt.Errorf("gateway: %q resolves to %s, which the target check refuses: %w: %w", name, u.Location(), err, console.ErrForbidden)
		}
	}
	loc := u.Location()
	if err := g.slots.acquire(loc); err != nil {
		return nil, nil, err
	}
	mk := func() (*pyro.Proxy, error) { return pyro.NewProxyURI(u, g.cfg, g.proxyOpts...) }
	if g.noReuse {
		p, err := mk()
		if err != nil {
			g.slots.release(loc)
			return nil, nil, err
		}
		cp = &cachedProxy{p: p, refs: 1, evicted: true}
	} else if cp, err = g.proxies.get(u, mk); err != nil {
		g.slots.release(loc)
		return nil, nil, err
	}
	return cp, func() { g.proxies.put(cp); g.slots.release(loc) }, nil
}

// checkName refuses names the gateway does not expose with an error
// matching console.ErrForbidden.
func (g *Gateway) checkName(name string) error {
	if len(name) > maxNameLen || !g.exposed(name) {
		return fmt.Errorf("gateway: access to %q has been denied: %w", name, console.ErrForbidden)
	}
	return nil
}

// Names lists the exposed registrations with their metadata, sorted by
// name (console.Backend).
func (g *Gateway) Names(ctx context.Context) ([]console.Name, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	ns, err := g.nameServer(ctx)
	if err != nil {
		return nil, err
	}
	regs, err := naming.NewClient(ns).List(ctx, naming.Filter{})
	if err != nil {
		return nil, err
	}
	out := []console.Name{}
	for _, r := range regs {
		if g.exposed(r.Name) {
			out = append(out, console.Name{Name: r.Name, URI: r.URI, Metadata: r.Metadata})
		}
	}
	slices.SortFunc(out, func(a, b console.Name) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Describe returns the metadata of the exposed object registered as
// name (console.Backend).
func (g *Gateway) Describe(ctx context.Context, name string) (console.Description, error) {
	if err := g.checkName(name); err != nil {
		g.refused.Add(1)
		return console.Description{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	cp, done, err := g.lookup(ctx, name)
	if err != nil {
		return console.Description{}, notFound(err)
	}
	defer done()
	methods, oneway, attrs, err := cp.p.Metadata(ctx)
	if err != nil {
		return console.Description{}, err
	}
	return console.Description{Methods: sorted(methods), Oneway: sorted(oneway), Attributes: sorted(attrs)}, nil
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	if s == nil {
		s = []string{}
	}
	slices.Sort(s)
	return s
}

// notFound marks an unknown-name NamingError as console.ErrNotFound.
func notFound(err error) error {
	var re *pyro.RemoteError
	if errors.As(err, &re) && errors.Is(err, pyro.ErrNaming) {
		return fmt.Errorf("%w: %w", console.ErrNotFound, err)
	}
	return err
}

// Call calls method on the exposed object registered as name
// (console.Backend). The method rules of HTTP requests apply: no private,
// dunder or dotted names.
func (g *Gateway) Call(ctx context.Context, name, method string, args []any, kwargs map[string]any) (any, error) {
	if err := g.checkName(name); err != nil {
		g.refused.Add(1)
		return nil, err
	}
	if !allowedMethod(method) || method == metaMethod {
		g.refused.Add(1)
		return nil, fmt.Errorf("gateway: access to method %q has been denied: %w", method, console.ErrForbidden)
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	cp, done, err := g.lookup(ctx, name)
	if err != nil {
		return nil, notFound(err)
	}
	defer done()
	g.calls.Add(1)
	v, err := cp.p.CallKw(ctx, method, args, kwargs)
	if err != nil {
		g.errs.Add(1)
	}
	return v, err
}

// Authorize checks the gateway key of a console request (header
// X-Pyro-Gateway-Key) (console.Backend).
func (g *Gateway) Authorize(r *http.Request) error {
	if !g.keyOK(r.Header.Get(headerKey)) {
		g.refused.Add(1)
		return fmt.Errorf("gateway: incorrect gateway api key: %w", console.ErrForbidden)
	}
	return nil
}

// Info describes the gateway and its counters (console.Backend).
func (g *Gateway) Info() console.Info {
	return console.Info{NameServer: g.NameServerURI(), Expose: g.exposeSrc, Started: g.started,
		Requests: g.requests.Load(), Calls: g.calls.Load(), Errors: g.errs.Load(), Refused: g.refused.Load()}
}

// Ping locates the name server (if not done yet) and pings it.
func (g *Gateway) Ping(ctx context.Context) error {
	ns, err := g.nameServer(ctx)
	if err != nil {
		return err
	}
	return naming.NewClient(ns).Ping(ctx)
}
