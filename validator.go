package pyro

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
)

// ConnValidator decides whether a daemon serves a new connection: the Go
// form of Pyro3's new-connection validators. A daemon runs its validators
// for every accepted connection, in the connection's own goroutine (never
// in the accept loop), before it decodes anything the client sent; so a
// validator sees only what the connection itself tells (addresses, peer
// credentials, TLS state), never the client's handshake data.
//
// ValidateConn returns nil to accept. Any error refuses the connection:
// the daemon reads the client's CONNECT (under a small size limit and the
// handshake deadline), answers CONNECTFAIL with the error's text as the
// reason — the client gets a ConnectionDeniedError carrying it — closes
// the connection and logs the refusal once with the peer's address. When
// the connection is accepted, the daemon calls release (if not nil) once
// the connection has ended; validators that count connections free their
// slot there. ctx carries the handshake deadline.
//
// Validators must be safe for concurrent use. Chain several with
// ChainValidators or WithConnValidators; the daemon's built-in
// MAXCONNECTIONS limit always runs first.
type ConnValidator interface {
	ValidateConn(ctx context.Context, conn *ConnInfo) (release func(), err error)
}

// ConnValidatorFunc adapts a function that needs no release to a
// ConnValidator.
type ConnValidatorFunc func(ctx context.Context, conn *ConnInfo) error

// ValidateConn calls f.
func (f ConnValidatorFunc) ValidateConn(ctx context.Context, conn *ConnInfo) (func(), error) {
	return nil, f(ctx, conn)
}

// Authenticator is implemented by validators that establish who the peer
// is (the peer-credential validator does). A daemon whose validators
// include one does not log the exposure warning for a network or shared
// unix socket (see Daemon.Serve).
type Authenticator interface {
	Authenticates() bool
}

// ChainValidators returns a validator that runs vs in order and refuses
// with the first refusal; the releases of the validators that had
// accepted are then called at once, in reverse order.
func ChainValidators(vs ...ConnValidator) ConnValidator {
	out := make(validatorChain, 0, len(vs))
	for _, v := range vs {
		if v != nil {
			out = append(out, v)
		}
	}
	return out
}

type validatorChain []ConnValidator

func (ch validatorChain) ValidateConn(ctx context.Context, conn *ConnInfo) (func(), error) {
	var releases []func()
	releaseAll := func() {
		for i := len(releases) - 1; i >= 0; i-- {
			releases[i]()
		}
	}
	for _, v := range ch {
		r, err := v.ValidateConn(ctx, conn)
		if err != nil {
			releaseAll()
			return nil, err
		}
		if r != nil {
			releases = append(releases, r)
		}
	}
	if len(releases) == 0 {
		return nil, nil
	}
	return releaseAll, nil
}

// Authenticates reports whether any validator of the chain does.
func (ch validatorChain) Authenticates() bool {
	for _, v := range ch {
		if a, ok := v.(Authenticator); ok && a.Authenticates() {
			return true
		}
	}
	return false
}

// Refusal reasons of the built-in validators, after Pyro3's reason codes
// (server too busy, host blocked, security reasons).
const (
	ReasonTooBusy  = "server too busy"
	ReasonHost     = "host blocked"
	ReasonSecurity = "security reasons"
)

// security is the daemon's state for validators, passphrase
// authentication and connection-bound HMAC.
type security struct {
	validators  []ConnValidator
	unixMode    os.FileMode
	unixModeSet bool
	auth        authState
	boundHMAC   bool // WithReplayProtectedHMAC
}

// validateConn runs the built-in MAXCONNECTIONS limit and then the
// daemon's validators for a new connection.
//
// The limit is exact: a connection takes a slot before anything else is
// checked and gives it back when it ends (or is refused), so at most
// MAXCONNECTIONS connections are ever being served or handshaking at the
// same time, and MAXCONNECTIONS clients fit (Pyro3 counted the new
// connection twice and fitted one less). A connection the client closed
// holds its slot until the daemon notices, which for an idle connection
// is at once.
func (d *Daemon) validateConn(ctx context.Context, info *ConnInfo) (func(), error) {
	var release func()
	if max := d.cfg.MaxConnections; max > 0 {
		if d.connCount.Add(1) > int64(max) {
			d.connCount.Add(-1)
			return nil, maxConnectionsError(max)
		}
		release = func() { d.connCount.Add(-1) }
	}
	if len(d.sec.validators) == 0 {
		return release, nil
	}
	r, err := validatorChain(d.sec.validators).ValidateConn(ctx, info)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, err
	}
	switch {
	case r == nil:
		return release, nil
	case release == nil:
		return r, nil
	}
	return func() { r(); release() }, nil
}

