package naming

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/defaultresolver"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

// Importing this package installs DefaultResolver() as pyro's default
// resolver (pyro.DefaultResolver), which enables PYRONAME: and PYROMETA:
// proxies without a resolver of their own. Nothing can replace it
// afterwards; proxies that need other settings for the name server take
// pyro.WithResolver(NewResolver(...)).
func init() { defaultresolver.Install(defaultResolver) }

// defaultResolver is the resolver of proxies without one of their own.
var defaultResolver = NewResolver()

// DefaultResolver returns the resolver that importing this package
// installed as pyro's default: it caches answers for DefaultResolveTTL and
// reaches name servers with the resolving proxy's configuration and
// security settings. Its settings cannot be changed.
func DefaultResolver() *Resolver { return defaultResolver }

// DefaultResolveTTL is how long a Resolver remembers an answer unless
// WithResolveTTL says otherwise.
const DefaultResolveTTL = 5 * time.Second

// maxCacheEntries bounds a resolver's cache.
const maxCacheEntries = 1024

// Resolver resolves PYRONAME: and PYROMETA: URIs through name servers,
// with a cache of its own; it implements pyro.Resolver and
// pyro.ResolveForgetter. Give it to proxies with pyro.WithResolver.
// Its methods are safe for concurrent use.
//
// To reach a name server it uses the configuration of the proxy whose URI
// it resolves (or WithConfig's) and that proxy's HMAC key, TLS
// configuration and passphrase identification, then its own
// WithProxyOptions, which win over those: a name server that requires a
// passphrase the target daemon does not know is reached with
// WithProxyOptions(pyro.WithIdentification(nsPassphrase)) on the
// resolver, and a proxy whose target requires a passphrase that the name
// server does not know uses a resolver with
// WithProxyOptions(pyro.WithIdentification("")).
type Resolver struct {
	lc  locateConfig // cfg nil: the resolving proxy's
	ttl time.Duration

	mu       sync.Mutex
	entries  map[string]*cacheEntry
	inflight map[string]*flight
}

// NewResolver returns a resolver with an empty cache.
func NewResolver(opts ...ResolverOption) *Resolver {
	rc := resolverConfig{ttl: DefaultResolveTTL}
	for _, o := range opts {
		if o != nil {
			o.applyResolver(&rc)
		}
	}
	rc.host, rc.port = "", 0 // the URI says where the name server is
	return &Resolver{lc: rc.locateConfig, ttl: rc.ttl}
}

var (
	_ pyro.Resolver         = (*Resolver)(nil)
	_ pyro.ResolveForgetter = (*Resolver)(nil)
)

// cacheEntry is the answer for one PYRONAME/PYROMETA URI: one target, or
// the candidates of a PYROMETA query.
type cacheEntry struct {
	targets []pyro.URI
	expires time.Time
}

// flight is a resolution in progress that others may wait for.
type flight struct {
	done    chan struct{}
	targets []pyro.URI
	err     error
}

// Flush forgets every cached answer.
func (r *Resolver) Flush() {
	r.mu.Lock()
	r.entries = nil
	r.mu.Unlock()
}

// cacheKey identifies a URI resolved with a config, key and passphrase
// identification (its tag), so that clients with different identities
// never share an answer.
func cacheKey(u pyro.URI, cfg *pyro.Config, key []byte, ident string) string {
	var b strings.Builder
	b.WriteString(u.String())
	b.WriteByte(0)
	b.Write(key)
	b.WriteByte(0)
	b.WriteString(ident)
	b.WriteByte(0)
	if u.Host == "" && u.Sockname == "" {
		b.WriteString(cfg.NSHost + ":" + strconv.Itoa(cfg.NSPort) + ":" + strconv.Itoa(cfg.NSBcPort) + ":" + strings.Join(cfg.BroadcastAddrs, ","))
	}
	return b.String()
}

