package naming

import (
	"cmp"
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
// locateNS algorithm, extended to lists of name servers. Its options say
// where to look (WithNSHost, WithNSPort, WithoutBroadcast), with which
// configuration (WithConfig; default pyro.BuiltinConfig()) and with which
// settings for the name server proxies (WithProxyOptions: an HMAC key,
// TLS, a passphrase, a logger):
//
//  1. WithNSHost given: connect to PYRO:Pyro.NameServer@host:port (port
//     from the host item, else WithNSPort, else the config's NS_PORT; a
//     host "./u:path" is a unix socket, a host containing ":" an IPv6
//     address). A list of several name servers (see ParseNSHosts) is
//     tried in order, as described below, and nothing else.
//  2. No host and the config's NS_HOST lists several name servers: try
//     them in order (below), then broadcast discovery (step 3) unless it
//     is off; NS_HOST is not tried again.
//  3. No host and the config's NS_HOST is localhost, ::1 or 127.x: try it
//     directly (and 127.0.1.1 when that address has a name, a Debian
//     habit), on the WithNSPort port or NS_PORT.
//  4. Broadcast discovery (see Discover) on the WithNSPort port or
//     NS_BCPORT, unless WithoutBroadcast or PREFER_IP_VERSION is 6.
//     Without security settings, the first answer becomes the proxy
//     without a connection check, as in Pyro. With an HMAC key, TLS or a
//     passphrase (see below), every answer that arrives within the
//     discovery is verified, and the first one that verifies is used.
//  5. Connect directly to NS_HOST:NS_PORT.
//
// A list is tried in order with a head start: the first name server
// alone, the next one as soon as the previous failed (a refused
// connection fails at once) or after 250 ms without an answer, and so
// on; the first to answer wins and the other attempts are cancelled.
// Each attempt is bounded by COMMTIMEOUT (5 s without one), so a name
// server that is dead, unreachable or hung delays Locate by 250 ms, not
// by its timeout, as long as a later one answers.
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
		addrs, err := ParseNSHosts(cfg.NSHost)
		if err != nil {
			return nil, nsListError(err)
		}
		var listErr error
		if len(addrs) > 1 {
			// several name servers: each in turn, then broadcast
			p := port
			if p == 0 {
				p = cfg.NSPort
			}
			ns, err := locateList(ctx, cfg, lc.without(addrs, p), p, popts)
			if err == nil {
				return ns, nil
			}
			if ctx.Err() != nil || lc.noBroadcast || cfg.PreferIPVersion == 6 {
				return nil, fail(err)
			}
			listErr = err
		} else if nsHost := addrs[0].Host; nsHost == "localhost" || nsHost == "::1" || strings.HasPrefix(nsHost, "127.") {
			hosts := []string{nsHost}
			if nsHost != "127.0.1.1" && strings.IndexByte(nsHost, ':') < 0 {
				if names, err := net.DefaultResolver.LookupAddr(ctx, "127.0.1.1"); err == nil && len(names) > 0 {
					hosts = append(hosts, "127.0.1.1")
				}
			}
			p := cmp.Or(addrs[0].Port, port, cfg.NSPort)
			for _, h := range hosts {
				if lc.avoids(nsURIText(h, p)) {
					continue
				}
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
			ns, err := locateByBroadcast(ctx, cfg, port, popts, lc.avoid)
			if err == nil {
				return ns, nil
			}
			if ctx.Err() != nil || listErr != nil {
				return nil, fail(errors.Join(listErr, err))
			}
		}
		ns, err := bindNS(ctx, cfg, addrs[0].uriText(cfg.NSPort), popts)
		if err != nil {
			return nil, fail(err)
		}
		return ns, nil
	}
	addrs := []NSAddr{{Host: host}}
	if !lc.uriHost {
		var err error
		if addrs, err = ParseNSHosts(host); err != nil {
			return nil, nsListError(err)
		}
	}
	if port == 0 {
		port = cfg.NSPort
	}
	if len(addrs) > 1 {
		ns, err := locateList(ctx, cfg, lc.without(addrs, port), port, popts)
		if err != nil {
			return nil, fail(err)
		}
		return ns, nil
	}
	ns, err := bindNS(ctx, cfg, addrs[0].uriText(port), popts)
	if err != nil {
		return nil, fail(err)
	}
	return ns, nil
}

