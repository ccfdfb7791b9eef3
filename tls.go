package pyro

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pyrogo/pyro/internal/pemkey"
)

// This file holds pyrogo's TLS support: the tls.Config builders for
// Pyro's SSL_* config items, the peer certificate checks, and the TLS
// handshake of daemon connections (the options are in options.go).
//
// Pyro4 wraps the socket in TLS from its first byte (no STARTTLS) and
// speaks the unchanged Pyro protocol inside, so Python peers with
// SSL=True interoperate. pyrogo requires TLS 1.2 at least; Go negotiates
// TLS 1.3 whenever the peer can.

// PeerCertCheck inspects the other side of a TLS connection after the TLS
// handshake succeeded (so the chain, the validity period and, on a client,
// the host name are already verified). It returns an error to refuse the
// peer. state.PeerCertificates[0] is the peer's own certificate; on a
// daemon it is absent unless the daemon asks for client certificates
// (SSL_REQUIRECLIENTCERT, or a tls.Config with a ClientAuth that requests
// them). The ready-made checks CheckCommonName, CheckSerial, CheckSAN and
// PinSHA256 can be combined with CheckAll.
//
// A check is the Go form of the certificate tests Pyro's ssl example does
// in Daemon.validateHandshake and Proxy._pyroValidateHandshake.
type PeerCertCheck func(state *tls.ConnectionState) error

// ErrNoPeerCertificate is returned by the ready-made PeerCertChecks when
// the peer sent no certificate.
var ErrNoPeerCertificate = errors.New("no peer certificate")

func peerLeaf(state *tls.ConnectionState) (*x509.Certificate, error) {
	if state == nil || len(state.PeerCertificates) == 0 {
		return nil, ErrNoPeerCertificate
	}
	return state.PeerCertificates[0], nil
}

// CheckCommonName accepts a peer whose certificate's subject common name
// is one of names (exact match).
func CheckCommonName(names ...string) PeerCertCheck {
	names = slices.Clone(names)
	return func(state *tls.ConnectionState) error {
		leaf, err := peerLeaf(state)
		if err != nil {
			return err
		}
		if slices.Contains(names, leaf.Subject.CommonName) {
			return nil
		}
		return fmt.Errorf("certificate common name %q is not accepted", leaf.Subject.CommonName)
	}
}

// CheckSerial accepts a peer whose certificate's serial number is one of
// serials, written in hexadecimal as Python's getpeercert() and openssl
// show them ("D163AB82B8B74DE6"); case, colons and leading zeros do not
// matter. A serial that is not hexadecimal makes every check fail.
func CheckSerial(serials ...string) PeerCertCheck {
	var want []*big.Int
	bad := ""
	for _, s := range serials {
		n, ok := new(big.Int).SetString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""), 16)
		if !ok {
			bad = s
			continue
		}
		want = append(want, n)
	}
	return func(state *tls.ConnectionState) error {
		if bad != "" {
			return fmt.Errorf("CheckSerial: %q is not a hexadecimal serial number", bad)
		}
		leaf, err := peerLeaf(state)
		if err != nil {
			return err
		}
		for _, n := range want {
			if n.Cmp(leaf.SerialNumber) == 0 {
				return nil
			}
		}
		return fmt.Errorf("certificate serial number %X is not accepted", leaf.SerialNumber)
	}
}

// CheckSAN accepts a peer whose certificate lists at least one of names
// among its subject alternative names: DNS names (compared without regard
// to case), IP addresses (compared as addresses, so "::1" matches
// "0:0:0:0:0:0:0:1"), URIs and e-mail addresses. Wildcards are not
// expanded: "*.example.com" matches only that literal SAN.
func CheckSAN(names ...string) PeerCertCheck {
	names = slices.Clone(names)
	return func(state *tls.ConnectionState) error {
		leaf, err := peerLeaf(state)
		if err != nil {
			return err
		}
		for _, n := range names {
			if ip := net.ParseIP(n); ip != nil {
				for _, a := range leaf.IPAddresses {
					if a.Equal(ip) {
						return nil
					}
				}
				continue
			}
			for _, d := range leaf.DNSNames {
				if strings.EqualFold(d, n) {
					return nil
				}
			}
			for _, u := range leaf.URIs {
				if u.String() == n {
					return nil
				}
			}
			if slices.Contains(leaf.EmailAddresses, n) {
				return nil
			}
		}
		return errors.New("certificate has none of the accepted subject alternative names")
	}
}

