package naming

import (
	"context"
	"crypto/tls"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

// Importing this package enables PYRONAME: and PYROMETA: proxies: its
// init function installs Resolve as pyro.DefaultResolver and Forget as
// pyro.ResolveFailed.
func init() {
	pyro.DefaultResolver = Resolve
	pyro.ResolveFailed = Forget
}

// DefaultResolveTTL is how long Resolve remembers an answer unless
// SetResolveTTL changed it.
const DefaultResolveTTL = 5 * time.Second

var resolveTTL atomic.Int64

func init() { resolveTTL.Store(int64(DefaultResolveTTL)) }

// SetResolveTTL sets how long Resolve remembers an answer (0 disables the
// cache) and empties the cache.
func SetResolveTTL(d time.Duration) {
	resolveTTL.Store(int64(d))
	FlushResolveCache()
}

// maxCacheEntries bounds the resolve cache.
const maxCacheEntries = 1024

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

var cache struct {
	mu       sync.Mutex
	entries  map[string]*cacheEntry
	inflight map[string]*flight
}

// FlushResolveCache forgets every cached answer.
func FlushResolveCache() {
	cache.mu.Lock()
	cache.entries = nil
	cache.mu.Unlock()
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
// list(metadata_all=tags) and picks one of the registrations at random
// (none is NamingError "no registrations available with desired metadata
// properties {...}"). p supplies the configuration, HMAC key, TLS settings
// and passphrase identification (see Proxy.AuthOptions) and may be nil
// (built-in config, no key).
//
// Answers are cached for a short time (DefaultResolveTTL), since a proxy
// resolves again for every new connection; Forget, which proxies call
// when a target fails, drops an answer early.
func Resolve(ctx context.Context, u pyro.URI, p *pyro.Proxy) (pyro.URI, error) {
	if u.Protocol == uri.ProtoPyro {
		return u, nil
	}
	if u.Protocol != uri.ProtoPyroName && u.Protocol != uri.ProtoPyroMeta {
		return pyro.URI{}, pyro.NewError(pyro.ErrPyro, "invalid uri protocol")
	}
	cfg := pyro.BuiltinConfig()
	var hkey []byte
	var tlsCfg *tls.Config
	var auth []pyro.ProxyOption
	var ident string
	if p != nil {
		cfg = p.Config()
		hkey = p.HMACKey()
		tlsCfg = p.TLSConfig() // a name server reached with the proxy's own TLS settings
		auth = p.AuthOptions() // and with its passphrase identification
		ident = p.IdentificationTag()
	}
	k := cacheKey(u, cfg, hkey, ident)
	ttl := time.Duration(resolveTTL.Load())
	now := time.Now()
	cache.mu.Lock()
	if e := cache.entries[k]; e != nil && now.Before(e.expires) && len(e.targets) > 0 {
		t := pick(e.targets)
		cache.mu.Unlock()
		return t, nil
	}
	if f := cache.inflight[k]; f != nil {
		cache.mu.Unlock()
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
	if cache.inflight == nil {
		cache.inflight = map[string]*flight{}
	}
	cache.inflight[k] = f
	cache.mu.Unlock()

	f.targets, f.err = lookupTargets(ctx, u, cfg, hkey, tlsCfg, auth)

	cache.mu.Lock()
	delete(cache.inflight, k)
	if f.err == nil && ttl > 0 {
		if cache.entries == nil {
			cache.entries = map[string]*cacheEntry{}
		}
		if len(cache.entries) >= maxCacheEntries {
			pruneCache(time.Now())
		}
		cache.entries[k] = &cacheEntry{targets: f.targets, expires: time.Now().Add(ttl)}
	}
	cache.mu.Unlock()
	close(f.done)
	if f.err != nil {
		return pyro.URI{}, f.err
	}
	return pick(f.targets), nil
}

// pruneCache drops expired entries, and arbitrary ones if still full
// (cache.mu held).
func pruneCache(now time.Time) {
	for k, e := range cache.entries {
		if !now.Before(e.expires) {
			delete(cache.entries, k)
		}
	}
	for k := range cache.entries {
		if len(cache.entries) < maxCacheEntries {
			break
		}
		delete(cache.entries, k)
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
// PYROMETA candidate. Proxies call it (as pyro.ResolveFailed) when a
// connection to target fails or its object is gone.
func Forget(u, target pyro.URI) {
	prefix := u.String() + "\x00"
	cache.mu.Lock()
	defer cache.mu.Unlock()
	for k, e := range cache.entries {
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
			delete(cache.entries, k)
		} else {
			e.targets = kept
		}
	}
}

// lookupTargets asks a name server.
func lookupTargets(ctx context.Context, u pyro.URI, cfg *pyro.Config, hkey []byte, tlsCfg *tls.Config, auth []pyro.ProxyOption) ([]pyro.URI, error) {
	host, port := u.Host, u.Port
	if u.Sockname != "" {
		host, port = "./u:"+u.Sockname, 0
	}
	key := hkey
	if key == nil {
		key = []byte{} // the proxy has no key: neither do the NS proxies
	}
	var opts []LocateOption
	if tlsCfg != nil {
		opts = append(opts, WithProxyOptions(pyro.WithTLSConfig(tlsCfg)))
	}
	if len(auth) > 0 {
		opts = append(opts, WithProxyOptions(auth...))
	}
	ns, err := Locate(ctx, cfg, host, port, key, opts...)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
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
	v, err := ns.CallKw(ctx, "list", nil, map[string]any{"metadata_all": tags})
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
