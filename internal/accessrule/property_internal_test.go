package accessrule

import (
	"net"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// a small alphabet makes matches likely; the values exclude what the
// syntax cannot hold (commas, white space) except where a test wants it.
var valueGen = rapid.StringMatching(`[a-cA-C.#=*?é\x{212a}]{1,6}`)

func vocabGen() *rapid.Generator[*Vocabulary] {
	return rapid.SampledFrom([]*Vocabulary{NamingVocabulary, EventVocabulary})
}

func optStrings(t *rapid.T, label string) []string {
	return rapid.SliceOfN(valueGen, 0, 3).Draw(t, label)
}

func ruleGen(v *Vocabulary) *rapid.Generator[Rule] {
	return rapid.Custom(func(t *rapid.T) Rule {
		r := Rule{
			Allow:       rapid.Bool().Draw(t, "allow"),
			Ops:         Op(rapid.IntRange(1, int(v.All())).Draw(t, "ops")),
			Names:       optStrings(t, "names"),
			Prefixes:    optStrings(t, "prefixes"),
			Identities:  optStrings(t, "identities"),
			CommonNames: optStrings(t, "cns"),
			UnixHosts:   rapid.Bool().Draw(t, "unix"),
		}
		for range rapid.IntRange(0, 2).Draw(t, "nhosts") {
			var a netip.Addr
			if rapid.Bool().Draw(t, "v6") {
				a = netip.AddrFrom16([16]byte{15: rapid.Byte().Draw(t, "b6")})
			} else {
				a = netip.AddrFrom4([4]byte{127, 0, 0, rapid.Byte().Draw(t, "b4")})
			}
			bits := rapid.IntRange(a.BitLen()-8, a.BitLen()).Draw(t, "bits")
			r.Hosts = append(r.Hosts, netip.PrefixFrom(a, bits).Masked())
		}
		return r
	})
}

// nilEmpty makes empty slices nil, as the parser leaves them, and
// clears Line.
func nilEmpty(rules []Rule) []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		for _, s := range []*[]string{&r.Names, &r.Prefixes, &r.Identities, &r.CommonNames} {
			if len(*s) == 0 {
				*s = nil
			}
		}
		if len(r.Hosts) == 0 {
			r.Hosts = nil
		}
		r.Line = 0
		out[i] = r
	}
	return out
}

// parse ∘ format is the identity on every rule the syntax can hold, and
// puts each rule on its line.
func TestPropFormatParse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := vocabGen().Draw(t, "vocab")
		rules := rapid.SliceOfN(ruleGen(v), 0, 5).Draw(t, "rules")
		text, err := New(v, rules...).Format()
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		p, err := ParseString(v, text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		got := p.Rules()
		for i, r := range got {
			if r.Line != i+1 {
				t.Fatalf("rule %d on line %d", i, r.Line)
			}
		}
		if !reflect.DeepEqual(nilEmpty(got), nilEmpty(rules)) {
			t.Fatalf("round trip of %q:\n got %+v\nwant %+v", text, got, rules)
		}
	})
}

// globRegexp is an independent model of Glob: a regular expression.
func globRegexp(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)")
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// modelMatch is a rule's match by the letter of its documentation.
func modelMatch(v *Vocabulary, r Rule, op Op, peer Peer, object string) bool {
	if r.Ops&op == 0 {
		return false
	}
	named := false
	for _, n := range v.Ops {
		named = named || n.Named && n.Op&op != 0
	}
	if named && len(r.Names)+len(r.Prefixes) > 0 {
		ok := false
		for _, n := range r.Names {
			ok = ok || globRegexp(n, v.FoldCase).MatchString(object)
		}
		for _, p := range r.Prefixes {
			flags := "(?s)"
			if v.FoldCase {
				flags += "(?i)"
			}
			ok = ok || regexp.MustCompile(flags+"^"+regexp.QuoteMeta(p)).MatchString(object)
		}
		if !ok {
			return false
		}
	}
	if len(r.Hosts) > 0 || r.UnixHosts {
		ok := false
		switch a := peer.Addr.(type) {
		case *net.UnixAddr:
			ok = r.UnixHosts
		case *net.TCPAddr:
			ip, _ := netip.AddrFromSlice(a.IP)
			for _, h := range r.Hosts {
				ok = ok || h.Contains(ip.Unmap())
			}
		}
		if !ok {
			return false
		}
	}
	some := func(pats []string, s string) bool {
		for _, p := range pats {
			if s != "" && globRegexp(p, false).MatchString(s) {
				return true
			}
		}
		return false
	}
	if len(r.CommonNames) > 0 && !some(r.CommonNames, peer.CommonName) {
		return false
	}
	if len(r.Identities) > 0 && !some(r.Identities, peer.Identity) {
		return false
	}
	return true
}

func peerGen() *rapid.Generator[Peer] {
	return rapid.Custom(func(t *rapid.T) Peer {
		p := Peer{Identity: rapid.SampledFrom([]string{"", "a", "b.c", "A"}).Draw(t, "id"),
			CommonName: rapid.SampledFrom([]string{"", "a", "c?", "B"}).Draw(t, "cn")}
		switch rapid.IntRange(0, 3).Draw(t, "addr") {
		case 0:
			p.Addr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, rapid.Byte().Draw(t, "b"))}
		case 1:
			p.Addr = &net.TCPAddr{IP: net.IP(netip.AddrFrom16([16]byte{15: rapid.Byte().Draw(t, "b")}).AsSlice())}
		case 2:
			p.Addr = &net.UnixAddr{Name: "s", Net: "unix"}
		}
		return p
	})
}

// The decision is the first rule that matches (by the model), and a
// denial when none does; an empty policy denies everything; a rule added
// after the deciding one changes nothing.
func TestPropFirstMatchDefaultDeny(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := vocabGen().Draw(t, "vocab")
		rules := rapid.SliceOfN(ruleGen(v), 0, 6).Draw(t, "rules")
		p := New(v, rules...)
		op := v.Ops[rapid.IntRange(0, len(v.Ops)-1).Draw(t, "op")].Op
		peer := peerGen().Draw(t, "peer")
		object := rapid.StringMatching(`[a-cA-C.é\x{212a}]{0,5}`).Draw(t, "object")

		want, wantRule := false, -1
		for i, r := range rules {
			if modelMatch(v, r, op, peer, object) {
				want, wantRule = r.Allow, i
				break
			}
		}
		got, i := p.Allowed(op, peer, object)
		if got != want || i != wantRule {
			t.Fatalf("%s %+v %q: %v by %d, model %v by %d", v.Format(op), peer, object, got, i, want, wantRule)
		}
		if ok, i := New(v).Allowed(op, peer, object); ok || i != -1 {
			t.Fatalf("empty policy allows")
		}
		if i >= 0 {
			more := New(v, append(append([]Rule(nil), rules...), ruleGen(v).Draw(t, "extra"))...)
			if ok, j := more.Allowed(op, peer, object); ok != got || j != i {
				t.Fatalf("a later rule changed the decision")
			}
		}
	})
}
