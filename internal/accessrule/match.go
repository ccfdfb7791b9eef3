package accessrule

import (
	"net"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Glob reports whether s fits pattern, where "*" stands for any run of
// characters (dots included) and "?" for one character; with fold, runes
// compare by Unicode simple case folding. It takes time O(len(pattern) ×
// len(s)) at worst.
func Glob(pattern, s string, fold bool) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || runeEq(p[pi], t[ti], fold)):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// runeEq compares two runes, by simple case folding with fold.
func runeEq(a, b rune, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// hasPrefix reports whether s starts with prefix, rune by rune by simple
// case folding with fold.
func hasPrefix(s, prefix string, fold bool) bool {
	if !fold {
		return strings.HasPrefix(s, prefix)
	}
	for prefix != "" {
		if s == "" {
			return false
		}
		a, na := utf8.DecodeRuneInString(prefix)
		b, nb := utf8.DecodeRuneInString(s)
		if !runeEq(a, b, fold) || a == utf8.RuneError && prefix[:na] != s[:nb] {
			return false
		}
		prefix, s = prefix[na:], s[nb:]
	}
	return true
}

// anyGlob matches s against patterns, case-sensitively; "" (absent)
// never matches.
func anyGlob(patterns []string, s string) bool {
	if s == "" {
		return false
	}
	for _, p := range patterns {
		if Glob(p, s, false) {
			return true
		}
	}
	return false
}

// hostMatches reports whether the client at a is in hosts (or on a unix
// socket, when unix is true).
func hostMatches(hosts []netip.Prefix, unix bool, a net.Addr) bool {
	if _, ok := a.(*net.UnixAddr); ok {
		return unix
	}
	var ip netip.Addr
	switch x := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(x.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(x.IP)
	case nil:
		return false
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return false
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	for _, h := range hosts {
		if h.Contains(ip) {
			return true
		}
	}
	return false
}