// PinSHA256 accepts a peer whose certificate has one of the given SHA-256
// fingerprints: the hash of the DER certificate, in hexadecimal, with or
// without colons, in any case (the form of "openssl x509 -fingerprint
// -sha256" and of CertFingerprintSHA256). Pinning lets a client trust a
// self-signed server certificate on its own: use it with a tls.Config
// whose InsecureSkipVerify is set (WithTLSConfig), and the pin becomes the
// only check.
func PinSHA256(fingerprints ...string) PeerCertCheck {
	var want [][]byte
	bad := ""
	for _, f := range fingerprints {
		b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(f), ":", ""))
		if err != nil || len(b) != sha256.Size {
			bad = f
			continue
		}
		want = append(want, b)
	}
	return func(state *tls.ConnectionState) error {
		if bad != "" {
			return fmt.Errorf("PinSHA256: %q is not a SHA-256 fingerprint", bad)
		}
		leaf, err := peerLeaf(state)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(leaf.Raw)
		for _, w := range want {
			if subtle.ConstantTimeCompare(w, sum[:]) == 1 {
				return nil
			}
		}
		return errors.New("certificate fingerprint is not pinned")
	}
}

// CheckAll combines checks: the peer must pass every one; the first
// refusal is returned.
func CheckAll(checks ...PeerCertCheck) PeerCertCheck {
	checks = slices.Clone(checks)
	return func(state *tls.ConnectionState) error {
		for _, c := range checks {
			if c == nil {
				continue
			}
			if err := c(state); err != nil {
				return err
			}
		}
		return nil
	}
}

