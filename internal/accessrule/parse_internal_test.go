package accessrule

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		v    *Vocabulary
		text string
		line int
		want string
	}{
		{NamingVocabulary, "permit all", 1, `rule must start with allow or deny, not "permit"`},
		{NamingVocabulary, "# c\nallow", 2, "missing operations (connect, broadcast, register, remove, lookup, list or all)"},
		{NamingVocabulary, "allow lookup user=bob", 1, `unknown condition "user" (want name, prefix, identity, cn or host)`},
		{NamingVocabulary, "allow lookup subject=x", 1, `unknown condition "subject"`},
		{NamingVocabulary, "allow publish", 1, `unknown operation "publish"`},
		{EventVocabulary, "allow connect\n\nallow register subject=x", 3, `unknown operation "register"`},
		{EventVocabulary, "allow subscribe,discover", 1, `unknown operation "discover"`},
		{EventVocabulary, "allow", 1, "missing operations (connect, publish, subscribe, match, thirdparty or all)"},
		{EventVocabulary, "allow publish name=x", 1, `unknown condition "name" (want subject, prefix, identity, cn or host)`},
		{EventVocabulary, "allow publish subject=", 1, "empty value"},
		{EventVocabulary, "allow publish,", 1, `unknown operation ""`},
		{EventVocabulary, "# a\n# b\nallow publish host=1.2.3.999", 3, `bad host address "1.2.3.999"`},
		{EventVocabulary, "allow publish host=::1/129", 1, `bad host range "::1/129"`},
		{EventVocabulary, "deny thirdparty subject", 1, `condition "subject" is not key=value`},
	} {
		_, err := ParseString(tc.v, tc.text)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != tc.line || !strings.Contains(err.Error(), tc.want) ||
			!strings.HasPrefix(err.Error(), "policy line ") {
			t.Errorf("%s %q: %v, want line %d %q", tc.v.Service, tc.text, err, tc.line, tc.want)
		}
	}
	// a line beyond the scanner's limit is an error, not a truncated rule
	_, err := ParseString(EventVocabulary, "allow publish subject="+strings.Repeat("a", bufio.MaxScanTokenSize))
	if !errors.Is(err, bufio.ErrTooLong) {
		t.Errorf("overlong line: %v", err)
	}
}

// An event server policy in the shared syntax, parsed and evaluated.
func TestEventPolicy(t *testing.T) {
	p, err := ParseEventPolicyString(`# event server
deny all host=10.0.0.0/8
allow connect
allow publish subject=Lab.* identity=alice   # alice publishes lab events
allow publish prefix=pub. cn=sensor-?
allow subscribe,match host=127.0.0.0/8,::1,unix
allow thirdparty subject=lab.* host=127.0.0.1
allow * identity=root
`)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Rules()); n != 7 {
		t.Fatalf("%d rules", n)
	}
	if r := p.Rules()[2]; r.Line != 4 || r.Ops != EventPublish || r.Names[0] != "Lab.*" {
		t.Errorf("rule 2: %+v", r)
	}
	if r := p.Rules()[6]; r.Ops != EventVocabulary.All() {
		t.Errorf("rule 6: %+v", r)
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
	other := &net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 4000}
	lab := &net.TCPAddr{IP: net.ParseIP("10.1.1.1"), Port: 4000}
	unix := &net.UnixAddr{Name: "/tmp/es.sock", Net: "unix"}
	for _, tc := range []struct {
		op      Op
		peer    Peer
		subject string
		want    bool
		rule    int
	}{
		{EventConnect, Peer{Addr: other}, "", true, 1},
		{EventConnect, Peer{Addr: lab, Identity: "root"}, "", false, 0}, // first match wins
		{EventPublish, Peer{Addr: other, Identity: "alice"}, "lab.temp", true, 2},
		{EventPublish, Peer{Addr: other, Identity: "alice"}, "LAB.TEMP", true, 2}, // subjects fold case
		{EventPublish, Peer{Addr: other, Identity: "alice"}, "lab", false, -1},
		{EventPublish, Peer{Addr: other, Identity: "bob"}, "lab.temp", false, -1},
		{EventPublish, Peer{Addr: other, CommonName: "sensor-1"}, "PUB.x", true, 3},
		{EventPublish, Peer{Addr: other, CommonName: "Sensor-1"}, "pub.x", false, -1}, // cn is case-sensitive
		{EventSubscribe, Peer{Addr: local}, "anything", true, 4},
		{EventSubscribe, Peer{Addr: &net.TCPAddr{IP: net.IPv6loopback}}, "x", true, 4},
		{EventSubscribe, Peer{Addr: unix}, "x", true, 4},
		{EventMatch, Peer{Addr: local}, "", true, 4},
		{EventSubscribe, Peer{Addr: other}, "x", false, -1},
		{EventThirdParty, Peer{Addr: local}, "lab.x", true, 5},
		{EventThirdParty, Peer{Addr: local}, "pub.x", false, -1}, // default deny: the flood case
		{EventThirdParty, Peer{Addr: other}, "lab.x", false, -1},
		{EventThirdParty, Peer{Addr: other, Identity: "root"}, "pub.x", true, 6},
		{EventThirdParty, Peer{}, "lab.x", false, -1}, // no address matches no host rule
	} {
		ok, i := p.Allowed(tc.op, tc.peer, tc.subject)
		if ok != tc.want || i != tc.rule {
			t.Errorf("%s %+v %q: %v by rule %d, want %v by %d", EventVocabulary.Format(tc.op), tc.peer, tc.subject, ok, i, tc.want, tc.rule)
		}
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "es.policy")
	if err := os.WriteFile(path, []byte("allow connect\nallow publish subject=a.*\nallow fly\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadEventPolicy(path)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 3 || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadEventPolicy: %v", err)
	}
	if _, err := Load(NamingVocabulary, filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFormat(t *testing.T) {
	r := Rule{Allow: true, Ops: EventPublish | EventSubscribe, Names: []string{"a.*", "b"}, Prefixes: []string{"c."},
		Identities: []string{"#0"}, CommonNames: []string{"x?"}, Hosts: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, UnixHosts: true}
	got, err := EventVocabulary.FormatRule(r)
	if want := "allow publish,subscribe subject=a.*,b prefix=c. identity=#0 cn=x? host=10.0.0.0/8,unix"; err != nil || got != want {
		t.Errorf("FormatRule: %q %v, want %q", got, err, want)
	}
	if got, _ := NamingVocabulary.FormatRule(Rule{Ops: NamingVocabulary.All()}); got != "deny all" {
		t.Errorf("deny all: %q", got)
	}
	for _, bad := range []Rule{
		{Ops: 0},
		{Ops: 1 << 20},
		{Ops: EventPublish, Names: []string{"a,b"}},
		{Ops: EventPublish, Names: []string{"a b"}},
		{Ops: EventPublish, Identities: []string{""}},
		{Ops: EventPublish, CommonNames: []string{"a\u00a0b"}},
		{Ops: EventPublish, Hosts: []netip.Prefix{{}}},
		{Ops: EventPublish, Hosts: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")}},
	} {
		if s, err := EventVocabulary.FormatRule(bad); err == nil {
			t.Errorf("%+v formatted as %q", bad, s)
		}
	}
}
