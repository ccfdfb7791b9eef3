package events

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/accessrule"
)

// The third-party rule: a remote client may only subscribe subscriber
// objects on its own host, unless the policy's thirdparty rules let it.
// Otherwise anyone who may subscribe could make the event server send
// every event of a busy subject to a host of their choosing (and retry it
// there), turning the server against a third party.

// resolveTimeout bounds the lookup of a subscriber URI's host name.
const resolveTimeout = 2 * time.Second

// resumeResolveTimeout bounds all the lookups of a restart together, so
// that stored host names whose lookups hang (up to 1024 subscribers, 2 s
// each) cannot hold the service's start for half an hour.
const resumeResolveTimeout = 10 * time.Second

// subscriberTarget checks that the subscriber u may be subscribed by the
// caller of ctx and returns the URI the service delivers to: u itself,
// or, for a host name subscribed by a client on another machine, u with
// the host replaced by the client's own address (so that the name cannot
// be made to point elsewhere between the check and the delivery). Local
// Go calls are not restricted. subjects are the subjects (or patterns,
// with op EventMatch) the thirdparty rules are asked about.
func (s *Service) subscriberTarget(ctx context.Context, method string, u pyro.URI, subjects []string, pattern bool) (pyro.URI, error) {
	peer, remote := callerOf(ctx)
	if !remote {
		return u, nil
	}
	dial, same := s.sameHost(ctx, peer.Addr, u)
	if same {
		return dial, nil
	}
	if p := s.o.policy; p != nil {
		ok := true
		if pattern {
			ok = p.allowed(accessrule.EventThirdParty, peer, "")
		} else {
			for _, subj := range subjects {
				if !p.allowed(accessrule.EventThirdParty, peer, subj) {
					ok = false
					break
				}
			}
		}
		if ok {
			return u, nil
		}
	}
	return pyro.URI{}, s.denied(method+" (thirdparty)", peer, strings.Join(subjects, ","),
		"event server refuses subscriber %s: it is not on the subscribing client's host (%s), and the policy does not allow thirdparty subscribers",
		u.Location(), accessrule.HostOf(peer.Addr))
}

// sameHost reports whether the subscriber u is on the host of the client
// at client, and the URI to deliver to.
func (s *Service) sameHost(ctx context.Context, client net.Addr, u pyro.URI) (pyro.URI, bool) {
	if u.Protocol != "PYRO" {
		return u, false // a name is resolved later, to wherever it points then
	}
	clientIP, clientUnix := addrIP(client)
	var local localIPs
	clientLocal := clientUnix || local.has(clientIP)
	if u.Sockname != "" {
		return u, clientLocal
	}
	ips, named := []netip.Addr(nil), false
	if ip, err := netip.ParseAddr(u.Host); err == nil {
		ips = []netip.Addr{ip.Unmap().WithZone("")}
	} else {
		named = true
		lctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		found, err := s.o.lookup(lctx, "ip", u.Host)
		cancel()
		if err != nil || len(found) == 0 {
			return u, false
		}
		for _, ip := range found {
			ips = append(ips, ip.Unmap().WithZone(""))
		}
	}
	for _, ip := range ips {
		if ip == clientIP || clientLocal && local.has(ip) {
			continue
		}
		return u, false
	}
	if named && !clientLocal {
		// every address is the client's own: deliver there, whatever the
		// name resolves to later
		pinned := u
		pinned.Host = clientIP.String()
		return pinned, true
	}
	return u, true
}

// addrIP returns the IP of a TCP client, or unix = true for a unix
// socket client.
func addrIP(a net.Addr) (ip netip.Addr, unix bool) {
	switch x := a.(type) {
	case *net.UnixAddr:
		return netip.Addr{}, true
	case *net.TCPAddr:
		ap := x.AddrPort()
		return ap.Addr().Unmap().WithZone(""), false
	}
	if a == nil {
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap().WithZone(""), false
	}
	return netip.Addr{}, false
}

// localIPs tells whether addresses are this machine's: loopback, or one
// of its interface addresses, read at most once (one call of
// net.InterfaceAddrs per check, however many addresses a name has).
type localIPs struct {
	loaded bool
	addrs  []netip.Addr
}

func (l *localIPs) has(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.WithZone("")
	if ip.IsLoopback() {
		return true
	}
	if !l.loaded {
		l.loaded = true
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if x, ok := netip.AddrFromSlice(n.IP); ok {
					l.addrs = append(l.addrs, x.Unmap())
				}
			}
		}
	}
	for _, x := range l.addrs {
		if x == ip {
			return true
		}
	}
	return false
}

// resumeTarget applies the third-party rule to a stored subscriber after
// a restart, with the client that subscribed it: where to deliver (the
// client's own address for a host name, as subscriberTarget decided),
// and whether the subscriber is a third party to that client, so that
// its subscriptions stand only if the policy (now) allows thirdparty.
// Subscriptions made by local Go calls are not restricted.
// ctx bounds the lookups of the whole resume (resumeResolveTimeout): a
// name not resolved by then counts as another host's.
func (s *Service) resumeTarget(ctx context.Context, u pyro.URI, c Client) (dial pyro.URI, thirdParty bool) {
	peer := c.peer()
	if peer.Addr == nil {
		return u, false
	}
	dial, same := s.sameHost(ctx, peer.Addr, u)
	return dial, !same
}

// thirdPartyAllowed reports whether the policy lets the client of a
// stored subscription keep a subscriber on another host.
func (s *Service) thirdPartyAllowed(sub Sub) bool {
	if s.o.policy == nil {
		return false
	}
	subject := sub.Subject
	if sub.Kind == Pattern {
		subject = "" // as subscribeMatch asks
	}
	return s.o.policy.allowed(accessrule.EventThirdParty, sub.Client.peer(), subject)
}
