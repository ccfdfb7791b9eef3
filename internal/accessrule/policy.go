package accessrule

import (
	"net/netip"
)

// Rule is one line of a policy: it allows or denies Ops to the clients
// that meet all of its conditions. An empty condition list places no
// restriction; within one list any entry may match.
type Rule struct {
	// Allow is true for an allow rule, false for a deny rule.
	Allow bool
	// Ops are the operations the rule applies to.
	Ops Op
	// Names are glob patterns of the operation's object (the
	// vocabulary's ObjectKey: a name, a subject); Prefixes are plain
	// prefixes of it. A rule that has either matches an object that
	// fits any of them. They are checked only for the vocabulary's named
	// operations.
	Names, Prefixes []string
	// Identities are glob patterns of the passphrase identity; a client
	// without one matches none.
	Identities []string
	// CommonNames are glob patterns of the subject common name of the
	// client's verified TLS certificate; a client without one matches none.
	CommonNames []string
	// Hosts are the client's IP address ranges; UnixHosts matches
	// clients on a unix socket.
	Hosts     []netip.Prefix
	UnixHosts bool
	// Line is the rule's line in a policy file (0 when made in code).
	Line int
}

// Policy is an ordered list of rules in a vocabulary's words. For each
// operation the first rule that applies to it and whose conditions the
// client (and the object) meet decides; when none does, the operation is
// denied. A Policy is not changed after it is made and is safe for
// concurrent use.
type Policy struct {
	vocab *Vocabulary
	rules []Rule
}

// New returns a policy of rules, in order, in v's words.
func New(v *Vocabulary, rules ...Rule) *Policy {
	return &Policy{vocab: v, rules: append([]Rule(nil), rules...)}
}

// Vocabulary returns the policy's vocabulary.
func (p *Policy) Vocabulary() *Vocabulary { return p.vocab }

// Rules returns a copy of the policy's rules.
func (p *Policy) Rules() []Rule { return append([]Rule(nil), p.rules...) }

// tri is a three-valued match result.
type tri int8

const (
	no tri = iota
	yes
	unknown
)

// Allowed reports whether the policy lets peer do op on object (object is
// ignored for operations that concern none), and the index in Rules of
// the rule that decided (-1 when none applied and the default denial
// did). A rule on the identity of a peer whose identity is not known yet
// does not match.
func (p *Policy) Allowed(op Op, peer Peer, object string) (bool, int) {
	peer.IdentityUnknown = false
	ok, i, _ := p.Decide(op, peer, object)
	return ok, i
}

// Decide is Allowed for a peer whose identity may not be known yet
// (Peer.IdentityUnknown): decided is false when the first rule that may
// apply depends on the identity, and then allowed is false and rule -1.
func (p *Policy) Decide(op Op, peer Peer, object string) (allowed bool, rule int, decided bool) {
	named := op&p.vocab.named() != 0
	for i := range p.rules {
		r := &p.rules[i]
		switch r.matches(op, named, p.vocab.FoldCase, peer, object) {
		case yes:
			return r.Allow, i, true
		case unknown:
			return false, -1, false
		}
	}
	return false, -1, true
}

func (r *Rule) matches(op Op, named, fold bool, peer Peer, object string) tri {
	if r.Ops&op == 0 {
		return no
	}
	if named && (len(r.Names) > 0 || len(r.Prefixes) > 0) {
		ok := false
		for _, pat := range r.Names {
			if Glob(pat, object, fold) {
				ok = true
				break
			}
		}
		for _, pre := range r.Prefixes {
			if ok {
				break
			}
			if hasPrefix(object, pre, fold) {
				ok = true
				break
			}
		}
		if !ok {
			return no
		}
	}
	if len(r.Hosts) > 0 || r.UnixHosts {
		if !hostMatches(r.Hosts, r.UnixHosts, peer.Addr) {
			return no
		}
	}
	if len(r.CommonNames) > 0 && !anyGlob(r.CommonNames, peer.CommonName) {
		return no
	}
	if len(r.Identities) > 0 {
		if peer.IdentityUnknown {
			return unknown
		}
		if !anyGlob(r.Identities, peer.Identity) {
			return no
		}
	}
	return yes
}
