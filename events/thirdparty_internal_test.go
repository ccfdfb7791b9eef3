package events

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/pyrogo/pyro"
)

// TestSameHost: which subscriber URIs count as the subscribing client's
// own host, and where a checked host name is delivered to.
func TestSameHost(t *testing.T) {
	s := NewService(nil)
	defer s.Close()
	names := map[string][]netip.Addr{
		"client.example":  {netip.MustParseAddr("192.0.2.7")},
		"mixed.example":   {netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("198.51.100.1")},
		"victim.example":  {netip.MustParseAddr("198.51.100.1")},
		"localhost":       {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"loopback.mapped": {netip.MustParseAddr("::ffff:127.0.0.1")},
	}
	s.lookup = func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if a, ok := names[host]; ok {
			return a, nil
		}
		return nil, errors.New("no such host")
	}
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
