package pyro

import (
	"errors"
	"log/slog"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/wire"
)

// The wire protocol of a daemon connection. Every listener serves Pyro4
// (48) and Pyro5 (502) clients: the version field of a connection's first
// message decides (sniffProtocol), and the connection keeps that protocol
// to its end. A 502 connection reads and writes 502 frames only, with the
// Pyro5 serializer ids and codec dialect; its replies carry the request's
// correlation id in the header (a fresh one when the request had none, as
// Pyro5's daemon does). Protocol 502 has no HMAC: a daemon that requires a
// key serves a 502 connection only when mTLS or a passphrase
// authenticates it (check502), and then without the key.

// reasonNoHMAC502 is what a Pyro5 client is told by a daemon that requires
// an HMAC key and has no other way to authenticate it.
const reasonNoHMAC502 = ReasonSecurity + ": this server requires an HMAC key, which Pyro5 (protocol 502) cannot carry: " +
	"connect with Pyro4 (protocol 48) and the key, or ask the server's operator for mTLS or passphrase authentication"

// sniffProtocol peeks at the first bytes of a connection's first message
// and switches the connection to protocol 502 when they say so, or when
// they look like a Pyro5 peer's that is to be refused as Pyro5 would
// (wire.ProtocolError.Answer). It reads nothing; what the peek cannot
// get (a client that sends fewer bytes, or none) is left to the read
// that follows.
func (c *serverConn) sniffProtocol() {
	c.sniffed = true
	b, err := c.br.Peek(wire.SniffSize)
	if err != nil {
		return
	}
	p, err := wire.SniffProtocol(b)
	var pe *wire.ProtocolError
	if p == wire.Protocol502 || errors.As(err, &pe) && pe.Answer == wire.Protocol502 {
		c.use502()
	}
}

// use502 makes the connection a 502 one: it reads and writes 502 frames
// only, never with an HMAC key (the handshake refuses the connection when
// the daemon requires one and nothing else authenticates the client).
func (c *serverConn) use502() {
	c.p5 = true
	c.info.Protocol = int(wire.Protocol502)
	o := *c.wopts
	o.HMACKey, o.Binding = nil, nil
	o.Protocol, o.AnyProtocol = wire.Protocol502, false
	c.wopts = &o
}

// codecFor returns the codec of a serializer id in the connection's
// protocol, and whether the daemon accepts it (SERIALIZERS_ACCEPTED, by
// name, for both protocols).
func (c *serverConn) codecFor(id int) (codec.Codec, bool) {
	if !c.p5 {
		return codec.Default(id), c.d.accepted[id]
	}
	cd := codec.DefaultFor(codec.Pyro5, id)
	return cd, cd != nil && c.d.accepted5[id]
}

// marshalCodec is the connection's marshal codec: what Pyro answers with
// before it knows the client's serializer.
func (c *serverConn) marshalCodec() codec.Codec {
	if c.p5 {
		return codec.DefaultFor(codec.Pyro5, codec.ID5Marshal)
	}
	return codec.Default(codec.IDMarshal)
}

// setCorr gives a reply its correlation id as the connection's protocol
// carries it: the CORR annotation (48) or the header (502).
func (c *serverConn) setCorr(m *wire.Message, corr []byte) {
	if c.p5 {
		m.CorrID = corr
		return
	}
	m.SetAnnotation(wire.AnnCorr, corr)
}

// stamp marks a message a 502 connection sends as a 502 one, with the
// correlation id of the request being answered when it has none of its
// own (Pyro5's daemon sends one in every message).
func (c *serverConn) stamp(m *wire.Message) {
	m.Version = wire.Protocol502
	if m.CorrID == nil {
		if c.corr == nil {
			u := newUUID4()
			c.corr = u[:]
		}
		m.CorrID = c.corr
	}
}

// check502 refuses a 502 connection to a daemon that requires an HMAC
// key, unless mTLS (a verified or checked client certificate) or a
// passphrase authenticates the client; "" means the connection may go
// on.
func (c *serverConn) check502() string {
	d := c.d
	if !c.p5 || len(d.wireOpts.HMACKey) == 0 && !d.sec.boundHMAC {
		return ""
	}
	if st := c.info.TLS; st != nil && len(st.PeerCertificates) > 0 && (len(st.VerifiedChains) > 0 || d.peerCheck != nil) {
		return ""
	}
	if kp := d.sec.auth.keys.Load(); kp != nil && len(*kp) > 0 {
		return "" // begin refuses a client without the passphrase
	}
	return reasonNoHMAC502
}

// badVersion answers a message of another protocol version (or with a
// bad tag or 502 magic) on an established connection with Pyro's
// CONNECTFAIL in the connection's protocol, and ends the connection.
func (c *serverConn) badVersion(pe *wire.ProtocolError) error {
	_ = c.sendWithin(connectFailMessage(c.marshalCodec(), 0, pe.Msg), refusalWriteTimeout)
	return &connEnd{level: slog.LevelInfo, msg: "pyro: message of another protocol version, closing", attrs: []any{"err", pe.Msg}, err: pe}
}

// accepted5 maps the accepted Pyro4 serializer ids to Pyro5's ids of the
// same serializers. Pyro5 has no SERIALIZERS_ACCEPTED: its daemons take
// every serializer it has (serpent, marshal, json, msgpack, none of which
// can run code). So while the item holds Pyro4's default (which leaves
// out msgpack only because Pyro4 treated it as optional), Pyro5 clients
// may use all four, as with a Pyro5 daemon; a value that was set (in
// code, the environment or a file) applies to both protocols.
func accepted5(accepted map[int]bool, itemIsDefault bool) map[int]bool {
	if itemIsDefault {
		return map[int]bool{codec.ID5Serpent: true, codec.ID5Marshal: true, codec.ID5JSON: true, codec.ID5Msgpack: true}
	}
	m := make(map[int]bool, len(accepted))
	for id := range accepted {
		if id5, ok := codec.Pyro5.IDOf(codec.NameOf(id)); ok {
			m[id5] = true
		}
	}
	return m
}
