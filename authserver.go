package pyro

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// The daemon's side of passphrase authentication (see auth.go): the
// challenge in the CONNECTOK, then the one call a pending connection may
// make, Pyro.Daemon.authenticate, checked before anything else is done.

// Refusal reasons of passphrase authentication, as clients see them.
const (
	reasonAuthRequired   = ReasonSecurity + ": passphrase authentication required"
	reasonAuthV1         = ReasonSecurity + ": " + authSchemeV1 + " is no longer accepted: update the client to " + AuthScheme + " (see pyrogo's README, \"Who may connect\")"
	reasonAuthFailed     = ReasonSecurity + ": authentication failed"
	reasonAuthFirst      = ReasonSecurity + ": authenticate first (Pyro.Daemon." + AuthMethod + ")"
	reasonAuthMalformed  = ReasonSecurity + ": malformed authentication: "
	reasonAuthEndpoint   = ReasonSecurity + ": the proof is for another server: endpoint "
	reasonAuthCert       = ReasonSecurity + ": the proof is for another TLS certificate (a relay between client and daemon?)"
	reasonAuthNoCert     = ReasonSecurity + ": the daemon cannot check the TLS certificate of a proof (its TLS listener was given with WithListener; use WithTLSConfig)"
	reasonAuthNotPending = ReasonSecurity + ": no authentication pending on this connection"
)

// authError is a refusal: Reason goes to the client, Detail to the log.
type authError struct{ Reason, Detail string }

func (e *authError) Error() string { return e.Reason }

// authPending is a connection that got its challenge and owes its proof.
type authPending struct {
	keys      []authKey // the passphrases when the CONNECT came
	challenge string
	data      any // the application's handshake data
}

// begin reads the handshake value of a CONNECT. Without passphrases it
// returns nil; with them, the pending state with a fresh challenge, or a
// refusal (*authError).
func (a *authState) begin(shake any) (*authPending, error) {
	kp := a.keys.Load()
	if kp == nil || len(*kp) == 0 {
		return nil, nil
	}
	d, ok := shake.(*py.Dict)
	if !ok {
		return nil, &authError{Reason: reasonAuthRequired, Detail: "handshake carries no credentials"}
	}
	scheme, _ := d.GetString("auth")
	switch s, _ := scheme.(string); s {
	case AuthScheme:
	case authSchemeV1:
		return nil, &authError{Reason: reasonAuthV1, Detail: "outdated client (" + authSchemeV1 + ")"}
	default:
		return nil, &authError{Reason: reasonAuthRequired, Detail: "handshake carries no credentials"}
	}
	data, ok := d.GetString("data")
	if !ok {
		data = "hello"
	}
	var ch [32]byte
	_, _ = rand.Read(ch[:])
	return &authPending{keys: *kp, challenge: hex.EncodeToString(ch[:]), data: data}, nil
}

// readProof checks the form of an authenticate call; what says what is
// wrong ("" when nothing is).
func readProof(call *codec.Call) (p *authProof, what string) {
	if call.Kwargs.Len() != 0 {
		return nil, "keyword arguments"
	}
	if len(call.Args) != 4 {
		return nil, "want 4 arguments (client nonce, endpoint, certificate hash, mac), got " + strconv.Itoa(len(call.Args))
	}
	var s [4]string
	for i, v := range call.Args {
		x, ok := v.(string)
		if !ok {
			return nil, "argument " + strconv.Itoa(i+1) + " is " + py.TypeName(v) + ", not str"
		}
		s[i] = x
	}
	p = &authProof{cnonce: s[0], endpoint: s[1], certHash: s[2], mac: s[3]}
	switch {
	case !isHex(p.cnonce, 32, 128):
		return nil, "client nonce: want 32 to 128 hex digits"
	case p.endpoint == "" || len(p.endpoint) > maxEndpointLen:
		return nil, "endpoint: want 1 to " + strconv.Itoa(maxEndpointLen) + " bytes"
	case p.certHash != "" && !isHex(p.certHash, 64, 64):
		return nil, "certificate hash: want \"\" or 64 hex digits"
	case !isHex(p.mac, 64, 64):
		return nil, "mac: want 64 hex digits"
	}
	return p, ""
}

