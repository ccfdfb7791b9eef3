package pyro

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// The handshake phase of a daemon connection, everything before its first
// call, in order:
//
//  1. the TLS handshake (TLS daemons), then the peer certificate check; a
//     plaintext Pyro client on a TLS daemon is told that TLS is required;
//  2. the connection validators (validator.go: MAXCONNECTIONS, host lists,
//     peer credentials, the application's), on what the connection
//     itself tells;
//  3. the CONNECT; a client refused in 1 or 2 gets its CONNECTFAIL only
//     now, so that the reason is not lost to a reset for unread data;
//  4. the serializer check, the decoding of the handshake data, the start
//     of passphrase authentication, the bound-HMAC nonce exchange;
//  5. with passphrases, the challenge and the proof (authserver.go);
//  6. the application's HandshakeFunc, and the CONNECTOK.
//
// One timeout bounds each step (handshakeTimeout: the TLS handshake, then
// the CONNECT and the proof together), one size limit every message read
// (MaxHandshakeSize), and every refusal goes through refuse: the reason
// to the client (CONNECTFAIL, or an exception answering the proof) under
// refusalWriteTimeout, and one line in the log, written by the connection
// loop.

// MaxHandshakeSize limits every message a daemon reads during a
// connection's handshake phase, the CONNECT and a passphrase proof
// (payload plus annotations, and the payload after decompression): a
// client that is not yet authenticated cannot make the daemon read or
// decode more than this. A larger CONNECT is refused by closing the
// connection, undecoded.
const MaxHandshakeSize = 64 << 10

const (
	// defaultHandshakeTimeout bounds each step of the handshake phase
	// when no COMMTIMEOUT is configured: a silent client must not hold a
	// connection forever before it has identified itself.
	defaultHandshakeTimeout = 10 * time.Second
	// refusalReadTimeout bounds how long a refused client may take to
	// send its CONNECT before the refusal is sent and the connection
	// closed.
	refusalReadTimeout = 2 * time.Second
	// refusalWriteTimeout bounds the write of a refusal.
	refusalWriteTimeout = 5 * time.Second
)

// handshakeTimeout is the time a new client has for the TLS handshake,
// and then for the rest of the handshake phase: COMMTIMEOUT, or
// defaultHandshakeTimeout.
func (d *Daemon) handshakeTimeout() time.Duration {
	if t := d.cfg.CommTimeout; t > 0 {
		return t
	}
	return defaultHandshakeTimeout
}

// refusal is a connection refused in its handshake phase: what the
// client is told, and how.
type refusal struct {
	reason string // what the client is told
	detail string // what only the log says ("" for nothing)
	// level and msg are the log line's ("pyro: connection refused" at
	// info level when not set)
	level slog.Level
	msg   string
	// codec is the answer's serializer; nil means marshal, as Pyro
	// answers before the client's serializer is known to be acceptable
	codec codec.Codec
	seq   uint16
	// proof, when set, is the INVOKE of a passphrase proof: it is answered
	// with an exception of class (a SecurityError by default) instead of
	// a CONNECTFAIL
	proof *wire.Message
	class *ErrorClass
	// kind is the reason the Observer is told (RefusedProtocol when not
	// set)
	kind RefusalReason
}

// refuse answers a refused client and returns the connection's end. The
// refusal is logged first, so that the log has it by the time the client
// learns of it.
func (c *serverConn) refuse(r refusal) error {
	end := refused(r)
	c.logEnd(end, false)
	if r.codec == nil {
		r.codec = c.marshalCodec()
	}
	if r.proof != nil {
		class := r.class
		if class == nil {
			class = ErrSecurity
		}
		_ = c.sendExceptionWithin(r.codec, r.proof, NewError(class, r.reason).Exception(), nil, refusalWriteTimeout)
	} else {
		_ = c.sendWithin(connectFailMessage(r.codec, r.seq, r.reason), refusalWriteTimeout)
	}
	return end
}

// refused is the connection end of a refusal, for the log.
func refused(r refusal) error {
	msg := r.msg
	if msg == "" {
		msg = "pyro: connection refused"
	}
	attrs := []any{"reason", r.reason}
	if r.detail != "" {
		attrs = append(attrs, "detail", r.detail)
	}
	kind := r.kind
	if kind == "" {
		kind = RefusedProtocol
	}
	return &connEnd{level: r.level, msg: msg, attrs: attrs, refusal: kind}
}

