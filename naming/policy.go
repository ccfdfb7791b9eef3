package naming

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/accessrule"
)

// Op is a set of name server operations a policy rule applies to.
type Op uint8

// The operations of a Policy. OpConnect covers connecting and the calls
// that concern no name (ping, count); OpBroadcast is getting an answer
// from broadcast discovery; OpRegister covers register and set_metadata;
// OpRemove is remove; OpLookup is lookup; OpList is list (and so
// PYROMETA: resolution). Every answer is computed over the names the
// client may list: list, count, and remove by prefix or regex see only
// those; register with safe, set_metadata and remove by name also need
// OpLookup or OpList on the name, since their answer tells whether it
// exists.
const (
	OpConnect Op = 1 << iota
	OpBroadcast
	OpRegister
	OpRemove
	OpLookup
	OpList

	// OpAll is every operation.
	OpAll = OpConnect | OpBroadcast | OpRegister | OpRemove | OpLookup | OpList
)

// String names the operations, comma separated ("all" for OpAll).
func (o Op) String() string { return accessrule.NamingVocabulary.Format(accessrule.Op(o)) }

// Rule is one line of a Policy: it allows or denies Ops to the clients
// that meet all of its conditions. An empty condition list places no
// restriction. Within one list, any entry may match.
type Rule struct {
	// Allow is true for an allow rule, false for a deny rule.
	Allow bool
	// Ops are the operations the rule applies to.
	Ops Op
	// Names are glob patterns of names ("*" any run of characters, "?"
	// one character); Prefixes are plain name prefixes. A rule that has
	// either matches a name that fits any of them. They are not checked
	// for OpConnect and OpBroadcast.
	Names, Prefixes []string
	// Identities are glob patterns of passphrase identity names (see
	// pyro.ConnInfo.Identity); a client that did not authenticate with
	// a passphrase matches none.
	Identities []string
	// CommonNames are glob patterns of the subject common name of the
	// client's verified TLS certificate; a client without one matches none.
	CommonNames []string
	// Hosts are the client's IP address ranges (a single address is a /32
	// or /128 prefix). UnixHosts matches clients on a unix socket.
	Hosts     []netip.Prefix
	UnixHosts bool
	// Line is the rule's line in a policy file (0 when made in code).
	Line int
}

// Policy is a name server access policy: an ordered list of rules. For
// each operation the first rule that applies to the operation and whose
// conditions the client (and the name) meet decides; when none does, the
// operation is denied. A name server without a policy lets every client
// that connects do everything, as Pyro's does. Build a policy with
// NewPolicy, ParsePolicy or LoadPolicy and give it to the server with
// WithPolicy; it must not be changed afterwards. A Policy is safe for
// concurrent use.
//
// The policy file format has one rule per line:
//
//	allow|deny OPS [KEY=VALUE[,VALUE...]]...
//
// OPS is a comma-separated list of connect, broadcast, register, remove,
// lookup, list, or all. KEY is name (glob pattern), prefix (name prefix),
// identity (passphrase identity name, glob), cn (certificate common name,
// glob) or host (IP address, CIDR range, or "unix" for unix socket
// clients). A key may be repeated; its values add up. Blank lines are
// ignored, and "#" starts a comment at the beginning of a line or after
// white space. For example:
//
//	deny all host=10.0.0.0/8
//	allow connect
//	allow register,remove name=lab.* identity=alice
//	allow lookup,list name=* host=127.0.0.0/8
//
// Connection rules are checked when a connection arrives, with what the
// connection tells (host, TLS certificate); a rule that depends on the
// passphrase identity is checked again on each call, once the identity
// is known, so such a refusal arrives as a SecurityError on the first call.
//
// The syntax and its evaluation are those of every pyrogo service's
// policy (the event server's too, with its own operations): one engine,
// internal/accessrule, parses and decides for all.
type Policy struct {
	rules []Rule
	eng   *accessrule.Policy // rules in the engine's terms; nil: none
}

// NewPolicy returns a policy of rules, in order.
func NewPolicy(rules ...Rule) *Policy {
	p := &Policy{rules: append([]Rule(nil), rules...)}
	eng := make([]accessrule.Rule, len(p.rules))
	for i, r := range p.rules {
		eng[i] = accessrule.Rule{Allow: r.Allow, Ops: accessrule.Op(r.Ops), Names: r.Names, Prefixes: r.Prefixes,
			Identities: r.Identities, CommonNames: r.CommonNames, Hosts: r.Hosts, UnixHosts: r.UnixHosts, Line: r.Line}
	}
	p.eng = accessrule.New(accessrule.NamingVocabulary, eng...)
	return p
}

