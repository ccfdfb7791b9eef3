package naming

import (
	"testing"

	"github.com/pyrogo/pyro/internal/accessrule"
)

// naming.Op and the shared engine's naming vocabulary name the same bits,
// and a naming policy prints and parses through the engine unchanged.
func TestPolicyEngineVocabulary(t *testing.T) {
	for _, tc := range []struct {
		op  Op
		eng accessrule.Op
		s   string
	}{
		{OpConnect, accessrule.NamingConnect, "connect"}, {OpBroadcast, accessrule.NamingBroadcast, "broadcast"},
		{OpRegister, accessrule.NamingRegister, "register"}, {OpRemove, accessrule.NamingRemove, "remove"},
		{OpLookup, accessrule.NamingLookup, "lookup"}, {OpList, accessrule.NamingList, "list"},
		{OpAll, accessrule.NamingVocabulary.All(), "all"}, {OpLookup | OpList, accessrule.NamingLookup | accessrule.NamingList, "lookup,list"},
	} {
		if accessrule.Op(tc.op) != tc.eng || tc.op.String() != tc.s {
			t.Errorf("%v (%#x) is engine %#x %q", tc.op, uint32(tc.op), uint32(tc.eng), tc.s)
		}
	}
	// a rule made in Go decides as the same rule parsed
	p := NewPolicy(Rule{Allow: true, Ops: OpLookup, Prefixes: []string{"lab."}, Identities: []string{"alice"}})
	q, err := ParsePolicyString("allow lookup prefix=lab. identity=alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, peer := range []PolicyPeer{{Identity: "alice"}, {Identity: "bob"}, {}} {
		for _, name := range []string{"lab.x", "lab", "Lab.x"} {
			a, ra := p.Allowed(OpLookup, peer, name)
			b, rb := q.Allowed(OpLookup, peer, name)
			if a != b || (ra == nil) != (rb == nil) || a != (peer.Identity == "alice" && name == "lab.x") {
				t.Errorf("%+v %q: NewPolicy %v %v, ParsePolicy %v %v", peer, name, a, ra, b, rb)
			}
		}
	}
	// the zero Policy denies everything, as before
	if ok, r := (&Policy{}).Allowed(OpConnect, PolicyPeer{}, ""); ok || r != nil {
		t.Errorf("zero policy: %v %v", ok, r)
	}
}
