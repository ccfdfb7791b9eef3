package pyro

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro/py"
)

// Passphrase authentication (Pyro3's identifications, made safe).
//
// A client proves that it knows one of the daemon's passphrases in the
// handshake data of its CONNECT, so any Pyro4 client can do it: the
// handshake value becomes the dict
//
//	{"auth": "pyrogo-auth-v1", "nonce": N, "time": T, "mac": M, "data": D}
//
// where N is a fresh random nonce (32 to 128 hex digits), T the client's
// clock in whole Unix seconds, D the application's own handshake data
// (what the daemon's HandshakeFunc gets; "hello" when absent) and M the
// hex HMAC-SHA256, keyed by K, of the text "pyrogo-auth-v1\n" + N + "\n" +
// decimal T. K is PBKDF2-HMAC-SHA256 of the UTF-8 passphrase with the
// salt "pyrogo passphrase v1", 100000 iterations, 32 bytes.
//
// The daemon accepts the handshake when T is within AuthWindow of its own
// clock, M matches the key of one of its passphrases (compared in
// constant time against every one of them), and N was not used in the
// window before (a replay cache). So the passphrase never travels, and a
// captured handshake cannot be used again. Failed attempts are counted
// per client host: after AuthMaxFailures failures within AuthFailPeriod
// the host's connections are refused until the period ends. All of this
// happens before the HandshakeFunc runs and before any call is decoded.
//
// What it does not do: the connection is not encrypted or protected
// after the handshake (use TLS, or an HMAC key, against an attacker on
// the network path), and the derived key K is as good as the passphrase
// for this protocol — keep passphrases out of source code and logs.

// Constants of the passphrase authentication scheme.
const (
	AuthScheme        = "pyrogo-auth-v1"
	AuthKDFSalt       = "pyrogo passphrase v1"
	AuthKDFIterations = 100000
	// AuthWindow is how far a client's timestamp may be from the
	// daemon's clock.
	AuthWindow = 2 * time.Minute
	// AuthMaxFailures failed attempts from one host within
	// AuthFailPeriod lock that host out until the period ends.
	AuthMaxFailures = 5
	AuthFailPeriod  = time.Minute
)

// maxReplayCache bounds the replay cache; only handshakes with a valid
// MAC enter it, so only passphrase holders can fill it.
const maxReplayCache = 1 << 17

// maxFailHosts bounds the per-host failure table.
const maxFailHosts = 1 << 12

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

func authMAC(key []byte, nonce string, ts int64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(AuthScheme + "\n" + nonce + "\n" + strconv.FormatInt(ts, 10)))
	return m.Sum(nil)
}

// authHandshake builds the handshake value for key around data.
func authHandshake(key []byte, data any, now time.Time) *py.Dict {
	var n [16]byte
	_, _ = rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	ts := now.Unix()
	d := py.NewDict(5)
	d.SetString("auth", AuthScheme)
	d.SetString("nonce", nonce)
	d.SetString("time", ts)
	d.SetString("mac", hex.EncodeToString(authMAC(key, nonce, ts)))
	d.SetString("data", data)
	return d
}

// authState is a daemon's passphrase configuration and bookkeeping.
type authState struct {
	keys atomic.Pointer[[]authKey] // nil or empty: authentication off

	mu      sync.Mutex
	seen    map[string]int64 // nonce -> Unix second after which it is forgotten
	inserts int
	fails   map[string]*failCount

	// for tests
	now        func() time.Time
	failPeriod time.Duration
	compares   atomic.Int64 // MAC comparisons made
}

type failCount struct {
	n     int
	until time.Time
}

func (a *authState) enabled() bool {
	k := a.keys.Load()
	return k != nil && len(*k) > 0
}

func (a *authState) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

func (a *authState) period() time.Duration {
	if a.failPeriod > 0 {
		return a.failPeriod
	}
	return AuthFailPeriod
}

// SetAllowedIdentifications turns passphrase authentication on with the
// given passphrases, or off with nil (Pyro3's setAllowedIdentifications).
// A client must then authenticate with one of them (Proxy.SetIdentification)
// or its connection is refused with a ConnectionDeniedError. The identity
// of passphrase i is "#i" (see ConnInfo.Identity). It applies to new
// connections; it derives a key per passphrase, which takes a few
// milliseconds each.
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

// WithAllowedIdentifications turns passphrase authentication on from the
// start (see Daemon.SetAllowedIdentifications); use it for daemons that
// serve as soon as they are created, such as the name server's.
func WithAllowedIdentifications(ids []string) DaemonOption {
	return func(d *Daemon) error {
		if len(ids) == 0 {
			return errors.New("pyro: WithAllowedIdentifications: no passphrases")
		}
		d.SetAllowedIdentifications(ids)
		return nil
	}
}

// Refusal reasons of passphrase authentication, as clients see them.
const (
	reasonAuthRequired = ReasonSecurity + ": passphrase authentication required"
	reasonAuthFailed   = ReasonSecurity + ": authentication failed"
	reasonAuthLocked   = ReasonSecurity + ": too many failed authentication attempts, try again later"
)

// authError is a refusal: Reason goes to the client, Detail to the log.
type authError struct{ Reason, Detail string }

func (e *authError) Error() string { return e.Reason }

