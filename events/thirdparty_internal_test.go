package events

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/pyrogo/pyro"
)

// fakeNames is a resolver of a few names, for the third-party tests.
func fakeNames(_ context.Context, _, host string) ([]netip.Addr, error) {
	names := map[string][]netip.Addr{
		"client.example":  {netip.MustParseAddr("192.0.2.7")},
		"mixed.example":   {netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("198.51.100.1")},
		"victim.example":  {netip.MustParseAddr("198.51.100.1")},
		"localhost":       {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"loopback.mapped": {netip.MustParseAddr("::ffff:127.0.0.1")},
	}
	if a, ok := names[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

// withLookup makes a service resolve host names with f.
func withLookup(f func(ctx context.Context, network, host string) ([]netip.Addr, error)) Option {
	return func(o *options) { o.lookup = f }
}

// TestSameHost: which subscriber URIs count as the subscribing client's
// own host, and where a checked host name is delivered to.
func TestSameHost(t *testing.T) {
	s := NewService(nil, withLookup(fakeNames))
	defer s.Close()
	remote := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 40000}
	remote6 := &net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 40000}
	local := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 40000}
	unix := &net.UnixAddr{Name: "@", Net: "unix"}
	for _, tc := range []struct {
		name   string
		client net.Addr
		sub    string
		same   bool
		dial   string // the host delivered to when it differs from the URI's
	}{
		{"remote, its own address", remote, "PYRO:o@192.0.2.7:9", true, ""},
		{"remote as v4-mapped, its own address", remote6, "PYRO:o@192.0.2.7:9", true, ""},
		{"remote, another host", remote, "PYRO:o@198.51.100.1:9", false, ""},
		{"remote, the server's loopback", remote, "PYRO:o@127.0.0.1:9", false, ""},
		{"remote, localhost", remote, "PYRO:o@localhost:9", false, ""},
		{"remote, the server's unix socket", remote, "PYRO:o@./u:/tmp/x", false, ""},
		{"remote, a name of its own address is pinned", remote, "PYRO:o@client.example:9", true, "192.0.2.7"},
		{"remote, a name that is partly elsewhere", remote, "PYRO:o@mixed.example:9", false, ""},
		{"remote, a name of another host", remote, "PYRO:o@victim.example:9", false, ""},
		{"remote, an unknown name", remote, "PYRO:o@nosuch.example:9", false, ""},
		{"remote, a PYRONAME", remote, "PYRONAME:some.name@192.0.2.7:9090", false, ""},
		{"local, loopback", local, "PYRO:o@127.0.0.1:9", true, ""},
		{"local, other loopback", local, "PYRO:o@[::1]:9", true, ""},
		{"local, localhost (not pinned)", local, "PYRO:o@localhost:9", true, ""},
		{"local, mapped loopback name", local, "PYRO:o@loopback.mapped:9", true, ""},
		{"local, unix socket", local, "PYRO:o@./u:/tmp/x", true, ""},
		{"local, another host", local, "PYRO:o@198.51.100.1:9", false, ""},
		{"unix, loopback", unix, "PYRO:o@127.0.0.1:9", true, ""},
		{"unix, unix socket", unix, "PYRO:o@./u:/tmp/x", true, ""},
		{"unix, another host", unix, "PYRO:o@198.51.100.1:9", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := pyro.ParseURI(tc.sub)
			if err != nil {
				t.Fatal(err)
			}
			dial, same := s.sameHost(context.Background(), tc.client, u)
			if same != tc.same {
				t.Fatalf("sameHost(%v, %s) = %v, want %v", tc.client, tc.sub, same, tc.same)
			}
			want := u
			if tc.dial != "" {
				want.Host = tc.dial
			}
			if !dial.Equal(want) {
				t.Errorf("delivers to %s, want %s", dial, want)
			}
		})
	}
}