// Connections returns the number of connections holding a MAXCONNECTIONS
// slot (0 when no limit is configured).
func (d *Daemon) Connections() int { return int(d.connCount.Load()) }

// peerKey identifies a connection's host for per-host accounting: the IP
// address, or "unix" for unix socket peers.
func peerKey(a net.Addr) string {
	if ip, ok := peerIP(a); ok {
		return ip.String()
	}
	return "unix"
}

// peerIP returns the IP address of a TCP (or UDP) peer.
func peerIP(a net.Addr) (netip.Addr, bool) {
	switch x := a.(type) {
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(x.IP)
		return ip.Unmap(), ok
	case *net.UDPAddr:
		ip, ok := netip.AddrFromSlice(x.IP)
		return ip.Unmap(), ok
	case nil:
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// MaxConnectionsPerHost returns a validator that lets each client host
// (IP address; all unix socket peers count as one host) hold at most n
// connections at a time. Further connections from that host are refused
// with "server too busy"; other hosts are not affected. n < 1 means no
// limit.
func MaxConnectionsPerHost(n int) ConnValidator {
	if n < 1 {
		return ConnValidatorFunc(func(context.Context, *ConnInfo) error { return nil })
	}
	return &hostLimiter{max: n, count: map[string]int{}}
}

type hostLimiter struct {
	max   int
	mu    sync.Mutex
	count map[string]int
}

func (h *hostLimiter) ValidateConn(_ context.Context, conn *ConnInfo) (func(), error) {
	key := peerKey(conn.RemoteAddr)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count[key] >= h.max {
		return nil, fmt.Errorf("%s: too many connections from your host (limit %d)", ReasonTooBusy, h.max)
	}
	h.count[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			if h.count[key]--; h.count[key] <= 0 {
				delete(h.count, key)
			}
			h.mu.Unlock()
		})
	}, nil
}

// AllowHosts returns a validator that accepts only peers whose IP address
// matches an entry: an IP address ("192.0.2.7", "::1"), a CIDR prefix
// ("10.0.0.0/8") or "localhost" (127.0.0.0/8 and ::1). Other peers are
// refused with "host blocked". Unix socket peers have no IP address and
// are refused too unless an entry is "unix". Host names other than
// localhost are not accepted: a list must not depend on DNS answers.
func AllowHosts(entries ...string) (ConnValidator, error) {
	l, err := newHostList(entries)
	if err != nil {
		return nil, err
	}
	l.allow = true
	return l, nil
}

// DenyHosts returns a validator that refuses peers matching an entry (see
// AllowHosts for the forms) with "host blocked" and accepts all others:
// Pyro3's "denyhosts" example.
func DenyHosts(entries ...string) (ConnValidator, error) {
	return newHostList(entries)
}

type hostList struct {
	allow    bool
	unix     bool
	prefixes []netip.Prefix
}

