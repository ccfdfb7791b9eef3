package naming

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pyrogo/pyro"
)

// Bounds on a list of name servers (NS_HOST, WithNSHost): a
// configuration is text a user may not have written, and every item costs
// a connection attempt.
const (
	// MaxNSHosts is the most name servers one NS_HOST may list.
	MaxNSHosts = 16
	// maxNSHostsText bounds the length of the NS_HOST text.
	maxNSHostsText = 4096
)

// ErrNSHosts is the cause (errors.Is) of every error that ParseNSHosts
// returns: NS_HOST (or the WithNSHost argument) is not a valid list of
// name servers.
var ErrNSHosts = errors.New("invalid name server list")

// NSAddr is one name server of an NS_HOST list: a host and an optional
// port, or a unix socket.
type NSAddr struct {
	// Host is a host name, an IP address (IPv6 without brackets), or
	// "./u:PATH" for a unix socket.
	Host string
	// Port is the TCP port; 0 means the default (NS_PORT, or the
	// WithNSPort port). It is always 0 for a unix socket.
	Port int
}

// String is the address as NS_HOST would list it.
func (a NSAddr) String() string {
	switch {
	case strings.HasPrefix(a.Host, "./u:"):
		return a.Host
	case a.Port == 0 && strings.IndexByte(a.Host, ':') >= 0:
		return "[" + a.Host + "]"
	case a.Port == 0:
		return a.Host
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}

// uriText is the name server's URI at a, with defPort for an item without
// a port.
func (a NSAddr) uriText(defPort int) string {
	p := a.Port
	if p == 0 {
		p = defPort
	}
	return nsURIText(a.Host, p)
}

// ParseNSHosts reads an NS_HOST value (or a WithNSHost argument), which
// names one name server or several, separated by commas, tried in that
// order:
//
//	host1,host2:9095,[::1]:9090,::1,./u:/run/pyro/ns.sock
//
// Each item is a host name or IPv4 address with an optional ":PORT", an
// IPv6 address (bare, or in brackets with an optional ":PORT"), or
// "./u:PATH" for a unix socket; spaces around items are ignored. A unix
// socket item extends to the end of the text (its path may hold commas),
// so it is the last item. An item without a port uses NS_PORT (or the
// WithNSPort port).
//
// A value without a comma (or starting with "./u:") is one name server,
// read exactly as Pyro4 reads NS_HOST (the empty string, "::1" and text
// that is no host included: that is the host to connect to, which
// fails), except that "host:PORT" and "[addr]:PORT" name a port. In a
// list, empty items,
// items with spaces or control characters inside, bad ports, and more
// than MaxNSHosts items are errors (ErrNSHosts).
func ParseNSHosts(s string) ([]NSAddr, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrNSHosts, fmt.Sprintf(format, args...))
	}
	if len(s) > maxNSHostsText {
		return nil, bad("%d bytes (at most %d)", len(s), maxNSHostsText)
	}
	if strings.HasPrefix(s, "./u:") || !strings.Contains(s, ",") {
		// one name server, as Pyro4 reads it: a value that is not a
		// host[:port] stays the host it names, to fail on connecting
		if a, err := parseNSItem(s); err == nil {
			return []NSAddr{a}, nil
		}
		return []NSAddr{{Host: s}}, nil
	}
	var out []NSAddr
	rest := s
	for i := 1; ; i++ {
		item, tail, more := strings.Cut(rest, ",")
		item = strings.TrimSpace(item)
		if strings.HasPrefix(item, "./u:") {
			item, more = strings.TrimSpace(rest), false // the path runs to the end
		}
		if item == "" {
			return nil, bad("item %d is empty", i)
		}
		if len(out) == MaxNSHosts {
			return nil, bad("more than %d name servers", MaxNSHosts)
		}
		a, err := parseNSItem(item)
		if err != nil {
			return nil, bad("item %d: %v", i, err)
		}
		out = append(out, a)
		if !more {
			return out, nil
		}
		rest = tail
	}
}

// parseNSItem reads one item of an NS_HOST list (trimmed).
func parseNSItem(item string) (NSAddr, error) {
	if strings.HasPrefix(item, "./u:") {
		if len(item) == len("./u:") {
			return NSAddr{}, errors.New("unix socket without a path")
		}
		if strings.ContainsFunc(item, isCtl) {
			return NSAddr{}, fmt.Errorf("%q has control characters", item)
		}
		return NSAddr{Host: item}, nil
	}
	if strings.ContainsFunc(item, func(r rune) bool { return isCtl(r) || r == ' ' || r == '\t' || r == '/' || r == '@' }) {
		return NSAddr{}, fmt.Errorf("%q is not a host", item)
	}
	host, portText := item, ""
	switch colons := strings.Count(item, ":"); {
	case strings.HasPrefix(item, "["):
		end := strings.IndexByte(item, ']')
		if end < 0 {
			return NSAddr{}, fmt.Errorf("%q lacks a ]", item)
		}
		host, portText = item[1:end], item[end+1:]
		if portText != "" {
			if portText[0] != ':' {
				return NSAddr{}, fmt.Errorf("%q: text after ]", item)
			}
			portText = portText[1:]
			if portText == "" {
				return NSAddr{}, fmt.Errorf("%q: empty port", item)
			}
		}
		if net.ParseIP(host) == nil || strings.IndexByte(host, ':') < 0 {
			return NSAddr{}, fmt.Errorf("%q is not an IPv6 address", host)
		}
	case colons == 1:
		host, portText, _ = strings.Cut(item, ":")
		if portText == "" {
			return NSAddr{}, fmt.Errorf("%q: empty port", item)
		}
	case colons > 1:
		if net.ParseIP(item) == nil {
			return NSAddr{}, fmt.Errorf("%q is not an IPv6 address (a port needs [addr]:port)", item)
		}
	}
	if host == "" || strings.ContainsAny(host, "[]") {
		return NSAddr{}, fmt.Errorf("%q has no valid host", item)
	}
	a := NSAddr{Host: host}
	if portText != "" {
		p, err := strconv.Atoi(portText)
		if err != nil || p < 1 || p > 65535 || portText[0] == '+' {
			return NSAddr{}, fmt.Errorf("port %q is not 1-65535", portText)
		}
		a.Port = p
	}
	return a, nil
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f }

// nsListError is Locate's error for an NS_HOST it cannot read.
func nsListError(err error) error {
	return &pyro.Error{Class: pyro.ErrNaming, Msg: "Failed to locate the nameserver: " + err.Error(), Err: err}
}