// avoids reports whether the name server at the URI text is the one to
// avoid.
func (lc *locateConfig) avoids(text string) bool {
	if lc.avoid == nil {
		return false
	}
	u, err := pyro.ParseURI(text)
	return err == nil && u.Equal(*lc.avoid)
}

// without is addrs without the name server to avoid, unless that is all
// there is.
func (lc *locateConfig) without(addrs []NSAddr, defPort int) []NSAddr {
	if lc.avoid == nil {
		return addrs
	}
	kept := make([]NSAddr, 0, len(addrs))
	for _, a := range addrs {
		if !lc.avoids(a.uriText(defPort)) {
			kept = append(kept, a)
		}
	}
	if len(kept) == 0 {
		return addrs
	}
	return kept
}

// nsStagger is how long Locate waits for one name server of a list
// before it tries the next one as well (a dead one that refuses
// connections lets the next start at once).
var nsStagger = 250 * time.Millisecond

// locateList connects to the name servers of a list in order, with a
// head start of nsStagger for each (as Happy Eyeballs does for
// addresses): the first one is tried alone; when it fails, or has not
// answered within nsStagger, the next one is tried too, and so on. The
// first name server that answers ping() wins; the attempts still running
// are cancelled and waited for. Each attempt is bounded by COMMTIMEOUT,
// or verifyTimeout without one, so a name server that accepts
// connections but never answers costs nsStagger of delay and one
// goroutine for at most that bound.
func locateList(ctx context.Context, cfg *pyro.Config, addrs []NSAddr, defPort int, popts []pyro.ProxyOption) (*pyro.Proxy, error) {
	type result struct {
		i   int
		p   *pyro.Proxy
		err error
	}
	timeout := verifyTimeout
	if cfg.CommTimeout > 0 {
		timeout = cfg.CommTimeout
	}
	actx, cancel := context.WithCancel(ctx)
	results := make(chan result, len(addrs))
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		close(results)
		for r := range results { // answered too late
			if r.p != nil {
				r.p.Close()
			}
		}
	}()
	next := 0
	start := func() {
		i := next
		next++
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, stop := context.WithTimeout(actx, timeout)
			defer stop()
			p, err := bindNS(cctx, cfg, addrs[i].uriText(defPort), popts)
			results <- result{i: i, p: p, err: err}
		}()
	}
	errs := make([]error, len(addrs))
	start()
	running := 1
	stagger := time.NewTimer(nsStagger)
	defer stagger.Stop()
	for running > 0 {
		select {
		case r := <-results:
			running--
			if r.err == nil {
				return r.p, nil
			}
			errs[r.i] = fmt.Errorf("%s: %w", addrs[r.i], r.err)
			if next < len(addrs) {
				start()
				running++
				stagger.Reset(nsStagger)
			}
		case <-stagger.C:
			if next < len(addrs) {
				start()
				running++
				stagger.Reset(nsStagger)
			}
		case <-ctx.Done():
			return nil, &pyro.Error{Class: pyro.ErrNaming, Msg: "name server list: " + ctx.Err().Error(), Err: errors.Join(append(errs, ctx.Err())...)}
		}
	}
	return nil, &pyro.Error{Class: pyro.ErrNaming,
		Msg: fmt.Sprintf("none of the %d name servers of the list answered", len(addrs)), Err: errors.Join(errs...)}
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
func locateByBroadcast(ctx context.Context, cfg *pyro.Config, port int, popts []pyro.ProxyOption, avoid *pyro.URI) (*pyro.Proxy, error) {
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
		if avoid != nil && u.Equal(*avoid) {
			return false // the name server just lost: wait for another
		}
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
