package pyro

import (
	"net"
	"strconv"
	"testing"

	"github.com/pyrogo/pyro/internal/netnstest"
)

// Hosts bind as in Pyro4 (issue 9, item 5): "" is every IPv4 interface,
// an IPv4 address (0.0.0.0 included) an IPv4 socket.
func TestListenHost(t *testing.T) {
	for host, want := range map[string][2]string{
		"": {"0.0.0.0", "tcp4"}, "0.0.0.0": {"0.0.0.0", "tcp4"}, "127.0.0.1": {"127.0.0.1", "tcp4"},
		"localhost": {"127.0.0.1", "tcp"}, "::": {"::", "tcp"}, "::1": {"::1", "tcp"},
		"::ffff:10.0.0.1": {"::ffff:10.0.0.1", "tcp"}, "example.org": {"example.org", "tcp"},
	} {
		if h, n := listenHost(host); h != want[0] || n != want[1] {
			t.Errorf("listenHost(%q) = %q, %q; want %q, %q", host, h, n, want[0], want[1])
		}
	}
}

// A daemon bound to a wildcard host (in a private network namespace)
// listens on it and puts it into its URIs as Pyro4 does: 0.0.0.0 for
// "0.0.0.0" and "", [::] for "::" — not the machine's host name, and not
// a dual-stack [::] for 0.0.0.0.
func TestDaemonWildcardHost(t *testing.T) {
	v := netnstest.New(t)
	for _, tc := range []struct{ host, bound, uriLoc string }{
		{"0.0.0.0", "0.0.0.0", "0.0.0.0"}, {"", "0.0.0.0", "0.0.0.0"}, {"::", "::", "[::]"},
	} {
		var d *Daemon
		var err error
		netnstest.In(t, v.A, func() { d, err = NewDaemon(BuiltinConfig(), WithHost(tc.host), WithPort(0)) })
		if err != nil {
			t.Errorf("host %q: %v", tc.host, err)
			continue
		}
		a := d.Addr().(*net.TCPAddr)
		u := d.URIFor("obj")
		if a.IP.String() != tc.bound || u.String() != "PYRO:obj@"+tc.uriLoc+":"+strconv.Itoa(a.Port) {
			t.Errorf("host %q: bound to %v, URI %s", tc.host, a, u)
		}
		d.Close()
	}
}