// connectFailMessage is a CONNECTFAIL with the reason encoded by cd, or by
// marshal (of cd's protocol) when cd cannot encode it.
func connectFailMessage(cd codec.Codec, seq uint16, reason string) *wire.Message {
	data, err := cd.Marshal(reason)
	if err != nil {
		data, _ = marshal.Marshal(reason)
		if cd.Protocol() == codec.Pyro5 {
			cd = codec.DefaultFor(codec.Pyro5, codec.ID5Marshal)
		} else {
			cd = codec.Default(codec.IDMarshal)
		}
	}
	return &wire.Message{Type: wire.MsgConnectFail, Seq: seq, SerializerID: uint16(cd.ID()), Data: data}
}

// connectOKMessage is the CONNECTOK answering connect with response (and
// the server's BIND nonce in the replay-protected HMAC mode).
func connectOKMessage(cd codec.Codec, connect *wire.Message, response any, flags wire.Flags, bind *boundNonces) (*wire.Message, error) {
	data, err := cd.Marshal(response)
	if err != nil {
		return nil, err
	}
	m := &wire.Message{Type: wire.MsgConnectOK, Flags: flags, Seq: connect.Seq, SerializerID: uint16(cd.ID()), Data: data}
	if connect.Version == wire.Protocol502 {
		m.CorrID = corrOf(connect)
	} else {
		m.SetAnnotation(wire.AnnCorr, corrOf(connect))
	}
	if bind != nil {
		m.SetAnnotation(wire.AnnBindNonce, bind.server)
	}
	return m, nil
}

// readHandshakeMessage reads a message of the handshake phase, within
// MaxHandshakeSize.
func (c *serverConn) readHandshakeMessage(what string) (*wire.Message, error) {
	if !c.sniffed {
		c.sniffProtocol() // the first message tells the connection's protocol
	}
	opts := *c.wopts
	if opts.MaxMessageSize <= 0 || opts.MaxMessageSize > MaxHandshakeSize {
		opts.MaxMessageSize = MaxHandshakeSize
	}
	opts.MaxDecompressedSize = opts.MaxMessageSize
	msg, err := wire.ReadMessage(c.br, &opts)
	if err == nil && c.p5 {
		c.corr = corrOf(msg)
	}
	if err == nil && wireLogging(c.d.cfg, c.d.log) {
		c.d.logWire(what, msg)
	}
	return msg, err
}

// unanswerable reports whether a failed read leaves nothing to answer:
// the client left, or the network failed or timed out.
func unanswerable(err error) bool {
	var ne net.Error
	return errors.Is(err, wire.ErrClosed) || errors.As(err, &ne)
}

