package naming

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/pyrogo/pyro"
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

var opNames = []struct {
	name string
	op   Op
}{
	{"connect", OpConnect},
	{"broadcast", OpBroadcast},
	{"register", OpRegister},
	{"remove", OpRemove},
	{"lookup", OpLookup},
	{"list", OpList},
}

// String names the operations, comma separated ("all" for OpAll).
func (o Op) String() string {
	if o == OpAll {
		return "all"
	}
	var parts []string
	for _, n := range opNames {
		if o&n.op != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ",")
}

// named reports whether the operation concerns a name (name and prefix
// conditions apply to it).
func (o Op) named() bool { return o&(OpRegister|OpRemove|OpLookup|OpList) != 0 }

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
type Policy struct {
	rules []Rule
}

// NewPolicy returns a policy of rules, in order.
func NewPolicy(rules ...Rule) *Policy {
	return &Policy{rules: append([]Rule(nil), rules...)}
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
	sc := bufio.NewScanner(r)
	p := &Policy{}
	line := 0
	for sc.Scan() {
		line++
		rule, ok, err := parseRule(sc.Text())
		if err != nil {
			return nil, &PolicyError{Line: line, Msg: err.Error()}
		}
		if ok {
			rule.Line = line
			p.rules = append(p.rules, rule)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// ParsePolicyString parses a policy given as text.
func ParsePolicyString(s string) (*Policy, error) { return ParsePolicy(strings.NewReader(s)) }

// parseRule parses one line; ok is false for a blank or comment line.
func parseRule(text string) (Rule, bool, error) {
	var fields []string
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "#") {
			break
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		return Rule{}, false, nil
	}
	var r Rule
	switch fields[0] {
	case "allow":
		r.Allow = true
	case "deny":
	default:
		return r, false, fmt.Errorf("rule must start with allow or deny, not %q", fields[0])
	}
	if len(fields) < 2 || strings.Contains(fields[1], "=") {
		return r, false, errors.New("missing operations (connect, broadcast, register, remove, lookup, list or all)")
	}
	for _, o := range strings.Split(fields[1], ",") {
		switch o {
		case "all", "*":
			r.Ops |= OpAll
			continue
		case "discover":
			o = "broadcast"
		}
		found := false
		for _, n := range opNames {
			if n.name == o {
				r.Ops |= n.op
				found = true
			}
		}
		if !found {
			return r, false, fmt.Errorf("unknown operation %q", o)
		}
	}
	for _, f := range fields[2:] {
		key, val, ok := strings.Cut(f, "=")
		if !ok {
			return r, false, fmt.Errorf("condition %q is not key=value", f)
		}
		vals := strings.Split(val, ",")
		for _, v := range vals {
			if v == "" {
				return r, false, fmt.Errorf("empty value in %q", f)
			}
		}
		switch key {
		case "name":
			r.Names = append(r.Names, vals...)
		case "prefix":
			r.Prefixes = append(r.Prefixes, vals...)
		case "identity":
			r.Identities = append(r.Identities, vals...)
		case "cn":
			r.CommonNames = append(r.CommonNames, vals...)
		case "host":
			for _, v := range vals {
				if v == "unix" {
					r.UnixHosts = true
					continue
				}
				pfx, err := parseHost(v)
				if err != nil {
					return r, false, err
				}
				r.Hosts = append(r.Hosts, pfx)
			}
		default:
			return r, false, fmt.Errorf("unknown condition %q (want name, prefix, identity, cn or host)", key)
		}
	}
	return r, true, nil
}

// parseHost parses an IP address or CIDR range.
func parseHost(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return p, fmt.Errorf("bad host range %q", v)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad host address %q", v)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// PolicyPeer is what a policy knows of a client.
type PolicyPeer struct {
	// Addr is the client's address.
	Addr net.Addr
	// Identity is the passphrase identity ("" if none).
	Identity string
	// CommonName is the subject common name of the client's verified
	// certificate ("" if none).
	CommonName string
	// identityUnknown: the identity is not known yet (connection time).
	identityUnknown bool
}

// tri is a three-valued match result.
type tri int8

const (
	no tri = iota
	yes
	unknown
)

// Allowed reports whether the policy lets peer do op on name (name is
// ignored for OpConnect and OpBroadcast), and the rule that decided (nil
// when none applied and the default denial did).
func (p *Policy) Allowed(op Op, peer PolicyPeer, name string) (bool, *Rule) {
	ok, r, _ := p.decide(op, peer, name)
	return ok, r
}

// decide is Allowed with the undecided case: decided is false when a rule
// that may apply depends on the identity and peer.identityUnknown.
func (p *Policy) decide(op Op, peer PolicyPeer, name string) (allowed bool, rule *Rule, decided bool) {
	for i := range p.rules {
		r := &p.rules[i]
		switch r.matches(op, peer, name) {
		case yes:
			return r.Allow, r, true
		case unknown:
			return false, nil, false
		}
	}
	return false, nil, true
}

func (r *Rule) matches(op Op, peer PolicyPeer, name string) tri {
	if r.Ops&op == 0 {
		return no
	}
	if op.named() && (len(r.Names) > 0 || len(r.Prefixes) > 0) {
		ok := false
		for _, pat := range r.Names {
			if globMatch(pat, name) {
				ok = true
				break
			}
		}
		for _, pre := range r.Prefixes {
			if strings.HasPrefix(name, pre) {
				ok = true
				break
			}
		}
		if !ok {
			return no
		}
	}
	if len(r.Hosts) > 0 || r.UnixHosts {
		if !r.hostMatches(peer.Addr) {
			return no
		}
	}
	if len(r.CommonNames) > 0 && !anyGlob(r.CommonNames, peer.CommonName) {
		return no
	}
	if len(r.Identities) > 0 {
		if peer.identityUnknown {
			return unknown
		}
		if !anyGlob(r.Identities, peer.Identity) {
			return no
		}
	}
	return yes
}

func (r *Rule) hostMatches(a net.Addr) bool {
	if _, ok := a.(*net.UnixAddr); ok {
		return r.UnixHosts
	}
	var ip netip.Addr
	switch x := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(x.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(x.IP)
	case nil:
		return false
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return false
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	for _, h := range r.Hosts {
		if h.Contains(ip) {
			return true
		}
	}
	return false
}

// anyGlob matches s against patterns; "" (absent) never matches.
func anyGlob(patterns []string, s string) bool {
	if s == "" {
		return false
	}
	for _, p := range patterns {
		if globMatch(p, s) {
			return true
		}
	}
	return false
}

// globMatch reports whether s fits pattern, where "*" stands for any run
// of characters (dots included) and "?" for one character.
func globMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// ValidateConn implements pyro.ConnValidator: it refuses a connection the
// policy's connect rules deny, judging by host and TLS certificate. A
// decision that needs the passphrase identity is left to the calls.
func (p *Policy) ValidateConn(_ context.Context, conn *pyro.ConnInfo) (func(), error) {
	peer := PolicyPeer{Addr: conn.RemoteAddr, CommonName: verifiedCommonName(conn.TLS), identityUnknown: true}
	ok, _, decided := p.decide(OpConnect, peer, "")
	if decided && !ok {
		return nil, errors.New(pyro.ReasonSecurity + ": name server policy does not allow connections from " + hostOf(conn.RemoteAddr))
	}
	return nil, nil
}

// AllowsBroadcast reports whether a broadcast discovery request from ip
// gets an answer.
func (p *Policy) AllowsBroadcast(ip net.IP) bool {
	ok, _ := p.Allowed(OpBroadcast, PolicyPeer{Addr: &net.UDPAddr{IP: ip}}, "")
	return ok
}

func hostOf(a net.Addr) string {
	if a == nil {
		return "unknown peer"
	}
	if _, ok := a.(*net.UnixAddr); ok {
		return "unix socket"
	}
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

// WithPolicy makes the name server enforce p (see Policy): connections
// are checked by p as a connection validator, every remote call of the
// name server by p's interceptor (Policy.Interceptor), and broadcast
// requests by the responder. nil means no policy (everything allowed).
func WithPolicy(p *Policy) ServerOption {
	return serverOption(func(o *serverConfig) { o.policy = p })
}
