package pyro

import (
	"crypto/tls"
	"errors"
	"log/slog"
)

// Options of daemons and proxies.
//
// NewDaemon takes DaemonOptions and NewProxy takes ProxyOptions. An option
// that means the same on both sides is an Option, which is both: WithHMACKey,
// WithReplayProtectedHMAC, WithTLSConfig, WithPeerCertCheck and WithLogger.
// Options are applied in order (a later one wins over an earlier one); an
// option with a bad argument does not fail on its own: the constructor
// reports it, together with Config.Validate's findings and its own
// checks, in one error.
//
// The option types are sealed: only this package makes options, so every
// one of them is listed here, in daemonoptions.go and in proxyoptions.go.

// DaemonOption configures NewDaemon: the functions below that return a
// DaemonOption, and every Option (WithHMACKey, WithReplayProtectedHMAC,
// WithTLSConfig, WithPeerCertCheck, WithLogger).
type DaemonOption interface {
	applyDaemon(*daemonConfig)
}

// ProxyOption configures NewProxy: the functions below that return a
// ProxyOption, and every Option (WithHMACKey, WithReplayProtectedHMAC,
// WithTLSConfig, WithPeerCertCheck, WithLogger).
type ProxyOption interface {
	applyProxy(*proxyConfig)
}

// Option is a setting that means the same for daemons and proxies; it
// can be given to NewDaemon and to NewProxy.
type Option interface {
	DaemonOption
	ProxyOption
}

// sharedConfig holds the settings of the Options, on either side.
type sharedConfig struct {
	hmacKey    []byte
	hmacKeySet bool
	boundHMAC  bool // replay-protected HMAC (hmacbind.go)
	tls        *tls.Config
	tlsSet     bool
	peerCheck  PeerCertCheck
	logger     *slog.Logger
	errs       []error // bad option arguments, reported by the constructor
}

// fail records a bad option argument.
func (c *sharedConfig) fail(err error) { c.errs = append(c.errs, err) }

// sharedOption is an Option.
type sharedOption func(*sharedConfig)

func (o sharedOption) applyDaemon(c *daemonConfig) { o(&c.sharedConfig) }
func (o sharedOption) applyProxy(c *proxyConfig)   { o(&c.sharedConfig) }

// WithHMACKey sets the key that signs every message (Pyro4's HMAC-SHA1),
// overriding the config's HMAC_KEY; both sides need the same key. An
// empty key turns signing off.
func WithHMACKey(key []byte) Option {
	key = append([]byte(nil), key...)
	return sharedOption(func(c *sharedConfig) { c.hmacKey, c.hmacKeySet = key, true })
}

// WithReplayProtectedHMAC sets the HMAC key (like WithHMACKey) and turns
// on the replay-protected HMAC mode (hmacbind.go): every message is bound
// to its connection and its position, so a captured message cannot be
// replayed. Both sides must use it: a daemon in this mode refuses clients
// that do not (Python's Pyro4 among them), and a proxy in this mode
// refuses daemons that do not. The key must not be empty.
func WithReplayProtectedHMAC(key []byte) Option {
	key = append([]byte(nil), key...)
	return sharedOption(func(c *sharedConfig) {
		if len(key) == 0 {
			c.fail(errors.New("pyro: WithReplayProtectedHMAC needs a key"))
			return
		}
		c.hmacKey, c.hmacKeySet, c.boundHMAC = key, true, true
	})
}

// WithTLSConfig makes the daemon or proxy speak TLS with conf, overriding
// the config's SSL items (SSL=true without this option builds the
// configuration with ServerTLSConfig or ClientTLSConfig). A conf that
// allows versions older than TLS 1.2 is raised to TLS 1.2.
//
// A daemon's conf must have a certificate (nil is an error); for mutual
// TLS set conf.ClientAuth to tls.RequireAndVerifyClientCert and
// conf.ClientCAs. A proxy verifies the host of each URI it connects to
// when conf.ServerName is empty; for a proxy, WithTLSConfig(nil) turns
// TLS off even when the config's SSL is set.
func WithTLSConfig(conf *tls.Config) Option {
	return sharedOption(func(c *sharedConfig) { c.tls, c.tlsSet = atLeastTLS12(conf), true })
}

// WithPeerCertCheck installs a check of the other side's TLS certificate,
// run after every TLS handshake. On a daemon it checks each client: a
// refused client gets a CONNECTFAIL with the reason (a
// ConnectionDeniedError in Go, a CommunicationError in Python) and the
// refusal is logged once; with one-way TLS clients send no certificate,
// so checks that look at it refuse everybody: use it with mutual TLS
// (SSL_REQUIRECLIENTCERT). On a proxy it checks the daemon of every
// connection; a refusal fails the connection with a CommunicationError.
// The constructor fails when there is no TLS.
func WithPeerCertCheck(check PeerCertCheck) Option {
	return sharedOption(func(c *sharedConfig) { c.peerCheck = check })
}

// WithLogger sets the logger; the default discards. A daemon logs
// connections and refusals at info level and every call at debug level;
// a proxy logs new connections at debug level. With the config's LOGWIRE
// both also log every message at debug level.
func WithLogger(l *slog.Logger) Option {
	return sharedOption(func(c *sharedConfig) { c.logger = l })
}

// logOrDiscard returns l, or a logger that discards when l is nil.
func logOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