func isHex(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen || len(s)%2 != 0 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// verify checks a proof's MAC against the key of every passphrase, in
// constant time whichever matches; it returns the index of the matching
// key.
func (a *authState) verify(keys []authKey, challenge string, p *authProof) (int, bool) {
	mac, _ := hex.DecodeString(p.mac)
	found, idx := 0, 0
	for i := range keys {
		eq := subtle.ConstantTimeCompare(authMAC(keys[i].key, authClient, challenge, p), mac)
		a.compares.Add(1)
		idx = subtle.ConstantTimeSelect(eq&^found, i, idx)
		found |= eq
	}
	return idx, found == 1
}

// checkCertHash says why a proof's certificate hash does not fit the
// connection ("" when it does): under TLS it must be the hash of a
// certificate the daemon presents, without TLS empty.
func (c *serverConn) checkCertHash(h string) (reason, detail string) {
	if c.info.TLS == nil {
		if h != "" {
			return reasonAuthCert, "certificate hash " + h + " on a connection without TLS"
		}
		return "", ""
	}
	known, ok := c.d.sec.auth.certs.has(strings.ToLower(h))
	switch {
	case !known:
		return reasonAuthNoCert, "TLS listener of unknown certificates"
	case !ok:
		return reasonAuthCert, "certificate hash " + strconv.Quote(h) + " is not the daemon's"
	}
	return "", ""
}

// authenticate runs the pending state of a connection whose CONNECT asked
// to authenticate: it sends the challenge, reads the proof under the
// handshake deadline and MaxHandshakeSize, and answers it after the
// limiter's delay. Nil means the connection is established.
func (c *serverConn) authenticate(pa *authPending, cd codec.Codec, connect *wire.Message, dict *py.Dict, bind *boundNonces, deadline time.Time) error {
	d := c.d
	wantMeta := connect.Flags&wire.FlagMetaOnConnect != 0
	if err := c.sendChallenge(pa, cd, connect, bind); err != nil {
		return err
	}
	msg, err := c.readHandshakeMessage("daemon wiredata received")
	if err != nil {
		if unanswerable(err) {
			return err
		}
		return &connEnd{level: slog.LevelInfo, msg: "pyro: bad message while authentication is pending, closing", attrs: []any{"err", err}, err: err, refusal: RefusedAuth}
	}
	id := int(msg.SerializerID)
	acd, accepted := c.codecFor(id)
	if msg.Type != wire.MsgInvoke || acd == nil || !accepted {
		// like any unexpected message: closed without a reply
		return &connEnd{level: slog.LevelInfo, msg: "pyro: unexpected message while authentication is pending, closing",
			attrs: []any{"type", msg.Type.String(), "serializer", id}, refusal: RefusedAuth}
	}
	refuse := func(class *ErrorClass, reason, detail string) error {
		return c.refuse(refusal{level: slog.LevelWarn, reason: reason, detail: detail, codec: acd, proof: msg, class: class, kind: RefusedAuth})
	}
	call, err := acd.UnmarshalCall(msg.Data)
	if err != nil {
		return refuse(ErrSecurity, reasonAuthMalformed+"cannot decode the call", err.Error())
	}
	if call.Object != DaemonObjectID || call.Method != AuthMethod || msg.Flags&(wire.FlagOneway|wire.FlagBatch) != 0 {
		return refuse(ErrSecurity, reasonAuthFirst, "call of "+strconv.Quote(call.Object)+"."+strconv.Quote(call.Method)+" before authenticating")
	}
	proof, what := readProof(call)
	if what != "" {
		return refuse(ErrSecurity, reasonAuthMalformed+what, what)
	}
	if !d.ownsEndpoint(&c.info, proof.endpoint, deadline) {
		return refuse(ErrSecurity, reasonAuthEndpoint+strconv.Quote(proof.endpoint)+" is not this daemon's (a relay, or a forwarder the daemon does not know: WithAuthEndpoints)",
			"endpoint "+strconv.Quote(proof.endpoint)+", connection reached "+c.info.LocalAddr.String())
	}
	if reason, detail := c.checkCertHash(proof.certHash); reason != "" {
		return refuse(ErrSecurity, reason, detail)
	}
	idx, right := d.sec.auth.verify(pa.keys, pa.challenge, proof)
	if delay := d.sec.auth.limit.settle(authSource(&c.info), right); delay > 0 {
		if err := c.holdFor(delay); err != nil {
			return err
		}
	}
	if !right {
		return refuse(ErrSecurity, reasonAuthFailed, "wrong passphrase")
	}
	key := pa.keys[idx]
	c.info.Identity = key.name
	c.info.Handshake = pa.data
	response, err := c.appHandshake(pa.data)
	if err != nil {
		return c.refuse(refusal{msg: "pyro: handshake refused", reason: err.Error(), codec: acd, proof: msg, kind: RefusedHandshake})
	}
	result := py.NewDict(3)
	result.SetString("mac", hex.EncodeToString(authMAC(key.key, authServer, pa.challenge, proof)))
	result.SetString("data", response)
	if wantMeta {
		meta := c.connectMeta(dict)
		if meta == nil {
			return refuse(ErrDaemon, "unknown object", "unknown object")
		}
		result.SetString("meta", meta)
	}
	data, err := acd.Marshal(result)
	if err != nil {
		return refuse(ErrSerialize, "cannot serialize handshake response: "+err.Error(), err.Error())
	}
	reply := &wire.Message{Type: wire.MsgResult, Seq: msg.Seq, SerializerID: uint16(id), Data: data}
	c.setCorr(reply, corrOf(msg))
	if err := c.send(reply); err != nil {
		return c.writeFailed(err)
	}
	return nil
}

// sendChallenge answers a CONNECT that asked to authenticate with the
// challenge, and switches to the connection's bound HMAC if any.
func (c *serverConn) sendChallenge(pa *authPending, cd codec.Codec, connect *wire.Message, bind *boundNonces) error {
	ch := py.NewDict(2)
	ch.SetString("auth", AuthScheme)
	ch.SetString("challenge", pa.challenge)
	var resp any = ch
	var flags wire.Flags
	if connect.Flags&wire.FlagMetaOnConnect != 0 {
		// Pyro's shape, without metadata before the proof: Pyro4 and
		// Pyro5 proxies take an empty meta as "not known yet"
		rd := py.NewDict(2)
		rd.SetString("handshake", ch)
		rd.SetString("meta", py.NewDict(0))
		resp, flags = rd, wire.FlagMetaOnConnect
	}
	challenge, err := connectOKMessage(cd, connect, resp, flags, bind)
	if err != nil {
		return c.refuse(refusal{codec: cd, seq: connect.Seq, reason: "cannot serialize the challenge: " + err.Error()})
	}
	if err := c.send(challenge); err != nil {
		return c.writeFailed(err)
	}
	if bind != nil {
		c.wopts = bind.options(c.wopts, true)
	}
	return nil
}

// holdFor holds a connection for the delay of its authentication answer,
// watching it: an error means the client hung up or sent more before the
// answer, or the daemon closed the connection (Shutdown, Close).
func (c *serverConn) holdFor(delay time.Duration) error {
	c.nc.SetReadDeadline(time.Now().Add(delay))
	_, err := c.br.Peek(1)
	var ne net.Error
	switch {
	case err == nil:
		return &connEnd{level: slog.LevelInfo, msg: "pyro: client sent data before its authentication answer, closing"}
	case errors.As(err, &ne) && ne.Timeout():
		if c.d.closing.Load() {
			return ErrDaemonClosed
		}
		return nil
	}
	return err
}
