package events

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/accessrule"
)

// Policy decides who may use the event service and how: connect, publish
// to which subjects, subscribe to which subjects, subscribe by pattern,
// and subscribe a subscriber object on another host than the client's
// own ("thirdparty"). It uses the rule syntax and engine of the name
// server's policy (pyro ns --policy), with the event server's operations:
//
//	# lines are "allow|deny OPS [condition ...]"; the first rule that
//	# matches decides; no match denies
//	allow connect
//	allow publish subject=lab.* identity=alice
//	allow subscribe,match host=127.0.0.0/8
//	allow thirdparty subject=lab.* host=10.1.2.3
//
// Conditions: subject=GLOB and prefix=P (subjects, case-insensitive;
// publish, subscribe and thirdparty), identity=GLOB (passphrase
// identity), cn=GLOB (verified client certificate common name),
// host=CIDR|unix. A publish is refused whole when one of its subjects is
// denied. A pattern subscription (match) delivers an event only when the
// policy lets its subscribing client subscribe to that event's subject.
//
// Without a Policy the service allows everything except thirdparty: a
// subscriber URI must point at the subscribing client's own host.
type Policy struct {
	engine *accessrule.Policy
}

// ParsePolicy parses a policy; a syntax error names its line.
func ParsePolicy(r io.Reader) (*Policy, error) {
	p, err := accessrule.ParseEventPolicy(r)
	if err != nil {
		return nil, err
	}
	return &Policy{engine: p}, nil
}

// ParsePolicyString parses a policy given as text.
func ParsePolicyString(s string) (*Policy, error) { return ParsePolicy(strings.NewReader(s)) }

// LoadPolicy reads a policy file (pyro es --policy FILE).
func LoadPolicy(path string) (*Policy, error) {
	p, err := accessrule.LoadEventPolicy(path)
	if err != nil {
		return nil, err
	}
	return &Policy{engine: p}, nil
}

// WithPolicy makes the service enforce p on its remote callers. The
// daemon that serves the service must also carry p.DaemonOptions (Start
// does that): they refuse connections and calls by the connect rules.
func WithPolicy(p *Policy) Option { return func(o *options) { o.policy = p } }

// Policy returns the service's policy (nil when none was given).
func (s *Service) Policy() *Policy { return s.o.policy }

// DaemonOptions returns the daemon options that enforce p's connect
// rules: a connection validator (by host and certificate, when the
// connection arrives) and an interceptor that checks every call of the
// event service (by passphrase identity too, known by then). Refusals
// are logged to logger (nil: discarded).
func (p *Policy) DaemonOptions(logger *slog.Logger) []pyro.DaemonOption {
	return []pyro.DaemonOption{pyro.WithConnValidators(p), pyro.WithInterceptors(p.Interceptor(logger))}
}

// ValidateConn implements pyro.ConnValidator: it refuses a connection
// the connect rules deny by host and certificate. A decision that needs
// the passphrase identity is left to the calls.
func (p *Policy) ValidateConn(_ context.Context, conn *pyro.ConnInfo) (func(), error) {
	return nil, p.engine.ValidateConn(conn, accessrule.EventConnect)
}

// Interceptor returns the interceptor that applies the connect rules to
// every remote call of the event service object (ObjectID). The
// per-subject rules are applied by the service's methods.
func (p *Policy) Interceptor(logger *slog.Logger) pyro.Interceptor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return pyro.InterceptorFunc(func(next pyro.CallFunc) pyro.CallFunc {
		return func(ctx context.Context, c *pyro.Call) (any, error) {
			if c.Object() != ObjectID {
				return next(ctx, c)
			}
			peer := accessrule.CallPeer(c.CallContext())
			if ok, _ := p.engine.Allowed(accessrule.EventConnect, peer, ""); !ok {
				logger.Warn("events: call denied by policy", "op", "connect", "peer", peer.Addr,
					"identity", peer.Identity, "cn", peer.CommonName)
				return nil, pyro.NewError(pyro.ErrSecurity, "event server policy does not allow this client")
			}
			return next(ctx, c)
		}
	})
}

// allowed reports whether the policy lets peer do op on subject.
func (p *Policy) allowed(op accessrule.Op, peer accessrule.Peer, subject string) bool {
	ok, _ := p.engine.Allowed(op, peer, subject)
	return ok
}

// callerOf returns the remote client of a call, and false for a local Go
// call (which no policy restricts).
func callerOf(ctx context.Context) (accessrule.Peer, bool) {
	cc := pyro.CallContextFrom(ctx)
	if cc == nil || cc.Conn == nil {
		return accessrule.Peer{}, false
	}
	return accessrule.CallPeer(cc), true
}

// clientOf is the stored form of a peer.
func clientOf(peer accessrule.Peer) Client {
	if peer.Addr == nil {
		return Client{}
	}
	return Client{Network: peer.Addr.Network(), Addr: peer.Addr.String(), Identity: peer.Identity,
		CommonName: peer.CommonName}
}

// peer is the policy's view of a stored client.
func (c Client) peer() accessrule.Peer {
	peer := accessrule.Peer{Identity: c.Identity, CommonName: c.CommonName}
	switch c.Network {
	case "unix", "unixpacket":
		peer.Addr = &net.UnixAddr{Name: c.Addr, Net: c.Network}
	case "":
	default:
		if ap, err := netip.ParseAddrPort(c.Addr); err == nil {
			peer.Addr = net.TCPAddrFromAddrPort(ap)
		}
	}
	return peer
}

// denied logs a refusal and returns its SecurityError.
func (s *Service) denied(op string, peer accessrule.Peer, subject, format string, a ...any) error {
	s.o.log.Warn("events: operation denied", "op", op, "subject", subject, "peer", peer.Addr,
		"identity", peer.Identity, "cn", peer.CommonName)
	return pyro.NewError(pyro.ErrSecurity, fmt.Sprintf(format, a...))
}

// checkSubjects refuses the call unless the policy lets its remote
// caller do op on every subject (nothing to check for local calls or
// without a policy).
func (s *Service) checkSubjects(ctx context.Context, op accessrule.Op, name string, subjects []string) error {
	peer, remote := callerOf(ctx)
	if !remote || s.o.policy == nil {
		return nil
	}
	for _, subj := range subjects {
		if !s.o.policy.allowed(op, peer, subj) {
			return s.denied(name, peer, subj, "event server policy denies %s of %q", name, subj)
		}
	}
	return nil
}

// patternAllows reports whether a pattern subscription made by client may
// deliver an event of subject: the policy must let that client subscribe
// to the subject (local Go subscriptions and services without a policy
// are not restricted).
func (s *Service) patternAllows(client Client, subject string) bool {
	if s.o.policy == nil || client.Network == "" {
		return true
	}
	return s.o.policy.allowed(accessrule.EventSubscribe, client.peer(), subject)
}
