package naming

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// ParseNSHosts: one value keeps Pyro4's meaning, lists are read item by
// item, and hostile lists are refused with ErrNSHosts.
func TestParseNSHosts(t *testing.T) {
	many := strings.Repeat("h,", MaxNSHosts) + "h" // MaxNSHosts+1 items
	ok := []struct {
		in   string
		want []NSAddr
	}{
		// one name server, as Pyro4 reads NS_HOST
		{"", []NSAddr{{Host: ""}}},
		{"localhost", []NSAddr{{Host: "localhost"}}},
		{"::1", []NSAddr{{Host: "::1"}}},
		{"fe80::1%eth0", []NSAddr{{Host: "fe80::1%eth0"}}},
		{"ns.example.org", []NSAddr{{Host: "ns.example.org"}}},
		{"./u:/tmp/ns,1.sock", []NSAddr{{Host: "./u:/tmp/ns,1.sock"}}},
		{"not a host", []NSAddr{{Host: "not a host"}}}, // fails on connecting, as in Pyro4
		{"h:9095", []NSAddr{{Host: "h", Port: 9095}}},
		{"[::1]", []NSAddr{{Host: "::1"}}},
		{"[::1]:9090", []NSAddr{{Host: "::1", Port: 9090}}},
		// lists
		{"host1,host2:9095,[::1]:9090,./u:/path", []NSAddr{{Host: "host1"}, {Host: "host2", Port: 9095}, {Host: "::1", Port: 9090}, {Host: "./u:/path"}}},
		{" a , ::1 ,[::2] ", []NSAddr{{Host: "a"}, {Host: "::1"}, {Host: "::2"}}},
		{"a,./u:/p,ath", []NSAddr{{Host: "a"}, {Host: "./u:/p,ath"}}}, // a socket path runs to the end
		{"127.0.0.1:1,127.0.0.1:65535", []NSAddr{{Host: "127.0.0.1", Port: 1}, {Host: "127.0.0.1", Port: 65535}}},
		{strings.Repeat("h,", MaxNSHosts-1) + "h", slicesRepeat(NSAddr{Host: "h"}, MaxNSHosts)},
	}
	for _, c := range ok {
		got, err := ParseNSHosts(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseNSHosts(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []string{
		"a,,b", "a,", ",a", " , ", ",", // empty items
		"a,h:0", "a,h:65536", "a,h:+80", "a,h:x", "a,h:", "a,h:-1", // ports
		"a,[::1", "a,[::1]x", "a,[::1]:", "a,[host]:1", "a,[1.2.3.4]", "a,1:2:3", "a,[]", // brackets, IPv6
		"a b,c", "a,b\tc", "a\x00,b", "a,b\x7f", "a,b\x1bc", "a,PYRO:x@h", "a,h/x", "a,./u:", "a,:80", // junk
		many,                             // too many
		strings.Repeat("x", 5000),        // too long, even as one item
		strings.Repeat("a,", 3000) + "a", // too long and too many
	}
	for _, in := range bad {
		got, err := ParseNSHosts(in)
		if !errors.Is(err, ErrNSHosts) {
			t.Errorf("ParseNSHosts(%.40q) = %v, %v; want ErrNSHosts", in, got, err)
		}
	}
	// String gives back what a list holds
	for _, a := range []NSAddr{{Host: "h"}, {Host: "h", Port: 1}, {Host: "::1"}, {Host: "::1", Port: 2}, {Host: "./u:/x,y"}} {
		got, err := ParseNSHosts("z," + a.String())
		if err != nil || len(got) != 2 || got[1] != a {
			t.Errorf("round trip of %v: %v %v", a, got, err)
		}
	}
}

func slicesRepeat(a NSAddr, n int) []NSAddr {
	out := make([]NSAddr, n)
	for i := range out {
		out[i] = a
	}
	return out
}