// engine is the policy in the engine's terms (an empty one for a zero
// Policy, which denies everything).
func (p *Policy) engine() *accessrule.Policy {
	if p.eng == nil {
		return accessrule.New(accessrule.NamingVocabulary)
	}
	return p.eng
}

// Rules returns a copy of the policy's rules.
func (p *Policy) Rules() []Rule { return append([]Rule(nil), p.rules...) }

// PolicyError is a syntax error in a policy file.
type PolicyError struct {
	Line int
	Msg  string
}

func (e *PolicyError) Error() string { return fmt.Sprintf("policy line %d: %s", e.Line, e.Msg) }

// LoadPolicy reads a policy file (see Policy for the format).
func LoadPolicy(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := ParsePolicy(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy parses a policy (see Policy for the format). A syntax error
// is a *PolicyError naming the line.
func ParsePolicy(r io.Reader) (*Policy, error) {
	eng, err := accessrule.Parse(accessrule.NamingVocabulary, r)
	if se := (*accessrule.SyntaxError)(nil); errors.As(err, &se) {
		return nil, &PolicyError{Line: se.Line, Msg: se.Msg}
	}
	if err != nil {
		return nil, err
	}
	rules := eng.Rules()
	p := &Policy{rules: make([]Rule, len(rules)), eng: eng}
	for i, r := range rules {
		p.rules[i] = Rule{Allow: r.Allow, Ops: Op(r.Ops), Names: r.Names, Prefixes: r.Prefixes,
			Identities: r.Identities, CommonNames: r.CommonNames, Hosts: r.Hosts, UnixHosts: r.UnixHosts, Line: r.Line}
	}
	return p, nil
}

// ParsePolicyString parses a policy given as text.
func ParsePolicyString(s string) (*Policy, error) { return ParsePolicy(strings.NewReader(s)) }

// PolicyPeer is what a policy knows of a client.
type PolicyPeer struct {
	// Addr is the client's address.
	Addr net.Addr
	// Identity is the passphrase identity ("" if none).
	Identity string
	// CommonName is the subject common name of the client's verified
	// certificate ("" if none).
	CommonName string
}

// Allowed reports whether the policy lets peer do op on name (name is
// ignored for OpConnect and OpBroadcast), and the rule that decided (nil
// when none applied and the default denial did).
func (p *Policy) Allowed(op Op, peer PolicyPeer, name string) (bool, *Rule) {
	ok, i := p.engine().Allowed(accessrule.Op(op), peer.engine(), name)
	if i < 0 {
		return ok, nil
	}
	return ok, &p.rules[i]
}

// engine is the peer in the engine's terms.
func (pp PolicyPeer) engine() accessrule.Peer {
	return accessrule.Peer{Addr: pp.Addr, Identity: pp.Identity, CommonName: pp.CommonName}
}

// globMatch reports whether s fits pattern, where "*" stands for any run
// of characters (dots included) and "?" for one character.
func globMatch(pattern, s string) bool { return accessrule.Glob(pattern, s, false) }

// ValidateConn implements pyro.ConnValidator: it refuses a connection the
// policy's connect rules deny, judging by host and TLS certificate. A
// decision that needs the passphrase identity is left to the calls.
func (p *Policy) ValidateConn(_ context.Context, conn *pyro.ConnInfo) (func(), error) {
	return nil, p.engine().ValidateConn(conn, accessrule.Op(OpConnect))
}

// AllowsBroadcast reports whether a broadcast discovery request from ip
// gets an answer.
func (p *Policy) AllowsBroadcast(ip net.IP) bool {
	ok, _ := p.Allowed(OpBroadcast, PolicyPeer{Addr: &net.UDPAddr{IP: ip}}, "")
	return ok
}

// WithPolicy makes the name server enforce p (see Policy): connections
// are checked by p as a connection validator, every remote call of the
// name server by p's interceptor (Policy.Interceptor), and broadcast
// requests by the responder. nil means no policy (everything allowed).
func WithPolicy(p *Policy) ServerOption {
	return serverOption(func(o *serverConfig) { o.policy = p })
}