func newHostList(entries []string) (*hostList, error) {
	l := &hostList{}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "unix":
			l.unix = true
		case strings.EqualFold(e, "localhost"):
			l.prefixes = append(l.prefixes, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("pyro: host list entry %q: %w", e, err)
			}
			l.prefixes = append(l.prefixes, p.Masked())
		default:
			ip, err := netip.ParseAddr(e)
			if err != nil {
				return nil, fmt.Errorf("pyro: host list entry %q: not an IP address, CIDR prefix, localhost or unix", e)
			}
			ip = ip.Unmap()
			l.prefixes = append(l.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return l, nil
}

func (l *hostList) matches(a net.Addr) bool {
	ip, ok := peerIP(a)
	if !ok {
		return l.unix
	}
	for _, p := range l.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (l *hostList) ValidateConn(_ context.Context, conn *ConnInfo) (func(), error) {
	if l.matches(conn.RemoteAddr) != l.allow {
		return nil, errors.New(ReasonHost)
	}
	return nil, nil
}

// PeerCred is the identity of the process at the other end of a unix
// socket, as the kernel reports it (SO_PEERCRED on Linux).
type PeerCred struct {
	PID, UID, GID int
}

// ErrNoPeerCred is returned by PeerCredentials for connections that have
// no peer credentials (TCP), or on systems where pyrogo cannot read them.
var ErrNoPeerCred = errors.New("pyro: peer credentials are not available for this connection")

// PeerCredentials returns the credentials of the process that connected,
// for a unix socket connection (also under TLS).
func (c *ConnInfo) PeerCredentials() (PeerCred, error) {
	nc := c.conn
	for {
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		nc = u.NetConn()
	}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return PeerCred{}, ErrNoPeerCred
	}
	return peerCred(uc)
}

// AllowPeerCredentials returns a validator for unix socket daemons that
// accepts only clients running as one of uids or with one of gids as
// primary group, as the kernel reports them (SO_PEERCRED); everything
// else — other users, TCP connections, systems without peer credentials —
// is refused with "security reasons". It counts as authentication for the
// exposure warning.
func AllowPeerCredentials(uids, gids []int) ConnValidator {
	return &peerCredValidator{uids: append([]int(nil), uids...), gids: append([]int(nil), gids...)}
}

type peerCredValidator struct{ uids, gids []int }

func (v *peerCredValidator) ValidateConn(_ context.Context, conn *ConnInfo) (func(), error) {
	pc, err := conn.PeerCredentials()
	if err != nil {
		return nil, errors.New(ReasonSecurity + ": peer credentials unavailable")
	}
	for _, u := range v.uids {
		if pc.UID == u {
			return nil, nil
		}
	}
	for _, g := range v.gids {
		if pc.GID == g {
			return nil, nil
		}
	}
	return nil, errors.New(ReasonSecurity + ": uid " + strconv.Itoa(pc.UID) + " not allowed")
}

// Authenticates is true: the kernel vouches for the peer's identity.
func (v *peerCredValidator) Authenticates() bool { return true }

// exposureRisk says why the daemon's listener is reachable by others than
// its owner ("" when it is not): a non-loopback address, an abstract unix
// socket, or a unix socket file other users may open.
func (d *Daemon) exposureRisk() string {
	switch a := d.ln.Addr().(type) {
	case *net.TCPAddr:
		if a.IP.IsLoopback() {
			return ""
		}
		return "bound to the network address " + a.String()
	case *net.UnixAddr:
		if strings.HasPrefix(a.Name, "@") || strings.HasPrefix(a.Name, "\x00") {
			return "bound to an abstract unix socket, which every local user may connect to"
		}
		if fi, err := os.Stat(a.Name); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return fmt.Sprintf("bound to a unix socket other users may connect to (mode %#o)", fi.Mode().Perm())
		}
		return ""
	case nil:
		return ""
	default:
		host, _, err := net.SplitHostPort(a.String())
		if ip, perr := netip.ParseAddr(host); err == nil && perr == nil && ip.IsLoopback() {
			return ""
		}
		return "bound to " + a.String()
	}
}

// protected reports whether something authenticates clients: an HMAC key,
// TLS, passphrases or an authenticating validator.
func (d *Daemon) protected() bool {
	if len(d.wireOpts.HMACKey) > 0 || d.tlsConf != nil || d.sec.auth.enabled() {
		return true
	}
	return validatorChain(d.sec.validators).Authenticates()
}

// warnExposure logs, once at the start of Serve, a warning when the daemon
// can be reached by others than its owner and nothing authenticates them.
func (d *Daemon) warnExposure() {
	if risk := d.exposureRisk(); risk != "" && !d.protected() {
		d.log.Warn("pyro: daemon "+risk+" without TLS, HMAC key or authentication: anyone who can connect can call its objects",
			"addr", d.ln.Addr().String())
	}
}

// maxConnectionsError refuses a client over MAXCONNECTIONS; it matches
// errMaxConnections.
type maxConnectionsError int

func (e maxConnectionsError) Error() string {
	return fmt.Sprintf("%s: MAXCONNECTIONS (%d) reached", ReasonTooBusy, int(e))
}

func (e maxConnectionsError) Is(target error) bool { return target == errMaxConnections }

// errMaxConnections matches the refusal of a client over MAXCONNECTIONS.
var errMaxConnections = errors.New("pyro: MAXCONNECTIONS reached")
