package pyro

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// Passphrase authentication (Pyro3's identifications, made safe): a
// challenge-response bound to one server and one connection, in which
// both sides prove that they know the passphrase and the passphrase never
// travels. Any Pyro4 (or Pyro5) client can do it with a subclass of Proxy
// that overrides _pyroValidateHandshake (README, "Who may connect").
//
//  1. The client's CONNECT carries the handshake value
//     {"auth": "pyrogo-auth-v2", "data": D}, D being the application's own
//     handshake data (what the daemon's HandshakeFunc gets; "hello" when
//     absent).
//  2. The daemon answers CONNECTOK with {"auth": "pyrogo-auth-v2",
//     "challenge": C}, C 64 hex digits from crypto/rand, fresh for this
//     connection and kept nowhere else (with META_ON_CONNECT it is wrapped
//     as {"handshake": ..., "meta": {}}: no metadata before the proof).
//     The connection is now pending: its only allowed message is the
//     INVOKE of step 3, under the handshake deadline and MaxHandshakeSize.
//  3. The client calls Pyro.Daemon.authenticate(N, E, H, M): N a fresh
//     nonce (32 to 128 hex digits); E the daemon's address as the client's
//     socket sees it (getpeername: "ip:port" for TCP, the path for a unix
//     socket); H the hex SHA-256 of the daemon's TLS certificate (DER) as
//     the client received it, "" without TLS; M the hex
//     HMAC-SHA256(K, "pyrogo-auth-v2\nclient\n" + C + "\n" + N + "\n" + E +
//     "\n" + H), K = PBKDF2-HMAC-SHA256(passphrase, "pyrogo passphrase v1",
//     100000 iterations, 32 bytes).
//  4. The daemon checks that E names itself (the connection's local
//     address, NATHOST/NATPORT, or an endpoint given with
//     WithAuthEndpoints), that H is the hash of its own certificate under
//     TLS and "" without, and M against the key of every passphrase, in
//     constant time. It answers {"mac": S, "data": R} with S the same HMAC
//     over "...\nserver\n" + the same fields (the daemon's proof), R the
//     HandshakeFunc's response (and "meta" when the CONNECT asked for
//     metadata), or it raises Pyro4.errors.SecurityError and closes the
//     connection.
//
// The client checks S, so a fake server is found out. A proof is good for
// one challenge, so a recorded one is useless anywhere and at any time; it
// names the server, so a relay through another address (or, under TLS,
// behind another certificate) is refused. Every answer to a proof, right
// or wrong, waits for the delay that the recent failures of its source
// impose (authlimit.go): guessing is slow, and a right passphrase is never
// locked out.

// Constants of the passphrase authentication scheme.
const (
	AuthScheme        = "pyrogo-auth-v2"
	AuthKDFSalt       = "pyrogo passphrase v1"
	AuthKDFIterations = 100000
	// AuthMethod is the method of the daemon object (Pyro.Daemon) that a
	// client calls with its proof.
	AuthMethod = "authenticate"
)

// authSchemeV1 is the scheme before challenges; it is refused.
const authSchemeV1 = "pyrogo-auth-v1"

// authKey is one allowed identity: a name and the key derived from its
// passphrase.
type authKey struct {
	name string
	key  []byte
}

// deriveAuthKey is K of the scheme.
func deriveAuthKey(passphrase string) []byte {
	k, err := pbkdf2.Key(sha256.New, passphrase, []byte(AuthKDFSalt), AuthKDFIterations, 32)
	if err != nil {
		panic("pyro: pbkdf2: " + err.Error()) // only for invalid parameters
	}
	return k
}

// Sides of a proof.
const (
	authClient = "client"
	authServer = "server"
)

// authProof is what a client sends to Pyro.Daemon.authenticate.
type authProof struct {
	cnonce, endpoint, certHash, mac string
}

// authMAC is the proof of side over a connection's fields.
func authMAC(key []byte, side, challenge string, p *authProof) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(AuthScheme + "\n" + side + "\n" + challenge + "\n" + p.cnonce + "\n" + p.endpoint + "\n" + p.certHash))
	return m.Sum(nil)
}

