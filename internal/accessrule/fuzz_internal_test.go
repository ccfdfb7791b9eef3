package accessrule

import (
	"bufio"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: any text either parses, or fails with a *SyntaxError on one
// of its lines (or bufio.ErrTooLong); what parses prints, and the printed
// policy parses to the same rules; evaluating it never panics.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./internal/accessrule
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "# comment\n\n", "allow all", "deny *", "allow connect,broadcast\nallow discover",
		"deny all host=10.0.0.0/8   # no lab network\nallow register,remove name=lab.* identity=alice,#1 cn=client?",
		"allow lookup,list prefix=lab. prefix=pub. host=127.0.0.1,::1/128,unix",
		"allow publish subject=Lab.* identity=alice\nallow subscribe,match host=::ffff:127.0.0.1",
		"allow thirdparty subject=a=b,c host=fe80::1%eth0", "allow lookup name=a,,b", "permit all",
		"allow publish host=1.2.3.4/33", "allow\tconnect\r\n\u0085allow publish", "deny connect subject=\xff\xfe",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, text string, events bool) {
		v := NamingVocabulary
		if events {
			v = EventVocabulary
		}
		p, err := ParseString(v, text)
		if err != nil {
			var se *SyntaxError
			lines := strings.Count(text, "\n") + 1
			if errors.As(err, &se) {
				if se.Line < 1 || se.Line > lines {
					t.Fatalf("error on line %d of %d: %v", se.Line, lines, err)
				}
			} else if !errors.Is(err, bufio.ErrTooLong) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		printed, err := p.Format()
		if err != nil {
			t.Fatalf("parsed policy does not print: %v", err)
		}
		q, err := ParseString(v, printed)
		if err != nil {
			t.Fatalf("printed policy %q does not parse: %v", printed, err)
		}
		if !reflect.DeepEqual(nilEmpty(p.Rules()), nilEmpty(q.Rules())) {
			t.Fatalf("%q printed as %q parses to %+v, not %+v", text, printed, q.Rules(), p.Rules())
		}
		for _, op := range v.Ops {
			for _, peer := range []Peer{{}, {Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, Identity: "alice", CommonName: "c"},
				{Addr: &net.UnixAddr{Name: "s"}, IdentityUnknown: true}} {
				ok, i, decided := p.Decide(op.Op, peer, "lab.x")
				if i >= len(p.Rules()) || ok && (i < 0 || !decided) {
					t.Fatalf("Decide: %v %d %v", ok, i, decided)
				}
			}
		}
	})
}
