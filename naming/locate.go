package naming

import (
	"context"
	"net"
	"strconv"
	"strings"

	"github.com/pyrogo/pyro"
)

// LocateOption changes how Locate searches.
type LocateOption func(*locateOptions)

type locateOptions struct {
	noBroadcast bool
	proxyOpts   []pyro.ProxyOption
}

// WithoutBroadcast skips the broadcast step (locateNS's broadcast=False).
func WithoutBroadcast() LocateOption { return func(o *locateOptions) { o.noBroadcast = true } }

// WithProxyOptions adds options to the name server proxies Locate makes.
func WithProxyOptions(opts ...pyro.ProxyOption) LocateOption {
	return func(o *locateOptions) { o.proxyOpts = append(o.proxyOpts, opts...) }
}

// Locate finds a name server and returns a proxy for it, with Pyro4's
// locateNS algorithm (cfg nil means pyro.BuiltinConfig()):
//
//  1. host given: connect to PYRO:Pyro.NameServer@host:port (port 0 means
//     cfg.NSPort; a host "./u:path" is a unix socket, a host containing
//     ":" an IPv6 address).
//  2. No host and cfg.NSHost is localhost, ::1 or 127.x: try it directly
//     (and 127.0.1.1 when that address has a name, a Debian habit), on
//     port or cfg.NSPort.
//  3. Broadcast discovery (see Discover) on port or cfg.NSBcPort, unless
//     WithoutBroadcast or cfg.PreferIPVersion is 6; the answer becomes the
//     proxy without a connection check, as in Pyro.
//  4. Connect directly to cfg.NSHost:cfg.NSPort.
//
// "Connect" means the proxy's handshake and a ping() succeed. Failure is
// NamingError("Failed to locate the nameserver") wrapping the last cause.
// hmacKey, when not nil, is the key of every proxy made; otherwise they
// use cfg.HMACKey. The caller closes the proxy.
func Locate(ctx context.Context, cfg *pyro.Config, host string, port int, hmacKey []byte, opts ...LocateOption) (*pyro.Proxy, error) {
	if cfg == nil {
		cfg = pyro.BuiltinConfig()
	}
	var o locateOptions
	for _, opt := range opts {
		opt(&o)
	}
	popts := append([]pyro.ProxyOption(nil), o.proxyOpts...)
	if hmacKey != nil {
		popts = append(popts, pyro.WithProxyHMACKey(hmacKey))
	}
	fail := func(cause error) error {
		return &pyro.Error{Class: pyro.ErrNaming, Msg: "Failed to locate the nameserver", Err: cause}
	}
	if host == "" {
		nsHost := cfg.NSHost
		if nsHost == "localhost" || nsHost == "::1" || strings.HasPrefix(nsHost, "127.") {
			hosts := []string{nsHost}
			if nsHost != "127.0.1.1" && strings.IndexByte(nsHost, ':') < 0 {
				if names, err := net.DefaultResolver.LookupAddr(ctx, "127.0.1.1"); err == nil && len(names) > 0 {
					hosts = append(hosts, "127.0.1.1")
				}
			}
			p := port
			if p == 0 {
				p = cfg.NSPort
			}
			for _, h := range hosts {
				ns, err := bindNS(ctx, cfg, nsURIText(h, p), popts)
				if err == nil {
					return ns, nil
				}
				if ctx.Err() != nil {
					return nil, fail(err)
				}
			}
		}
		if !o.noBroadcast && cfg.PreferIPVersion != 6 {
			u, err := Discover(ctx, cfg, port)
			if err == nil {
				ns, err := pyro.NewProxyURI(u, cfg, popts...)
				if err != nil {
					return nil, fail(err)
				}
				return ns, nil
			}
			if ctx.Err() != nil {
				return nil, fail(err)
			}
		}
		ns, err := bindNS(ctx, cfg, nsURIText(cfg.NSHost, cfg.NSPort), popts)
		if err != nil {
			return nil, fail(err)
		}
		return ns, nil
	}
	if port == 0 {
		port = cfg.NSPort
	}
	ns, err := bindNS(ctx, cfg, nsURIText(host, port), popts)
	if err != nil {
		return nil, fail(err)
	}
	return ns, nil
}

// nsURIText is the name server URI on host:port.
func nsURIText(host string, port int) string {
	if strings.HasPrefix(host, "./u:") {
		return "PYRO:" + ObjectID + "@" + host
	}
	if strings.IndexByte(host, ':') >= 0 && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return "PYRO:" + ObjectID + "@" + host + ":" + strconv.Itoa(port)
}

// bindNS makes a proxy and checks that a name server answers there.
func bindNS(ctx context.Context, cfg *pyro.Config, text string, popts []pyro.ProxyOption) (*pyro.Proxy, error) {
	ns, err := pyro.NewProxy(text, cfg, popts...)
	if err != nil {
		return nil, err
	}
	if _, err := ns.Call(ctx, "ping"); err != nil {
		ns.Close()
		return nil, err
	}
	return ns, nil
}