// authState is a daemon's passphrase configuration and bookkeeping.
type authState struct {
	keys      atomic.Pointer[[]authKey] // nil or empty: authentication off
	limit     guessLimiter              // delays for answers after failures (authlimit.go)
	endpoints []string                  // WithAuthEndpoints
	nat       natCache                  // NATHOST resolved (authendpoint.go)
	certs     servedCerts               // certificates the daemon presents (authendpoint.go)

	compares atomic.Int64 // MAC comparisons made, for tests
}

func (a *authState) enabled() bool {
	k := a.keys.Load()
	return k != nil && len(*k) > 0
}

// SetAllowedIdentifications turns passphrase authentication on with the
// given passphrases, or off with nil (Pyro3's setAllowedIdentifications).
// A client must then authenticate with one of them (Proxy.SetIdentification)
// or its connection is refused. The identity of passphrase i is "#i" (see
// ConnInfo.Identity). It applies to new connections; it derives a key per
// passphrase, which takes a few milliseconds each.
func (d *Daemon) SetAllowedIdentifications(ids []string) {
	if ids == nil {
		d.sec.auth.keys.Store(nil)
		return
	}
	named := make(map[string]string, len(ids))
	for i, id := range ids {
		named["#"+strconv.Itoa(i)] = id
	}
	d.SetAllowedIdentities(named)
}

// SetAllowedIdentities is SetAllowedIdentifications with a name for each
// passphrase (name → passphrase); ConnInfo.Identity carries the name of
// the one a client used. nil turns authentication off.
func (d *Daemon) SetAllowedIdentities(ids map[string]string) {
	if ids == nil {
		d.sec.auth.keys.Store(nil)
		return
	}
	keys := make([]authKey, 0, len(ids))
	for name, pass := range ids {
		keys = append(keys, authKey{name: name, key: deriveAuthKey(pass)})
	}
	d.sec.auth.keys.Store(&keys)
}

// clientAuth is a proxy's identification: the key derived from its
// passphrase.
type clientAuth struct{ key []byte }

// SetIdentification sets the passphrase the proxy authenticates with on
// its next connections (Pyro3's _setIdentification); "" turns it off.
// Call it before the first call. The passphrase itself is not kept, only
// the key derived from it, and it never goes over the wire: each
// connection answers the daemon's fresh challenge (see
// Daemon.SetAllowedIdentifications).
//
// A proxy with an identification also requires the daemon to prove that
// it knows the passphrase: it refuses, with a SecurityError, a daemon that
// does not ask for the proof or whose own proof is wrong (a fake server,
// a spoofed name server).
func (p *Proxy) SetIdentification(passphrase string) {
	if passphrase == "" {
		p.ident.Store(nil)
		return
	}
	p.ident.Store(&clientAuth{key: deriveAuthKey(passphrase)})
}

// AuthOptions returns options that give another proxy the passphrase
// identification and the HMAC mode of p (not its HMAC key: HMACKey gives
// that), without revealing the passphrase. A resolver uses them to reach
// a name server that requires the same passphrase.
func (p *Proxy) AuthOptions() []ProxyOption {
	var opts []ProxyOption
	if a := p.ident.Load(); a != nil {
		opts = append(opts, withIdentity(a))
	}
	if p.boundHMAC {
		opts = append(opts, withBoundHMAC())
	}
	return opts
}

// IdentificationTag returns a short tag that tells the proxy's passphrase
// identification apart from others without revealing it (a hash of the
// derived key), or "" when the proxy has none. Caches of answers obtained
// with the proxy's identity (such as the PYRONAME: resolver's) key on it.
func (p *Proxy) IdentificationTag() string {
	a := p.ident.Load()
	if a == nil {
		return ""
	}
	sum := sha256.Sum256(append([]byte("pyrogo identification tag\n"), a.key...))
	return hex.EncodeToString(sum[:8])
}