// authenticate checks a client's handshake value. It returns the
// application's handshake data and the identity's name; without
// authentication configured it returns shake unchanged.
func (a *authState) authenticate(peer net.Addr, shake any) (any, string, error) {
	kp := a.keys.Load()
	if kp == nil || len(*kp) == 0 {
		return shake, "", nil
	}
	keys := *kp
	now := a.clock()
	host := peerKey(peer)
	if a.lockedOut(host, now) {
		return nil, "", &authError{Reason: reasonAuthLocked, Detail: "host locked out after failed attempts"}
	}
	fail := func(reason, detail string) (any, string, error) {
		a.recordFailure(host, now)
		return nil, "", &authError{Reason: reason, Detail: detail}
	}
	d, ok := shake.(*py.Dict)
	if !ok {
		return fail(reasonAuthRequired, "handshake carries no credentials")
	}
	scheme, _ := d.GetString("auth")
	if s, _ := scheme.(string); s != AuthScheme {
		return fail(reasonAuthRequired, "handshake carries no credentials")
	}
	nonceV, _ := d.GetString("nonce")
	nonce, _ := nonceV.(string)
	macV, _ := d.GetString("mac")
	macHex, _ := macV.(string)
	tsV, _ := d.GetString("time")
	ts, tsOK := unixSeconds(tsV)
	nb, nerr := hex.DecodeString(nonce)
	mac, merr := hex.DecodeString(macHex)
	if nerr != nil || len(nb) < 16 || len(nb) > 64 || merr != nil || len(mac) != sha256.Size || !tsOK {
		return fail(reasonAuthFailed, "malformed credentials")
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > AuthWindow || skew < -AuthWindow {
		return fail(reasonAuthFailed+" (timestamp outside the accepted window: check the clocks)", "timestamp skew "+skew.String())
	}
	// compare against every key, in constant time, whatever matches
	found, idx := 0, 0
	for i := range keys {
		eq := subtle.ConstantTimeCompare(authMAC(keys[i].key, nonce, ts), mac)
		a.compares.Add(1)
		idx = subtle.ConstantTimeSelect(eq&^found, i, idx)
		found |= eq
	}
	if found == 0 {
		return fail(reasonAuthFailed, "wrong passphrase")
	}
	switch a.remember(nonce, ts, now) {
	case nonceReplayed:
		return fail(reasonAuthFailed, "replayed handshake")
	case cacheFull:
		return nil, "", &authError{Reason: ReasonTooBusy + ": authentication replay cache full", Detail: "replay cache full"}
	}
	data, ok := d.GetString("data")
	if !ok {
		data = "hello"
	}
	return data, keys[idx].name, nil
}

// unixSeconds reads an integral timestamp.
func unixSeconds(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t), true
		}
	}
	return 0, false
}

// Outcomes of remember.
const (
	nonceNew = iota
	nonceReplayed
	cacheFull
)

// remember records a nonce in the replay cache, which keeps it until its
// timestamp is out of the window; a nonce seen before is a replay.
func (a *authState) remember(nonce string, ts int64, now time.Time) int {
	forget := ts + int64(AuthWindow/time.Second) + 1
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]int64{}
	}
	if _, dup := a.seen[nonce]; dup {
		return nonceReplayed
	}
	// forget expired nonces now and then, and always before giving up
	if a.inserts++; a.inserts%1024 == 0 || len(a.seen) >= maxReplayCache {
		cut := now.Unix()
		for n, t := range a.seen {
			if t < cut {
				delete(a.seen, n)
			}
		}
		if len(a.seen) >= maxReplayCache {
			return cacheFull
		}
	}
	a.seen[nonce] = forget
	return nonceNew
}

func (a *authState) lockedOut(host string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.fails[host]
	if f == nil {
		return false
	}
	if now.After(f.until) {
		delete(a.fails, host)
		return false
	}
	return f.n >= AuthMaxFailures
}

func (a *authState) recordFailure(host string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fails == nil {
		a.fails = map[string]*failCount{}
	}
	f := a.fails[host]
	if f == nil || now.After(f.until) {
		if len(a.fails) >= maxFailHosts {
			for h, x := range a.fails {
				if now.After(x.until) || len(a.fails) >= maxFailHosts {
					delete(a.fails, h)
				}
				if len(a.fails) < maxFailHosts/2 {
					break
				}
			}
		}
		f = &failCount{until: now.Add(a.period())}
		a.fails[host] = f
	}
	f.n++
}

// clientAuth is a proxy's identification: the key derived from its
// passphrase.
type clientAuth struct{ key []byte }

// SetIdentification sets the passphrase the proxy authenticates with on
// its next connections (Pyro3's _setIdentification); "" turns it off.
// Call it before the first call. The passphrase itself is not kept, only
// the key derived from it, and it never goes over the wire: each
// connection sends a fresh proof (see Daemon.SetAllowedIdentifications).
func (p *Proxy) SetIdentification(id string) {
	if id == "" {
		p.ident.Store(nil)
		return
	}
	p.ident.Store(&clientAuth{key: deriveAuthKey(id)})
}

// WithIdentification sets the proxy's passphrase (see SetIdentification).
func WithIdentification(id string) ProxyOption {
	return func(p *Proxy) error { p.SetIdentification(id); return nil }
}

// handshakeData is the value a new connection sends as "handshake": the
// proxy's handshake data, wrapped in a fresh authentication proof when
// the proxy has an identification.
func (p *Proxy) handshakeData() any {
	a := p.ident.Load()
	if a == nil {
		return p.handshake
	}
	return authHandshake(a.key, p.handshake, time.Now())
}

// AuthOptions returns options that give another proxy the passphrase
// identification and the HMAC mode of p (not its HMAC key: HMACKey gives
// that), without revealing the passphrase. A resolver uses them to reach
// a name server that requires the same passphrase.
func (p *Proxy) AuthOptions() []ProxyOption {
	var opts []ProxyOption
	if a := p.ident.Load(); a != nil {
		opts = append(opts, func(np *Proxy) error { np.ident.Store(a); return nil })
	}
	if p.boundHMAC {
		opts = append(opts, func(np *Proxy) error { np.boundHMAC = true; return nil })
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