// handshake runs the handshake phase (see the top of this file); nil
// means the connection is established.
func (c *serverConn) handshake() error {
	d := c.d
	refusedBy, err := c.tlsHandshake()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(d.handshakeTimeout())
	c.nc.SetDeadline(deadline)
	defer c.nc.SetDeadline(time.Time{})
	kind := RefusedTLS
	if refusedBy == "" && c.refusal != nil { // over CONNECTION_CAP
		refusedBy, kind = c.refusal.Error(), RefusedConnectionCap
	}
	if refusedBy == "" {
		vctx, cancel := context.WithDeadline(c.ctx, deadline)
		release, verr := d.validateConn(vctx, &c.info)
		cancel()
		c.release = release
		if verr != nil {
			refusedBy, kind = verr.Error(), RefusedValidator
			if errors.Is(verr, errMaxConnections) {
				kind = RefusedMaxConnections
			}
		}
	}
	if refusedBy != "" {
		return c.refuseAtConnect(refusedBy, kind, deadline)
	}
	msg, err := c.readHandshakeMessage("daemon handshake received")
	if err != nil {
		switch {
		case unanswerable(err):
			return err
		case errors.Is(err, wire.ErrTooLarge):
			// Pyro closes without answering
			return &connEnd{level: slog.LevelInfo, msg: "pyro: oversized CONNECT, closing", attrs: []any{"err", err}, err: err, refusal: RefusedProtocol}
		}
		r := refusal{reason: err.Error()}
		if errors.Is(err, wire.ErrSecurity) {
			r.kind = RefusedHMAC
		}
		return c.refuse(r)
	}
	if msg.Type != wire.MsgConnect {
		return c.refuse(refusal{reason: "invalid msg type " + strconv.Itoa(int(msg.Type)) + " received"})
	}
	id := int(msg.SerializerID)
	cd, accepted := c.codecFor(id)
	if !accepted {
		return c.refuse(refusal{seq: msg.Seq, reason: "message used serializer that is not accepted: " + strconv.Itoa(id)})
	}
	if reason := c.check502(); reason != "" {
		return c.refuse(refusal{codec: cd, seq: msg.Seq, reason: reason, level: slog.LevelWarn, kind: RefusedHMAC,
			detail: "protocol 502 (Pyro5) client, HMAC key required, no mTLS or passphrase to authenticate it"})
	}
	v, err := cd.Unmarshal(msg.Data)
	if err != nil {
		return c.refuse(refusal{seq: msg.Seq, reason: "invalid handshake data: " + err.Error()})
	}
	dict, _ := v.(*py.Dict)
	shake, ok := dict.GetString("handshake")
	if !ok {
		return c.refuse(refusal{seq: msg.Seq, reason: "'handshake'"})
	}
	pending, err := d.sec.auth.begin(shake)
	if err != nil {
		r := refusal{codec: cd, seq: msg.Seq, reason: err.Error(), kind: RefusedAuth}
		if ae, ok := err.(*authError); ok {
			r.detail = ae.Detail
		}
		return c.refuse(r)
	}
	var bind *boundNonces
	if d.sec.boundHMAC && !c.p5 {
		if bind, err = serverBindNonces(msg); err != nil {
			return c.refuse(refusal{codec: cd, seq: msg.Seq, reason: err.Error(), kind: RefusedHMAC})
		}
	}
	if pending != nil {
		return c.authenticate(pending, cd, msg, dict, bind, deadline) // authserver.go
	}
	c.info.Handshake = shake
	response, err := c.appHandshake(shake)
	if err != nil {
		return c.refuse(refusal{codec: cd, seq: msg.Seq, reason: err.Error(), msg: "pyro: handshake refused", kind: RefusedHandshake})
	}
	var flags wire.Flags
	if msg.Flags&wire.FlagMetaOnConnect != 0 {
		if _, ok := dict.GetString("object"); !ok {
			// as Pyro4 and Pyro5: get_metadata(data["object"]) raises
			// KeyError('object'), answered in the client's serializer
			return c.refuse(refusal{codec: cd, seq: msg.Seq, reason: "'object'", kind: RefusedHandshake})
		}
		meta := c.connectMeta(dict)
		if meta == nil {
			return c.refuse(refusal{codec: cd, seq: msg.Seq, reason: "unknown object", kind: RefusedHandshake})
		}
		rd := py.NewDict(2)
		rd.SetString("handshake", response)
		rd.SetString("meta", meta)
		response, flags = rd, wire.FlagMetaOnConnect
	}
	reply, err := connectOKMessage(cd, msg, response, flags, bind)
	if err != nil {
		return c.refuse(refusal{codec: cd, seq: msg.Seq, reason: "cannot serialize handshake response: " + err.Error()})
	}
	if err := c.send(reply); err != nil {
		return c.writeFailed(err)
	}
	if bind != nil {
		c.wopts = bind.options(c.wopts, true)
	}
	return nil
}

// refuseAtConnect refuses a client that the TLS peer check, CONNECTION_CAP
// or a validator turned away: it reads the client's CONNECT first (at
// most refusalReadTimeout), so that the CONNECTFAIL is not lost to a
// reset for unread data.
func (c *serverConn) refuseAtConnect(reason string, kind RefusalReason, deadline time.Time) error {
	if t := time.Now().Add(refusalReadTimeout); t.Before(deadline) {
		c.nc.SetDeadline(t)
	}
	msg, err := c.readHandshakeMessage("daemon handshake received")
	r := refusal{reason: reason, kind: kind}
	if unanswerable(err) {
		return refused(r)
	}
	if err == nil {
		r.seq = msg.Seq
	}
	return c.refuse(r)
}

// appHandshake runs the daemon's HandshakeFunc on the client's
// handshake data; without one the response is "hello".
func (c *serverConn) appHandshake(shake any) (any, error) {
	d := c.d
	if d.handshake == nil {
		return "hello", nil
	}
	ctx := context.WithValue(c.ctx, callCtxKey{}, &CallContext{Conn: &c.info})
	return d.handshake(ctx, &c.info, shake)
}