// Resolve turns a PYRONAME: or PYROMETA: URI into the PYRO: URI of an
// object (a PYRO: URI is returned as is), the way Pyro4's resolve does:
// it locates the name server at the URI's location (or by Locate's
// search), then PYRONAME calls lookup(name), and PYROMETA calls
// list(metadata_all=tags) (over Pyro5's protocol, as Pyro5's resolve
// does, yplookup(meta_all=tags, return_metadata=False), since Pyro5's
// list has no metadata filters) and picks one of the registrations at random
// (none is NamingError "no registrations available with desired metadata
// properties {...}"). p, the proxy whose URI it is, supplies the
// configuration (unless WithConfig gave one), HMAC key, TLS settings and
// passphrase identification for the name server (see Resolver); it may be
// nil (the built-in config, no key).
//
// Answers are cached for the resolver's TTL, since a proxy resolves
// again for every new connection; Forget, which proxies call when a
// target fails, drops an answer early.
func (r *Resolver) Resolve(ctx context.Context, u pyro.URI, p *pyro.Proxy) (pyro.URI, error) {
	if u.Protocol == uri.ProtoPyro {
		return u, nil
	}
	if u.Protocol != uri.ProtoPyroName && u.Protocol != uri.ProtoPyroMeta {
		return pyro.URI{}, pyro.NewError(pyro.ErrPyro, "invalid uri protocol")
	}
	lc := r.lc
	var hkey []byte
	var inherited []pyro.ProxyOption
	var ident string
	if p != nil {
		if lc.cfg == nil {
			lc.cfg = p.Config()
		}
		hkey = p.HMACKey()
		if hkey == nil {
			hkey = []byte{} // the proxy has no key: neither do the NS proxies
		}
		inherited = append(inherited, pyro.WithHMACKey(hkey))
		if tc := p.TLSConfig(); tc != nil {
			// a name server reached with the proxy's own TLS settings
			inherited = append(inherited, pyro.WithTLSConfig(tc))
		}
		inherited = append(inherited, p.AuthOptions()...) // and with its passphrase identification
		ident = p.IdentificationTag()
	}
	if lc.cfg == nil {
		lc.cfg = pyro.BuiltinConfig()
	}
	lc.proxyOpts = append(inherited, r.lc.proxyOpts...)
	k := cacheKey(u, lc.cfg, hkey, ident)
	now := time.Now()
	r.mu.Lock()
	if e := r.entries[k]; e != nil && now.Before(e.expires) && len(e.targets) > 0 {
		t := pick(e.targets)
		r.mu.Unlock()
		return t, nil
	}
	if f := r.inflight[k]; f != nil {
		r.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return pyro.URI{}, &pyro.Error{Class: pyro.ErrCommunication, Msg: "resolving " + u.String() + ": " + ctx.Err().Error(), Err: ctx.Err()}
		}
		if f.err != nil {
			return pyro.URI{}, f.err
		}
		return pick(f.targets), nil
	}
	f := &flight{done: make(chan struct{})}
	if r.inflight == nil {
		r.inflight = map[string]*flight{}
	}
	r.inflight[k] = f
	r.mu.Unlock()

	f.targets, f.err = lookupTargets(ctx, u, &lc)

	r.mu.Lock()
	delete(r.inflight, k)
	if f.err == nil && r.ttl > 0 {
		if r.entries == nil {
			r.entries = map[string]*cacheEntry{}
		}
		if len(r.entries) >= maxCacheEntries {
			r.pruneCache(time.Now())
		}
		r.entries[k] = &cacheEntry{targets: f.targets, expires: time.Now().Add(r.ttl)}
	}
	r.mu.Unlock()
	close(f.done)
	if f.err != nil {
		return pyro.URI{}, f.err
	}
	return pick(f.targets), nil
}

// pruneCache drops expired entries, and arbitrary ones if still full
// (r.mu held).
func (r *Resolver) pruneCache(now time.Time) {
	for k, e := range r.entries {
		if !now.Before(e.expires) {
			delete(r.entries, k)
		}
	}
	for k := range r.entries {
		if len(r.entries) < maxCacheEntries {
			break
		}
		delete(r.entries, k)
	}
}

func pick(ts []pyro.URI) pyro.URI {
	if len(ts) == 1 {
		return ts[0]
	}
	return ts[rand.IntN(len(ts))]
}

// Forget drops target from the cached answers for u (every config and
// key): the next Resolve of u asks the name server again, or picks another
// PYROMETA candidate. Proxies call it (pyro.ResolveForgetter) when a
// connection to target fails or its object is gone.
func (r *Resolver) Forget(u, target pyro.URI) {
	prefix := u.String() + "\x00"
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.entries {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		kept := e.targets[:0:0]
		for _, t := range e.targets {
			if !t.Equal(target) {
				kept = append(kept, t)
			}
		}
		if len(kept) == 0 {
			delete(r.entries, k)
		} else {
			e.targets = kept
		}
	}
}

