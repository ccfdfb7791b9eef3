package gateway

import (
	"log/slog"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/naming"
)

// DefaultExpose is the default expose regex, Pyro4's.
const DefaultExpose = `http\.`

// DefaultTimeout bounds the Pyro work of one request (name lookup,
// connect, call) unless WithTimeout says otherwise. Pyro4's gateway uses
// COMMTIMEOUT, 0 (forever) by default.
const DefaultTimeout = 30 * time.Second

// Limits bound what clients may cost the gateway. A zero field means its
// default (DefaultLimits).
type Limits struct {
	// MaxBodyBytes is the largest request body (413 beyond it).
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request line and headers (431 beyond it;
	// enforced by NewServer's http.Server).
	MaxHeaderBytes int
	// MaxParams is the most parameters (query and form) one request may
	// have (400 beyond it).
	MaxParams int
	// MaxConcurrent is the most requests served at once; the excess is
	// answered 503 immediately.
	MaxConcurrent int
	// MaxConns is the most connections NewServer's listener holds.
	MaxConns int
	// ReadHeaderTimeout is the time a client has to send its request line
	// and headers (slowloris); ReadTimeout the time for the whole request
	// including the body; IdleTimeout how long a keep-alive connection
	// may wait for its next request.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	// MaxProxies is the number of proxies (one per object URI) kept for
	// reuse; ConnsPerProxy the connections each may pool.
	MaxProxies    int
	ConnsPerProxy int
	// MaxPerDaemon is the most requests that may wait at once on one
	// daemon (one host:port or unix socket of the objects' URIs); the
	// excess is answered 503 at once, so a daemon that never answers
	// cannot take every one of the MaxConcurrent slots. Default
	// MaxConcurrent/4 (at least 1).
	MaxPerDaemon int
	// MaxReplyBytes is the largest reply (and name server answer) the
	// gateway reads from a daemon; a larger one fails the request with
	// 500 before its payload is read. It lowers the configuration's
	// MAX_MESSAGE_SIZE (64 MiB) so that MaxConcurrent requests hold at
	// most MaxConcurrent*MaxReplyBytes of replies. Default 8 MiB.
	MaxReplyBytes int
}

// DefaultLimits are the limits used for zero fields.
var DefaultLimits = Limits{
	MaxBodyBytes:      1 << 20,
	MaxHeaderBytes:    64 << 10,
	MaxParams:         256,
	MaxConcurrent:     64,
	MaxConns:          1024,
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	IdleTimeout:       60 * time.Second,
	MaxProxies:        64,
	ConnsPerProxy:     4,
	MaxReplyBytes:     8 << 20,
}

func (l Limits) resolved() Limits {
	d := DefaultLimits
	pick := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	pickD := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	l.MaxHeaderBytes = pick(l.MaxHeaderBytes, d.MaxHeaderBytes)
	l.MaxParams = pick(l.MaxParams, d.MaxParams)
	l.MaxConcurrent = pick(l.MaxConcurrent, d.MaxConcurrent)
	l.MaxConns = pick(l.MaxConns, d.MaxConns)
	l.ReadHeaderTimeout = pickD(l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	l.ReadTimeout = pickD(l.ReadTimeout, d.ReadTimeout)
	l.IdleTimeout = pickD(l.IdleTimeout, d.IdleTimeout)
	l.MaxProxies = pick(l.MaxProxies, d.MaxProxies)
	l.ConnsPerProxy = pick(l.ConnsPerProxy, d.ConnsPerProxy)
	l.MaxPerDaemon = pick(l.MaxPerDaemon, max(1, l.MaxConcurrent/4))
	l.MaxReplyBytes = pick(l.MaxReplyBytes, d.MaxReplyBytes)
	return l
}

// Option configures a Gateway.
type Option func(*settings)

type settings struct {
	expose    string
	exposeSet bool
	key       []byte
	timeout   time.Duration
	nsURI     string
	nsOpts    []naming.LocateOption
	proxyOpts []pyro.ProxyOption
	log       *slog.Logger
	limits    Limits
	noReuse   bool // tests and benchmarks: a new proxy per request
	hosts     []string
	origins   []string
	target    func(pyro.URI) error
}

// WithExpose sets the expose regex: a Python re pattern, matched with
// re.match semantics (at the start of the name only) against every name
// a request reaches. "" exposes every name, as Pyro4's -e "" does.
// Default DefaultExpose.
func WithExpose(regex string) Option {
	return func(s *settings) { s.expose, s.exposeSet = regex, true }
}

// WithGatewayKey makes every request carry key in the header
// X-Pyro-Gateway-Key or the parameter $key (Pyro4's -g,
// PYRO_HTTPGATEWAY_KEY). Empty means no key.
func WithGatewayKey(key []byte) Option {
	return func(s *settings) { s.key = append([]byte(nil), key...) }
}

// WithTimeout bounds the Pyro work of one request: the name lookup, the
// connection to the daemon and the call (Pyro4's -t). Default
// DefaultTimeout; it cannot be switched off.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithNameServer makes the gateway use the name server at uri
// ("PYRO:Pyro.NameServer@host:port") instead of locating one as
// Pyro4.locateNS does with the configuration (NS_HOST, NS_PORT,
// broadcast).
func WithNameServer(uri string) Option {
	return func(s *settings) { s.nsURI = uri }
}

// WithLocateOptions adds options for locating the name server
// (naming.WithNSHost, naming.WithNSPort, naming.WithoutBroadcast, and
// naming.WithProxyOptions for the name server's own HMAC key, TLS or
// passphrase).
func WithLocateOptions(opts ...naming.LocateOption) Option {
	return func(s *settings) { s.nsOpts = append(s.nsOpts, opts...) }
}

// WithProxyOptions adds options to every proxy the gateway makes, for the
// name server and the objects: pyro.WithHMACKey, pyro.WithTLSConfig,
// pyro.WithIdentification, ... (the gateway adds the JSON serializer,
// its timeout and its connection bound after them).
func WithProxyOptions(opts ...pyro.ProxyOption) Option {
	return func(s *settings) { s.proxyOpts = append(s.proxyOpts, opts...) }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) { s.log = l }
}

// WithLimits sets the limits; zero fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(s *settings) { s.limits = l }
}

