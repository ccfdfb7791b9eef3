package naming

import (
	"time"

	"github.com/pyrogo/pyro"
)

// Options of this package, in the style of package pyro's: sealed
// interfaces that only this package implements, applied in order (a later
// option wins over an earlier one).
//
//   - ServerOption configures Start (server.go; WithPolicy is in
//     policy.go, WithRegexBudget in regex.go).
//   - LocateOption configures Locate: WithNSHost, WithNSPort and the
//     ClientOptions.
//   - ResolverOption configures NewResolver: WithResolveTTL and the
//     ClientOptions.
//   - ClientOption is both a LocateOption and a ResolverOption: how a
//     client reaches name servers (WithConfig, WithProxyOptions,
//     WithoutBroadcast).

// LocateOption configures Locate.
type LocateOption interface {
	applyLocate(*locateConfig)
}

// ResolverOption configures NewResolver.
type ResolverOption interface {
	applyResolver(*resolverConfig)
}

// ClientOption is a setting of how a client reaches name servers; it can
// be given to Locate and to NewResolver.
type ClientOption interface {
	LocateOption
	ResolverOption
}

// locateConfig is what LocateOptions set.
type locateConfig struct {
	cfg         *pyro.Config // nil: pyro.BuiltinConfig() (Locate), the resolving proxy's (a Resolver)
	host        string
	port        int
	noBroadcast bool
	proxyOpts   []pyro.ProxyOption
	avoid       *pyro.URI // a name server lost during a lookup, not to use again (resolve.go)
	uriHost     bool      // host is a URI's location: one name server, never a list
}

// resolverConfig is what ResolverOptions set.
type resolverConfig struct {
	locateConfig
	ttl time.Duration
}

// clientOption is a ClientOption.
type clientOption func(*locateConfig)

func (o clientOption) applyLocate(c *locateConfig)     { o(c) }
func (o clientOption) applyResolver(c *resolverConfig) { o(&c.locateConfig) }

// locateOption is a LocateOption only.
type locateOption func(*locateConfig)

func (o locateOption) applyLocate(c *locateConfig) { o(c) }

// resolverOption is a ResolverOption only.
type resolverOption func(*resolverConfig)

func (o resolverOption) applyResolver(c *resolverConfig) { o(c) }

// WithConfig sets the configuration a client uses (a copy of cfg is
// kept): where it looks for the name server (NS_HOST, NS_PORT, NS_BCPORT,
// BROADCAST_ADDRS, PREFER_IP_VERSION) and the settings of the name server
// proxies it makes (HMAC_KEY, SSL_*, COMMTIMEOUT, ...). Locate uses
// pyro.BuiltinConfig() without it; a Resolver uses the configuration of
// the proxy whose URI it resolves.
func WithConfig(cfg *pyro.Config) ClientOption {
	if cfg != nil {
		cfg = cfg.Clone()
	}
	return clientOption(func(c *locateConfig) { c.cfg = cfg })
}

// WithProxyOptions adds options to the name server proxies a client
// makes: its own HMAC key, TLS settings, passphrase identification or
// logger for the name server (pyro.WithHMACKey, pyro.WithTLSConfig,
// pyro.WithIdentification, pyro.WithLogger, ...). A Resolver applies
// them after the settings it takes from the proxy whose URI it resolves,
// so they win over those.
func WithProxyOptions(opts ...pyro.ProxyOption) ClientOption {
	return clientOption(func(c *locateConfig) { c.proxyOpts = append(c.proxyOpts, opts...) })
}

// WithoutBroadcast skips broadcast discovery (locateNS's
// broadcast=False).
func WithoutBroadcast() ClientOption {
	return clientOption(func(c *locateConfig) { c.noBroadcast = true })
}

// WithNSHost makes Locate connect to the name server on host directly
// (locateNS's host argument): a host name or IP address, an IPv6 address
// with or without brackets, or "./u:PATH" for a unix socket; or a list of
// them, with optional ports, tried in order ("h1,h2:9095,[::1]:9090", see
// ParseNSHosts and Locate). Without it Locate searches (see Locate).
func WithNSHost(host string) LocateOption {
	return locateOption(func(c *locateConfig) { c.host = host })
}

// WithoutNS makes Locate skip the name server whose URI is u (one just
// lost, see IsLost) when it searches: in a list of name servers and among
// the answers to broadcast discovery, unless it is the only name server
// the list names. The zero URI skips nothing.
func WithoutNS(u pyro.URI) LocateOption {
	return locateOption(func(c *locateConfig) {
		if u.Protocol == "" {
			c.avoid = nil
			return
		}
		c.avoid = &u
	})
}

// WithNSPort sets the port Locate uses (locateNS's port argument): the
// name server's port when it connects directly, the broadcast port when
// it searches by broadcast. 0, the default, means the config's NS_PORT
// or NS_BCPORT.
func WithNSPort(port int) LocateOption {
	return locateOption(func(c *locateConfig) { c.port = port })
}

// WithResolveTTL sets how long a Resolver remembers an answer (default
// DefaultResolveTTL); 0 or less turns its cache off.
func WithResolveTTL(d time.Duration) ResolverOption {
	return resolverOption(func(c *resolverConfig) { c.ttl = max(d, 0) })
}