// lookupTargets asks a name server: the one at u's location, or the one
// Locate finds with lc's settings. A name server lost during the lookup
// (nsLost: the connection closed, failed or timed out) is replaced once:
// Locate searches again (a list of name servers or broadcast discovery
// finds another one) and the lookup, which changes nothing on the name
// server, is asked again.
func lookupTargets(ctx context.Context, u pyro.URI, lc *locateConfig) ([]pyro.URI, error) {
	lc.host, lc.port, lc.uriHost = u.Host, u.Port, true
	if u.Sockname != "" {
		lc.host, lc.port = "./u:"+u.Sockname, 0
	}
	var lost error
	for attempt := 0; ; attempt++ {
		ns, err := locate(ctx, lc)
		if err != nil {
			if lost != nil {
				return nil, &pyro.Error{Class: pyro.ErrNaming, Msg: "Failed to locate the nameserver: " + err.Error() + " (after losing one: " + lost.Error() + ")", Err: errors.Join(err, lost)}
			}
			return nil, err
		}
		targets, err := lookupAt(ctx, ns, u)
		ns.Close()
		if err == nil || attempt > 0 || !nsLost(ctx, err) {
			return targets, err
		}
		lost = fmt.Errorf("%s: %w", ns.URI(), err)
		avoid := ns.URI()
		lc.avoid = &avoid
	}
}

// nsLost reports whether err says the name server was lost and ctx
// still runs.
func nsLost(ctx context.Context, err error) bool {
	return ctx.Err() == nil && IsLost(err)
}

// IsLost reports whether err, from a call to a name server, says that
// the name server was lost: the connection to it closed or failed, or it
// did not answer in time (a ConnectionClosedError, a TimeoutError, or a
// CommunicationError as such), not that it answered with an error. A
// call that changes nothing (lookup, list, ping) may then be asked of
// another name server (see WithoutNS); a call that changes something
// (register, remove, set_metadata) may have been done before the loss
// and must not be repeated blindly.
func IsLost(err error) bool {
	var re *pyro.RemoteError
	if errors.As(err, &re) {
		return false
	}
	var pe *pyro.Error
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Class == pyro.ErrCommunication || errors.Is(pe, pyro.ErrConnectionClosed) || errors.Is(pe, pyro.ErrTimeout)
}

// lookupAt asks the name server ns for u's targets.
func lookupAt(ctx context.Context, ns *pyro.Proxy, u pyro.URI) ([]pyro.URI, error) {
	var err error
	if u.Protocol == uri.ProtoPyroName {
		v, err := ns.Call(ctx, "lookup", u.Object)
		if err != nil {
			return nil, err
		}
		t, err := asPyroURI(v)
		if err != nil {
			return nil, err
		}
		return []pyro.URI{t}, nil
	}
	tags := py.NewSet(len(u.Tags), false)
	for _, t := range u.Tags {
		_ = tags.Add(t)
	}
	var v any
	if ns.Protocol() == protocol502 {
		// Pyro5's list has no metadata filters; Pyro5's resolve asks yplookup
		v, err = ns.CallKw(ctx, "yplookup", nil, map[string]any{"meta_all": tags, "return_metadata": false})
	} else {
		v, err = ns.CallKw(ctx, "list", nil, map[string]any{"metadata_all": tags})
	}
	if err != nil {
		return nil, err
	}
	d, ok := v.(*py.Dict)
	if !ok {
		return nil, pyro.NewError(pyro.ErrProtocol, "name server list() returned "+py.TypeName(v))
	}
	var out []pyro.URI
	for _, val := range d.All() {
		if t, err := asPyroURI(val); err == nil {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, pyro.NewError(pyro.ErrNaming, "no registrations available with desired metadata properties "+setRepr(u.Tags))
	}
	return out, nil
}

// asPyroURI accepts a URI object or string that is a PYRO: URI.
func asPyroURI(v any) (pyro.URI, error) {
	var u pyro.URI
	switch x := v.(type) {
	case uri.URI:
		u = x
	case string:
		var err error
		if u, err = pyro.ParseURI(x); err != nil {
			return pyro.URI{}, err
		}
	default:
		return pyro.URI{}, pyro.NewError(pyro.ErrProtocol, "name server returned "+py.TypeName(v)+" instead of a URI")
	}
	if u.Protocol != uri.ProtoPyro {
		return pyro.URI{}, pyro.NewError(pyro.ErrNaming, "name server returned "+u.String()+", which is not a PYRO: URI")
	}
	return u, nil
}

// setRepr prints tags as Python prints a set of str: {'a', 'b'}.
func setRepr(tags []string) string {
	if len(tags) == 0 {
		return "set()"
	}
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = py.Repr(t)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
