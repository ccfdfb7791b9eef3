package pyro

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// The proxy's side of passphrase authentication (see auth.go).

// handshakeData is the value a new connection sends as "handshake": the
// proxy's handshake data, wrapped in the request to authenticate when the
// proxy has an identification.
func (p *Proxy) handshakeData(a *clientAuth) any {
	if a == nil {
		return p.handshake
	}
	d := py.NewDict(2)
	d.SetString("auth", AuthScheme)
	d.SetString("data", p.handshake)
	return d
}

// peerCertHash is the certificate hash of a proof: the hex SHA-256 of the
// daemon's leaf certificate under TLS, "" without.
func peerCertHash(nc net.Conn) string {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return ""
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return ""
	}
	return certHash(st.PeerCertificates[0].Raw)
}

// authReply is what a daemon answers to a right proof.
type authReply struct {
	data    any // the daemon's HandshakeFunc response
	meta    any // the object's metadata, when the CONNECT asked for it
	hasMeta bool
}

// proveIdentity answers the challenge of a daemon's CONNECTOK (resp) on
// c and checks the daemon's own proof. loc names the daemon in errors.
func (p *Proxy) proveIdentity(c *clientConn, a *clientAuth, resp any, loc string) (*authReply, error) {
	d, _ := resp.(*py.Dict)
	scheme, _ := d.GetString("auth")
	chV, _ := d.GetString("challenge")
	challenge, _ := chV.(string)
	if s, _ := scheme.(string); s != AuthScheme || !isHex(challenge, 64, 64) {
		return nil, NewError(ErrSecurity, "cannot connect to "+loc+": the daemon did not ask for the passphrase, so it cannot prove that it knows it (it has no passphrases, or it is an impostor)")
	}
	var n [16]byte
	_, _ = rand.Read(n[:])
	proof := &authProof{cnonce: hex.EncodeToString(n[:]), endpoint: clientEndpoint(c.nc.RemoteAddr()), certHash: peerCertHash(c.nc)}
	proof.mac = hex.EncodeToString(authMAC(a.key, authClient, challenge, proof))
	data, err := c.cd.MarshalCall(&codec.Call{Object: DaemonObjectID, Method: AuthMethod,
		Args: []any{proof.cnonce, proof.endpoint, proof.certHash, proof.mac}, Kwargs: py.NewDict(0)})
	if err != nil {
		return nil, wrapError(ErrSerialize, err.Error(), err)
	}
	fail := func(err error) error {
		return wrapError(ErrCommunication, "cannot connect to "+loc+": "+err.Error(), err)
	}
	c.seq++
	msg := &wire.Message{Type: wire.MsgInvoke, Seq: c.seq, SerializerID: uint16(c.cd.ID()), Data: data}
	wireLog := wireLogging(p.cfg, p.log)
	if wireLog {
		logWire(p.log, "proxy wiredata sending", msg)
	}
	if err := c.write(msg, c.opts(p)); err != nil {
		return nil, fail(netErr(err, "sending"))
	}
	reply, err := wire.ReadMessage(c.br, c.opts(p))
	if err != nil {
		return nil, fail(netErr(err, "receiving"))
	}
	if wireLog {
		logWire(p.log, "proxy wiredata received", reply)
	}
	if reply.Type != wire.MsgResult || reply.Seq != c.seq || int(reply.SerializerID) != c.cd.ID() {
		return nil, fail(NewError(ErrProtocol, fmt.Sprintf("invalid answer to authenticate: type %d, seq %d, serializer %d", reply.Type, reply.Seq, reply.SerializerID)))
	}
	v, err := c.cd.Unmarshal(reply.Data)
	if err != nil {
		return nil, fail(wrapError(ErrSerialize, err.Error(), err))
	}
	if reply.Flags&wire.FlagException != 0 {
		reason := "(no reason)"
		if exc, ok := v.(*py.Exception); ok {
			reason = exc.Message()
		}
		return nil, NewError(ErrConnectionDenied, "connection to "+loc+" rejected: "+reason)
	}
	rd, _ := v.(*py.Dict)
	macV, _ := rd.GetString("mac")
	macHex, _ := macV.(string)
	got, err := hex.DecodeString(macHex)
	if err != nil || !hmac.Equal(got, authMAC(a.key, authServer, challenge, proof)) {
		return nil, NewError(ErrSecurity, "cannot connect to "+loc+": the daemon's proof of the passphrase is wrong: it does not know the passphrase (an impostor?)")
	}
	ar := &authReply{}
	ar.data, _ = rd.GetString("data")
	ar.meta, ar.hasMeta = rd.GetString("meta")
	return ar, nil
}