// connectMeta returns the metadata (as lists) of the object a CONNECT
// with META_ON_CONNECT names, or nil for an unknown object.
func (c *serverConn) connectMeta(dict *py.Dict) *py.Dict {
	objID, _ := dict.GetString("object")
	sid, _ := objID.(string)
	r := c.d.lookup(sid)
	if r == nil {
		return nil
	}
	// Pyro4 asks for lists (as_lists); Pyro5's daemon sends its sets
	return r.ti.meta.value(!c.p5)
}

// tlsHandshake runs the TLS handshake of a daemon connection, under the
// handshake timeout, and records the TLS state in the connection's
// ConnInfo. A client whose certificate the peer check refuses gets a
// reason (refusedBy), answered once its CONNECT is read; err means the
// connection is done.
func (c *serverConn) tlsHandshake() (refusedBy string, err error) {
	var tc *tls.Conn
	switch x := c.nc.(type) {
	case tlsServerConn:
		tc = x.Conn
	case *tls.Conn: // from a TLS listener given with WithListener
		tc = x
	default:
		return "", nil
	}
	d := c.d
	tc.SetDeadline(time.Now().Add(d.handshakeTimeout()))
	defer tc.SetDeadline(time.Time{})
	if err := tc.Handshake(); err != nil {
		var rhe tls.RecordHeaderError
		if errors.As(err, &rhe) && rhe.Conn != nil && string(rhe.RecordHeader[:4]) == "PYRO" {
			return "", c.refusePlaintext(rhe)
		}
		if d.closing.Load() {
			return "", err
		}
		level := slog.LevelInfo
		if errors.Is(err, io.EOF) {
			level = slog.LevelDebug // a probe
		}
		end := &connEnd{level: level, msg: "pyro: TLS handshake failed", attrs: []any{"err", err}, err: err}
		if level != slog.LevelDebug {
			end.refusal = RefusedTLS
		}
		return "", end
	}
	st := tc.ConnectionState()
	c.info.TLS = &st
	if d.peerCheck == nil {
		return "", nil
	}
	if err := d.peerCheck(&st); err != nil {
		return "client certificate refused: " + err.Error(), nil
	}
	return "", nil
}

// plaintextReason is what a Pyro client that connects to a TLS daemon
// without TLS is told.
const plaintextReason = "this server requires TLS (SSL): connect with SSL enabled (PYRO_SSL=true, or --ssl)"

// refusePlaintext answers a plaintext Pyro CONNECT sent to a TLS daemon
// with a plaintext CONNECTFAIL that says TLS is required, so that the
// client (Go or Python) reports the reason rather than a closed
// connection. The TLS layer has already read the start of the CONNECT, so
// the answer goes out at once (Pyro's clients do not check the sequence
// number of a CONNECTFAIL); then the daemon half-closes and discards what
// the client still sends (at most MaxHandshakeSize bytes, under the
// handshake deadline still set on the connection), so that the answer is
// not lost to a reset for unread data. The answer is always the same
// fixed text: nothing the client sent is echoed.
func (c *serverConn) refusePlaintext(rhe tls.RecordHeaderError) error {
	end := refused(refusal{reason: "plaintext Pyro client on a TLS daemon", kind: RefusedTLS})
	c.logEnd(end, false)
	// unsigned, and written on the socket under TLS: nothing is signed
	// for a client that has not even started TLS (a keyed client reports
	// the missing HMAC instead of the reason)
	m := connectFailMessage(codec.Default(codec.IDMarshal), 0, plaintextReason)
	if rhe.RecordHeader[4] != 0 {
		// a version from 256 on: a Pyro5 client (502), answered as Pyro5
		m = connectFailMessage(codec.DefaultFor(codec.Pyro5, codec.ID5Marshal), 0, plaintextReason)
		u := newUUID4()
		m.Version, m.CorrID = wire.Protocol502, u[:]
	}
	out, err := wire.AppendMessage(nil, m, nil)
	if err != nil {
		return end
	}
	if _, err := rhe.Conn.Write(out); err != nil {
		return end
	}
	if cw, ok := rhe.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.CopyN(io.Discard, rhe.Conn, MaxHandshakeSize)
	return end
}