// WithAllowedHosts adds host names (without port; "*" for any) that
// requests arriving on a loopback address may carry in their Host header,
// besides IP literals, localhost, *.localhost and this machine's host
// name. Any other name is refused with 403: it is what a browser sends
// for a page whose name an attacker rebound to 127.0.0.1 (DNS
// rebinding). Add the names a reverse proxy or users on this host really
// use.
func WithAllowedHosts(hosts ...string) Option {
	return func(s *settings) { s.hosts = append(s.hosts, hosts...) }
}

// WithAllowedOrigins adds web origins ("https://app.example", or "*" for
// any) whose pages may make browsers call objects through the gateway.
// By default a call request that a browser marks as coming from another
// site or origin (Sec-Fetch-Site, Origin) is refused with 403, so that a
// web page cannot make a visitor's browser call methods (CSRF). Programs
// that send neither header are not affected.
func WithAllowedOrigins(origins ...string) Option {
	return func(s *settings) { s.origins = append(s.origins, origins...) }
}

// WithTargetCheck makes the gateway call check with the URI a name
// resolved to before it connects there; an error refuses the request
// (403, as a name outside the expose regex). Whoever may register names
// in the name server chooses the addresses the gateway connects to (any
// host and port, or a unix socket): a check that allows only the
// networks or sockets of real daemons keeps the gateway from being aimed
// at other services. Default: no check.
func WithTargetCheck(check func(pyro.URI) error) Option {
	return func(s *settings) { s.target = check }
}
