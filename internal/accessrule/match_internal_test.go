package accessrule

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
)

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, s     string
		fold, want bool
	}{
		{"*", "", false, true}, {"lab.*", "lab.printer", false, true}, {"lab.*", "lab", false, false},
		{"a?c", "abc", false, true}, {"a?c", "ac", false, false}, {"a*b*c", "aXbYbZc", false, true},
		{"lab.*", "LAB.x", false, false}, {"lab.*", "LAB.x", true, true}, {"?", "é", false, true},
		{"straße", "STRASSE", true, false}, // simple folding, as Go's (?i) regexps
		{"k", "\u212a", true, true},        // KELVIN SIGN folds to k
		{"Σ", "ς", true, true}, {"ab", "AB", false, false},
	} {
		if got := Glob(tc.pat, tc.s, tc.fold); got != tc.want {
			t.Errorf("Glob(%q, %q, %v) = %v", tc.pat, tc.s, tc.fold, got)
		}
	}
	for _, tc := range []struct {
		s, pre     string
		fold, want bool
	}{
		{"Lab.x", "lab.", true, true}, {"Lab.x", "lab.", false, false}, {"lab", "lab.", true, false},
		{"\u212a.x", "k.", true, true}, {"\xff.x", "\xfe.", true, false}, {"\xff.x", "\xff.", true, true},
		{"x", "", true, true},
	} {
		if got := hasPrefix(tc.s, tc.pre, tc.fold); got != tc.want {
			t.Errorf("hasPrefix(%q, %q, %v) = %v", tc.s, tc.pre, tc.fold, got)
		}
	}
}

// fakeAddr is an address of a network the engine does not know.
type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

func TestHostMatches(t *testing.T) {
	p, err := ParseString(NamingVocabulary, "allow connect host=127.0.0.0/8,::1\nallow connect host=unix identity=x")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 1, 2, 3)}, true},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1")}, true}, // 4in6 is unmapped
		{&net.UDPAddr{IP: net.IPv6loopback}, true},
		{&net.TCPAddr{IP: net.ParseIP("::2")}, false},
		{&net.UnixAddr{Name: "s"}, false}, // host=unix only with the identity
		{fakeAddr("127.0.0.9:80"), true},
		{fakeAddr("garbage"), false},
		{nil, false},
	} {
		if ok, _ := p.Allowed(NamingConnect, Peer{Addr: tc.addr}, ""); ok != tc.want {
			t.Errorf("%v: %v", tc.addr, ok)
		}
	}
	if ok, _ := p.Allowed(NamingConnect, Peer{Addr: &net.UnixAddr{Name: "s"}, Identity: "x"}, ""); !ok {
		t.Error("unix client with identity x refused")
	}
}

// At connection time the identity is not known: a rule on it leaves the
// decision to the calls, a rule before it still decides.
func TestDecideIdentityUnknown(t *testing.T) {
	p, err := ParseString(EventVocabulary, "deny connect host=10.0.0.0/8\nallow connect identity=alice\nallow connect cn=ok")
	if err != nil {
		t.Fatal(err)
	}
	lab := Peer{Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1)}, IdentityUnknown: true}
	if ok, i, decided := p.Decide(EventConnect, lab, ""); ok || i != 0 || !decided {
		t.Errorf("denied host: %v %d %v", ok, i, decided)
	}
	other := Peer{Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}, IdentityUnknown: true}
	if ok, i, decided := p.Decide(EventConnect, other, ""); ok || i != -1 || decided {
		t.Errorf("identity rule at connection time: %v %d %v", ok, i, decided)
	}
	// Allowed treats the identity as known (empty: matches no identity rule)
	if ok, i := p.Allowed(EventConnect, other, ""); ok || i != -1 {
		t.Errorf("Allowed with unknown identity: %v %d", ok, i)
	}
	other.CommonName = "ok"
	if ok, i := p.Allowed(EventConnect, other, ""); !ok || i != 2 {
		t.Errorf("cn=ok: %v %d", ok, i)
	}

	// the connection validator part
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "ok"}}
	conn := &pyro.ConnInfo{RemoteAddr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}}
	if err := p.ValidateConn(conn, EventConnect); err == nil ||
		err.Error() != pyro.ReasonSecurity+": event server policy does not allow connections from 10.0.0.1" {
		t.Errorf("ValidateConn from a denied host: %v", err)
	}
	conn.RemoteAddr = other.Addr
	if err := p.ValidateConn(conn, EventConnect); err != nil {
		t.Errorf("ValidateConn left to the identity: %v", err)
	}
	q, _ := ParseString(EventVocabulary, "allow connect cn=ok")
	if err := q.ValidateConn(conn, EventConnect); err == nil || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Errorf("ValidateConn without a certificate: %v", err)
	}
	// an unverified certificate does not count
	conn.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	if err := q.ValidateConn(conn, EventConnect); err == nil {
		t.Error("unverified certificate accepted")
	}
	conn.TLS.VerifiedChains = [][]*x509.Certificate{{cert}}
	if err := q.ValidateConn(conn, EventConnect); err != nil {
		t.Errorf("verified certificate: %v", err)
	}
	conn.Identity = "alice"
	if got := CallPeer(&pyro.CallContext{Conn: conn}); got.Identity != "alice" || got.CommonName != "ok" || got.Addr != conn.RemoteAddr || got.IdentityUnknown {
		t.Errorf("CallPeer: %+v", got)
	}
	if got := CallPeer(nil); got != (Peer{}) {
		t.Errorf("CallPeer(nil): %+v", got)
	}
	for a, want := range map[net.Addr]string{nil: "unknown peer", &net.UnixAddr{Name: "x"}: "unix socket",
		&net.TCPAddr{IP: net.IPv6loopback, Port: 1}: "::1", fakeAddr("odd"): "odd"} {
		if got := HostOf(a); got != want {
			t.Errorf("HostOf(%v) = %q", a, got)
		}
	}
}
