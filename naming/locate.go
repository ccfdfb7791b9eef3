package naming

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pyrogo/pyro"
)

// Locate finds a name server and returns a proxy for it, with Pyro4's
// locateNS algorithm. Its options say where to look (WithNSHost,
// WithNSPort, WithoutBroadcast), with which configuration (WithConfig;
// default pyro.BuiltinConfig()) and with which settings for the name
// server proxies (WithProxyOptions: an HMAC key, TLS, a passphrase, a
// logger):
//
//  1. WithNSHost given: connect to PYRO:Pyro.NameServer@host:port (port
//     from WithNSPort, else the config's NS_PORT; a host "./u:path" is a
//     unix socket, a host containing ":" an IPv6 address).
//  2. No host and the config's NS_HOST is localhost, ::1 or 127.x: try it
//     directly (and 127.0.1.1 when that address has a name, a Debian
//     habit), on the WithNSPort port or NS_PORT.
//  3. Broadcast discovery (see Discover) on the WithNSPort port or
//     NS_BCPORT, unless WithoutBroadcast or PREFER_IP_VERSION is 6.
//     Without security settings, the first answer becomes the proxy
//     without a connection check, as in Pyro. With an HMAC key, TLS or a
//     passphrase (see below), every answer that arrives within the
//     discovery is verified, and the first one that verifies is used.
//  4. Connect directly to NS_HOST:NS_PORT.
//
// "Connect" means the proxy's handshake and a ping() succeed. Failure is
// NamingError("Failed to locate the nameserver") wrapping the last cause.
// The caller closes the proxy.
//
// Discovery answers are unauthenticated datagrams, which anyone able to
// reach the client can send, faster than the real name server. A client
// whose proxies have an HMAC key, a TLS configuration or a passphrase
// identification therefore never trusts an answer as such: it connects to
// each one (up to 32, at most 4 from one source address, all at once) and
// calls ping() with those settings, and uses the first name server that
// passes. That proves the name server holds the HMAC key, a certificate
// the client's TLS settings accept, or the passphrase (the passphrase
// handshake authenticates the server too). Without any of those
// settings, discovery guarantees nothing: the first answer wins, whoever
// sent it.
func Locate(ctx context.Context, opts ...LocateOption) (*pyro.Proxy, error) {
	var lc locateConfig
	for _, o := range opts {
		if o != nil {
			o.applyLocate(&lc)
		}
	}
	if lc.cfg == nil {
		lc.cfg = pyro.BuiltinConfig()
	}
	return locate(ctx, &lc)
}

// locate is Locate with its settings gathered (lc.cfg set).
func locate(ctx context.Context, lc *locateConfig) (*pyro.Proxy, error) {
	cfg, host, port, popts := lc.cfg, lc.host, lc.port, lc.proxyOpts
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
		if !lc.noBroadcast && cfg.PreferIPVersion != 6 {
			ns, err := locateByBroadcast(ctx, cfg, port, popts)
			if err == nil {
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

// verifyTimeout bounds the check of one discovery answer when the config
// has no COMMTIMEOUT.
var verifyTimeout = 5 * time.Second

// secured reports whether a proxy has settings that let it verify the
// server it talks to: an HMAC key, TLS, or a passphrase identification.
func secured(p *pyro.Proxy) bool {
	return len(p.HMACKey()) > 0 || p.TLSConfig() != nil || p.IdentificationTag() != ""
}

// locateByBroadcast is Locate's broadcast step. A proxy without security
// settings gets the first answer unchecked, as in Pyro; otherwise every
// answer is verified concurrently (connect and ping with the proxy's
// settings), discovery stops at the first that passes, and that one is
// used.
func locateByBroadcast(ctx context.Context, cfg *pyro.Config, port int, popts []pyro.ProxyOption) (*pyro.Proxy, error) {
	type result struct {
		p   *pyro.Proxy
		err error
	}
	dctx, stopDiscovery := context.WithCancel(ctx)
	defer stopDiscovery()
	vctx, stopVerify := context.WithCancel(ctx)
	results := make(chan result, maxAnswers)
	var wg sync.WaitGroup
	defer func() {
		stopVerify()
		wg.Wait()
		close(results)
		for r := range results { // verified too late, or not returned
			if r.p != nil {
				r.p.Close()
			}
		}
	}()
	timeout := verifyTimeout
	if cfg.CommTimeout > 0 {
		timeout = cfg.CommTimeout
	}
	var unchecked *pyro.Proxy
	var proxyErr error
	tried := 0
	derr := discover(dctx, cfg, port, func(u pyro.URI) bool {
		p, err := pyro.NewProxyURI(u, cfg, popts...)
		if err != nil {
			proxyErr = err
			return false
		}
		if !secured(p) {
			unchecked = p
			return true
		}
		tried++
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(vctx, timeout)
			defer cancel()
			if _, err := p.Call(cctx, "ping"); err != nil {
				p.Close()
				results <- result{err: fmt.Errorf("%s: %w", u, err)}
				return
			}
			stopDiscovery()
			results <- result{p: p}
		}()
		return false
	})
	if unchecked != nil {
		return unchecked, nil
	}
	var errs []error
	for i := 0; i < tried; i++ {
		select {
		case r := <-results:
			if r.err == nil {
				return r.p, nil
			}
			errs = append(errs, r.err)
		case <-ctx.Done():
			return nil, &pyro.Error{Class: pyro.ErrNaming, Msg: "broadcast discovery: " + ctx.Err().Error(), Err: ctx.Err()}
		}
	}
	switch {
	case tried > 0:
		return nil, &pyro.Error{Class: pyro.ErrNaming,
			Msg: fmt.Sprintf("broadcast discovery: none of the %d name servers that answered passed verification", tried),
			Err: errors.Join(errs...)}
	case proxyErr != nil && derr != nil:
		return nil, proxyErr
	}
	return nil, derr
}