// TestResumeAppliesThirdPartyRule: after a restart, stored subscriptions
// made by remote clients pass the third-party rule again, with the
// client that made them: a host name of the client's own address is
// delivered to that address, a subscriber elsewhere stays only while the
// policy allows thirdparty, local Go subscriptions are kept.
func TestResumeAppliesThirdPartyRule(t *testing.T) {
	remote := Client{Network: "tcp", Addr: "192.0.2.7:40000"}
	stored := []Sub{
		{Subscriber: "PYRO:own@192.0.2.7:9", Kind: Exact, Subject: "lab.x", Client: remote},
		{Subscriber: "PYRO:named@client.example:9", Kind: Exact, Subject: "lab.x", Client: remote},
		{Subscriber: "PYRO:victim@198.51.100.1:9", Kind: Exact, Subject: "lab.x", Client: remote},
		{Subscriber: "PYRO:victim@198.51.100.1:9", Kind: Exact, Subject: "other.x", Client: remote},
		{Subscriber: "PYRO:victim@198.51.100.1:9", Kind: Pattern, Subject: "lab.*", Client: remote},
		{Subscriber: "PYRO:local@198.51.100.2:9", Kind: Exact, Subject: "lab.x"},
	}
	for _, tc := range []struct {
		policy string
		want   map[string][]string // subscriber -> its exact subjects and patterns
	}{
		{"", map[string][]string{
			"PYRO:own@192.0.2.7:9":        {"lab.x"},
			"PYRO:named@client.example:9": {"lab.x"},
			"PYRO:local@198.51.100.2:9":   {"lab.x"},
		}},
		{"allow all\n", map[string][]string{
			"PYRO:own@192.0.2.7:9":        {"lab.x"},
			"PYRO:named@client.example:9": {"lab.x"},
			"PYRO:victim@198.51.100.1:9":  {"lab.x", "other.x", "lab.*"},
			"PYRO:local@198.51.100.2:9":   {"lab.x"},
		}},
		{"allow connect,publish,subscribe,match\nallow thirdparty subject=lab.*\n", map[string][]string{
			"PYRO:own@192.0.2.7:9":        {"lab.x"},
			"PYRO:named@client.example:9": {"lab.x"},
			"PYRO:victim@198.51.100.1:9":  {"lab.x"},
			"PYRO:local@198.51.100.2:9":   {"lab.x"},
		}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			st := NewMemoryStore()
			for _, sub := range stored {
				if err := st.AddSub(sub); err != nil {
					t.Fatal(err)
				}
			}
			opts := []Option{WithStore(st), withLookup(fakeNames)}
			if tc.policy != "" {
				p, err := ParsePolicyString(tc.policy)
				if err != nil {
					t.Fatal(err)
				}
				opts = append(opts, WithPolicy(p))
			}
			s := NewService(nil, opts...)
			defer s.Close()
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			got := map[string][]string{}
			dials := map[string]string{}
			for key, w := range s.subs {
				for subj := range w.exact {
					got[key] = append(got[key], subj)
				}
				for text := range w.patterns {
					got[key] = append(got[key], text)
				}
				dials[key] = w.proxy.URI().Location()
			}
			s.mu.Unlock()
			if len(got) != len(tc.want) {
				t.Fatalf("subscribers %v, want %v", got, tc.want)
			}
			for key, want := range tc.want {
				if !sameSet(got[key], want) {
					t.Errorf("%s: %v, want %v", key, got[key], want)
				}
			}
			if d := dials["PYRO:named@client.example:9"]; d != "192.0.2.7:9" {
				t.Errorf("the client's host name is delivered to %s, want its address 192.0.2.7:9", d)
			}
			// what was dropped is gone from the store too
			subs, _ := st.Subs()
			n := 0
			for _, w := range tc.want {
				n += len(w)
			}
			if len(subs) != n {
				t.Errorf("store keeps %d subscriptions, want %d: %+v", len(subs), n, subs)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
