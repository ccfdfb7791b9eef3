package pyro

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// What a passphrase proof is bound to: the daemon's endpoint as the client
// saw it, and under TLS the daemon's certificate.
//
// An endpoint is what the client's socket reports as its peer
// (getpeername). For TCP it is "host:port", host an IP address in any
// standard text form: IPv6 with or without brackets, a zone is ignored, an
// IPv4-mapped IPv6 address counts as the IPv4 address (so Python's
// "%s:%d" % sock.getpeername()[:2] will do). For a unix socket it is the
// socket's path, or its abstract name with a leading NUL byte or "@".

// maxEndpointLen bounds the endpoint of a proof.
const maxEndpointLen = 512

func isUnixEndpoint(e string) bool {
	return strings.HasPrefix(e, "/") || strings.HasPrefix(e, "./") || strings.HasPrefix(e, "@") || strings.HasPrefix(e, "\x00")
}

// parseTCPEndpoint reads "host:port" with host an IP address.
func parseTCPEndpoint(e string) (netip.AddrPort, bool) {
	i := strings.LastIndexByte(e, ':')
	if i < 0 {
		return netip.AddrPort{}, false
	}
	host, port := e[:i], e[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j]
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, false
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil || pn == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(pn)), true
}

// unixName gives an abstract socket name the "@" form Go uses.
func unixName(e string) string {
	if strings.HasPrefix(e, "\x00") {
		return "@" + e[1:]
	}
	return e
}

// addrPortOf returns a TCP address as an unmapped AddrPort.
func addrPortOf(a net.Addr) (netip.AddrPort, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		if a == nil {
			return netip.AddrPort{}, false
		}
		ap, err := netip.ParseAddrPort(a.String())
		return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), err == nil
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), ap.IsValid()
}

// clientEndpoint is the endpoint a Go proxy puts in its proof: the
// address its connection reached.
func clientEndpoint(a net.Addr) string {
	if ua, ok := a.(*net.UnixAddr); ok {
		return ua.Name
	}
	if ap, ok := addrPortOf(a); ok {
		return ap.String()
	}
	return a.String()
}

// ownsEndpoint reports whether endpoint names the daemon for a client
// connected over info: the connection's local address, NATHOST/NATPORT,
// or one of WithAuthEndpoints. A NATHOST that is a name is resolved, at
// most once a minute, before deadline.
func (d *Daemon) ownsEndpoint(info *ConnInfo, endpoint string, deadline time.Time) bool {
	a := &d.sec.auth
	if la, ok := info.LocalAddr.(*net.UnixAddr); ok {
		name := unixName(endpoint)
		own := []string{la.Name}
		if ua, ok := d.ln.Addr().(*net.UnixAddr); ok {
			own = append(own, ua.Name)
		}
		for _, e := range a.endpoints {
			if isUnixEndpoint(e) {
				own = append(own, unixName(e))
			}
		}
		if slices.Contains(own, name) {
			return true
		}
		// the same socket file under another path (relative, symlinked)
		if strings.HasPrefix(name, "@") || name == "" {
			return false
		}
		fi, err := os.Stat(name)
		if err != nil || fi.Mode().Type() != os.ModeSocket {
			return false
		}
		for _, o := range own {
			if strings.HasPrefix(o, "@") {
				continue
			}
			if oi, err := os.Stat(o); err == nil && os.SameFile(fi, oi) {
				return true
			}
		}
		return false
	}
	ep, ok := parseTCPEndpoint(endpoint)
	if !ok {
		return false
	}
	if local, ok := addrPortOf(info.LocalAddr); ok && local == ep {
		return true
	}
	for _, e := range a.endpoints {
		if x, ok := parseTCPEndpoint(e); ok && x == ep {
			return true
		}
	}
	if host := d.cfg.NATHost; host != "" {
		port := d.cfg.NATPort
		if port == 0 {
			port = d.locPort
		}
		if int(ep.Port()) == port && slices.Contains(a.nat.lookup(host, deadline), ep.Addr()) {
			return true
		}
	}
	return false
}

// natCache holds the addresses of NATHOST for a minute.
type natCache struct {
	mu    sync.Mutex
	host  string
	addrs []netip.Addr
	until time.Time
}

func (n *natCache) lookup(host string, deadline time.Time) []netip.Addr {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap().WithZone("")}
	}
	now := time.Now()
	n.mu.Lock()
	if n.host == host && now.Before(n.until) {
		addrs := n.addrs
		n.mu.Unlock()
		return addrs
	}
	n.mu.Unlock()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ips, _ := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	addrs := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		addrs = append(addrs, ip.Unmap().WithZone(""))
	}
	n.mu.Lock()
	n.host, n.addrs, n.until = host, addrs, time.Now().Add(time.Minute)
	n.mu.Unlock()
	return addrs
}

// certHash is the hex SHA-256 of a DER certificate.
func certHash(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// maxServedCerts bounds the certificates remembered from a daemon's
// certificate callbacks.
const maxServedCerts = 64

// servedCerts knows the certificates a daemon presents: those of its TLS
// configuration, and those its certificate callbacks returned.
type servedCerts struct {
	mu     sync.Mutex
	known  bool     // the daemon's TLS configuration was seen (track)
	hashes []string // hex SHA-256 of leaf certificates
}

func (s *servedCerts) add(c *tls.Certificate) {
	if c == nil || len(c.Certificate) == 0 {
		return
	}
	h := certHash(c.Certificate[0])
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.hashes, h) {
		return
	}
	if len(s.hashes) >= maxServedCerts {
		s.hashes = slices.Delete(s.hashes, 0, 1)
	}
	s.hashes = append(s.hashes, h)
}

func (s *servedCerts) has(h string) (known, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.known, slices.Contains(s.hashes, h)
}

// track records conf's certificates and returns conf, or a clone of it
// whose certificate callbacks record what they return.
func (s *servedCerts) track(conf *tls.Config) *tls.Config {
	if conf == nil {
		return nil
	}
	s.mu.Lock()
	s.known = true
	s.mu.Unlock()
	for i := range conf.Certificates {
		s.add(&conf.Certificates[i])
	}
	if conf.GetCertificate == nil && conf.GetConfigForClient == nil {
		return conf
	}
	conf = conf.Clone()
	if get := conf.GetCertificate; get != nil {
		conf.GetCertificate = func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
			c, err := get(hi)
			s.add(c)
			return c, err
		}
	}
	if get := conf.GetConfigForClient; get != nil {
		conf.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			c, err := get(hi)
			if c != nil {
				c = s.track(c)
			}
			return c, err
		}
	}
	return conf
}