// CertFingerprintSHA256 returns the SHA-256 fingerprint of a certificate
// as openssl prints it: upper-case hexadecimal bytes separated by colons.
func CertFingerprintSHA256(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// ServerTLSConfig builds the tls.Config of a daemon from Pyro's SSL_*
// config items, as Pyro4 does for SSL=True (it does not look at cfg.SSL):
//
//   - SSL_SERVERCERT: the PEM certificate (chain) file; required.
//   - SSL_SERVERKEY: its PEM private key file; empty means the key is in
//     the certificate file.
//   - SSL_SERVERKEYPASSWD: the password of an encrypted key (PKCS#8
//     "ENCRYPTED PRIVATE KEY" with PBES2/PBKDF2 and AES or 3DES, or a
//     legacy OpenSSL "Proc-Type: 4,ENCRYPTED" key).
//   - SSL_REQUIRECLIENTCERT: demand a client certificate and verify it
//     against SSL_CACERTS (mutual TLS). Without it the daemon asks for no
//     client certificate, like Pyro.
//   - SSL_CACERTS: a PEM file, or a directory whose files hold PEM
//     certificates, with the CAs that sign client certificates. Unlike
//     Python, which also trusts the system's CAs, pyrogo trusts only these
//     for client certificates, and SSL_REQUIRECLIENTCERT without
//     SSL_CACERTS is an error.
//
// The result requires TLS 1.2 or newer.
func ServerTLSConfig(cfg *Config) (*tls.Config, error) {
	if cfg.SSLServerCert == "" {
		return nil, errors.New("pyro: SSL_SERVERCERT is not set (the server certificate file)")
	}
	cert, err := loadKeyPair("SSL_SERVERCERT", cfg.SSLServerCert, "SSL_SERVERKEY", cfg.SSLServerKey, cfg.SSLServerKeyPasswd)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.SSLRequireClientCert {
		if cfg.SSLCACerts == "" {
			return nil, errors.New("pyro: SSL_REQUIRECLIENTCERT needs SSL_CACERTS (the CA certificates that sign client certificates)")
		}
		pool, err := loadCAPool(cfg.SSLCACerts)
		if err != nil {
			return nil, err
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// ClientTLSConfig builds the tls.Config of a proxy from Pyro's SSL_*
// config items (it does not look at cfg.SSL):
//
//   - SSL_CACERTS: a PEM file or a directory of PEM files with the CAs
//     that sign server certificates. When it is set, pyrogo trusts only
//     these CAs (Python adds them to the system's); when it is empty, the
//     system's CAs.
//   - SSL_CLIENTCERT, SSL_CLIENTKEY, SSL_CLIENTKEYPASSWD: the client's
//     certificate for mutual TLS, its key (empty: inside the certificate
//     file) and the key's password; see ServerTLSConfig for key formats.
//
// serverName is the name the server certificate must carry; leave it
// empty and a proxy verifies the host of each URI it connects to (an IP
// address URI needs an IP SAN; a unix socket URI is checked against
// "localhost"). The result requires TLS 1.2 or newer.
func ClientTLSConfig(cfg *Config, serverName string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if cfg.SSLCACerts != "" {
		pool, err := loadCAPool(cfg.SSLCACerts)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	switch {
	case cfg.SSLClientCert != "":
		cert, err := loadKeyPair("SSL_CLIENTCERT", cfg.SSLClientCert, "SSL_CLIENTKEY", cfg.SSLClientKey, cfg.SSLClientKeyPasswd)
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{cert}
	case cfg.SSLClientKey != "":
		return nil, errors.New("pyro: SSL_CLIENTKEY is set but SSL_CLIENTCERT is not")
	}
	return tc, nil
}

// loadKeyPair reads a PEM certificate chain and its private key. An empty
// keyFile means the key is in certFile, as Pyro allows.
func loadKeyPair(certItem, certFile, keyItem, keyFile, passwd string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pyro: %s: %w", certItem, err)
	}
	keyPEM, keyName := certPEM, certItem+" "+certFile
	if keyFile != "" {
		if keyPEM, err = os.ReadFile(keyFile); err != nil {
			return tls.Certificate{}, fmt.Errorf("pyro: %s: %w", keyItem, err)
		}
		keyName = keyItem + " " + keyFile
	}
	plain, err := pemkey.Decode(keyPEM, []byte(passwd))
	if err != nil {
		if errors.Is(err, pemkey.ErrNoKey) && keyFile == "" {
			return tls.Certificate{}, fmt.Errorf("pyro: %s: no PEM private key in the certificate file; set %s", keyName, keyItem)
		}
		if errors.Is(err, pemkey.ErrNeedsPassword) {
			return tls.Certificate{}, fmt.Errorf("pyro: %s: the private key is encrypted; set %sPASSWD", keyName, keyItem)
		}
		return tls.Certificate{}, fmt.Errorf("pyro: %s: %w", keyName, err)
	}
	cert, err := tls.X509KeyPair(certPEM, plain)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pyro: %s %s with %s: %w", certItem, certFile, keyName, err)
	}
	return cert, nil
}

// loadCAPool reads CA certificates from a PEM file, or from every regular
// file of a directory (such as an OpenSSL capath made by c_rehash; files
// without certificates are skipped).
func loadCAPool(path string) (*x509.CertPool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pyro: SSL_CACERTS: %w", err)
	}
	pool := x509.NewCertPool()
	if !fi.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("pyro: SSL_CACERTS: %w", err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("pyro: SSL_CACERTS %s: no PEM certificate found", path)
		}
		return pool, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("pyro: SSL_CACERTS: %w", err)
	}
	found := false
	for _, e := range entries {
		name := filepath.Join(path, e.Name())
		if st, err := os.Stat(name); err != nil || !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("pyro: SSL_CACERTS: %w", err)
		}
		if pool.AppendCertsFromPEM(data) {
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("pyro: SSL_CACERTS %s: no PEM certificate found in the directory", path)
	}
	return pool, nil
}

// atLeastTLS12 returns conf, cloned with MinVersion raised to TLS 1.2 if
// it allowed older versions.
func atLeastTLS12(conf *tls.Config) *tls.Config {
	if conf == nil || conf.MinVersion >= tls.VersionTLS12 {
		return conf
	}
	conf = conf.Clone()
	conf.MinVersion = tls.VersionTLS12
	return conf
}

// TLSConfig returns the daemon's TLS configuration, nil without TLS.
func (d *Daemon) TLSConfig() *tls.Config { return d.tlsConf }

// setupTLS completes the daemon's TLS settings from its config; listen
// calls it.
func (d *Daemon) setupTLS() error {
	if d.tlsConf == nil && d.cfg.SSL {
		conf, err := ServerTLSConfig(d.cfg)
		if err != nil {
			return wrapError(ErrCommunication, "cannot set up TLS: "+err.Error(), err)
		}
		d.tlsConf = conf
	}
	d.tlsConf = d.sec.auth.certs.track(d.tlsConf) // certificates passphrase proofs may name (authendpoint.go)
	return nil
}

// tlsServerConn is a daemon's TLS connection. Closing it closes the
// socket at once without a close_notify alert: Pyro's framing makes the
// alert unnecessary, and sending it could block Close for seconds on a
// client that stopped reading.
type tlsServerConn struct{ *tls.Conn }

// Close closes the underlying connection.
func (c tlsServerConn) Close() error { return c.Conn.NetConn().Close() }

// wrapConn returns an accepted connection as the daemon serves it: a TLS
// server connection when TLS is on. The TLS handshake itself happens
// later, in the connection's goroutine (tlsHandshake), so that a client
// that never sends its ClientHello cannot hold up the accept loop.
func (d *Daemon) wrapConn(nc net.Conn) net.Conn {
	if d.tlsConf == nil {
		return nc
	}
	return tlsServerConn{tls.Server(nc, d.tlsConf)}
}

// TLSConfig returns the proxy's TLS configuration, nil without TLS.
func (p *Proxy) TLSConfig() *tls.Config { return p.tlsConf }

// setupTLS completes the proxy's TLS settings from its config; NewProxyURI
// calls it after the options.
func (p *Proxy) setupTLS() error {
	if !p.tlsSet && p.cfg.SSL {
		conf, err := ClientTLSConfig(p.cfg, "")
		if err != nil {
			return wrapError(ErrCommunication, "cannot set up TLS: "+err.Error(), err)
		}
		p.tlsConf = conf
	}
	return nil
}

// startTLS runs the client side of the TLS handshake on a new connection
// to target, then the peer certificate check. Without TLS it returns nc.
// On failure nc is closed.
func (p *Proxy) startTLS(ctx context.Context, nc net.Conn, target URI) (net.Conn, error) {
	if p.tlsConf == nil {
		return nc, nil
	}
	conf := p.tlsConf
	if conf.ServerName == "" {
		conf = conf.Clone()
		conf.ServerName = target.Host
		if conf.ServerName == "" {
			conf.ServerName = "localhost" // unix socket
		}
	}
	tc := tls.Client(nc, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	if p.peerCheck != nil {
		st := tc.ConnectionState()
		if err := p.peerCheck(&st); err != nil {
			nc.Close()
			return nil, fmt.Errorf("server certificate refused: %w", err)
		}
	}
	return tc, nil
}

// tlsNothingBuffered reports whether an idle TLS connection has no
// records that its TLS layer already read from the socket (an alert, or
// data the daemon should not have sent). It reads with a deadline in the
// past, which processes buffered records without waiting; session
// tickets are consumed harmlessly. Call it only when the socket itself
// has nothing to read (socketIdle) and nobody else uses the connection.
func tlsNothingBuffered(tc *tls.Conn) bool {
	if err := tc.SetReadDeadline(time.Unix(1, 0)); err != nil {
		return false
	}
	var b [1]byte
	n, err := tc.Read(b[:])
	tc.SetReadDeadline(time.Time{})
	var ne net.Error
	return n == 0 && errors.As(err, &ne) && ne.Timeout()
}
