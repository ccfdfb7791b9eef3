package accessrule

import (
	"crypto/tls"
	"errors"
	"net"

	"github.com/pyrogo/pyro"
)

// Peer is what a policy knows of a client.
type Peer struct {
	// Addr is the client's address.
	Addr net.Addr
	// Identity is the passphrase identity ("" if none).
	Identity string
	// CommonName is the subject common name of the client's verified
	// certificate ("" if none).
	CommonName string
	// IdentityUnknown is true when the identity is not known yet (when
	// the connection arrives, before the passphrase handshake).
	IdentityUnknown bool
}

// ConnPeer is the peer of a connection that has just arrived: its host
// and verified certificate are known, its passphrase identity not yet.
func ConnPeer(conn *pyro.ConnInfo) Peer {
	return Peer{Addr: conn.RemoteAddr, CommonName: VerifiedCommonName(conn.TLS), IdentityUnknown: true}
}

// CallPeer is the caller of a call (from pyro.Call.CallContext): host,
// verified certificate and passphrase identity. A call without a
// connection (a local call) has an empty peer, which matches no
// condition.
func CallPeer(cc *pyro.CallContext) Peer {
	if cc == nil || cc.Conn == nil {
		return Peer{}
	}
	conn := cc.Conn
	return Peer{Addr: conn.RemoteAddr, Identity: conn.Identity, CommonName: VerifiedCommonName(conn.TLS)}
}

// VerifiedCommonName is the subject CN of a verified client certificate
// ("" without one).
func VerifiedCommonName(st *tls.ConnectionState) string {
	if st == nil || len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return ""
	}
	return st.VerifiedChains[0][0].Subject.CommonName
}

// ValidateConn is the connection-validator part of a policy: it returns
// the refusal of a connection that the rules for connect (the
// vocabulary's connect operation) deny by host and certificate, as a
// pyro.ConnValidator returns it; nil when they allow it or when the
// decision needs the passphrase identity (it is then left to the calls).
func (p *Policy) ValidateConn(conn *pyro.ConnInfo, connect Op) error {
	ok, _, decided := p.Decide(connect, ConnPeer(conn), "")
	if decided && !ok {
		return errors.New(pyro.ReasonSecurity + ": " + p.vocab.Service + " policy does not allow connections from " + HostOf(conn.RemoteAddr))
	}
	return nil
}

// HostOf names a client's host for messages.
func HostOf(a net.Addr) string {
	if a == nil {
		return "unknown peer"
	}
	if _, ok := a.(*net.UnixAddr); ok {
		return "unix socket"
	}
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}
