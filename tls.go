package pyro

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/wire"
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
	plain, err := decodeKeyPEM(keyPEM, []byte(passwd))
	if err != nil {
		if errors.Is(err, errNoKey) && keyFile == "" {
			return tls.Certificate{}, fmt.Errorf("pyro: %s: no PEM private key in the certificate file; set %s", keyName, keyItem)
		}
		if errors.Is(err, errKeyNeedsPassword) {
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

var (
	errKeyNeedsPassword = errors.New("the private key is encrypted and no password is set")
	errNoKey            = errors.New("no PEM private key found")
)

// decodeKeyPEM finds the first PEM private key in data and returns it
// unencrypted, PEM encoded. A password for an unencrypted key is ignored,
// as Python's ssl module ignores it.
func decodeKeyPEM(data, passwd []byte) ([]byte, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errNoKey
		}
		switch {
		case b.Type == "ENCRYPTED PRIVATE KEY":
			if len(passwd) == 0 {
				return nil, errKeyNeedsPassword
			}
			der, err := decryptPKCS8(b.Bytes, passwd)
			if err != nil {
				return nil, err
			}
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
		case !strings.HasSuffix(b.Type, "PRIVATE KEY"):
			continue
		case strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED"):
			// OpenSSL's legacy encryption (RFC 1423). Go deprecates it
			// because it is unauthenticated, which does not matter for a
			// local key file; it is what "openssl ... -traditional"
			// and many older tools still write.
			if len(passwd) == 0 {
				return nil, errKeyNeedsPassword
			}
			der, err := x509.DecryptPEMBlock(b, passwd) //nolint:staticcheck // see above
			if err != nil {
				if errors.Is(err, x509.IncorrectPasswordError) {
					return nil, errors.New("wrong password for the private key")
				}
				return nil, err
			}
			return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: der}), nil
		default:
			return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes}), nil
		}
	}
}

// Object identifiers of PKCS#5 v2 (RFC 8018) and the ciphers it uses.
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// maxPBKDF2Iterations bounds the work a key file can ask for.
const maxPBKDF2Iterations = 10_000_000

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Cipher pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo (RFC 5958) protected
// with PBES2 (PBKDF2 + AES-CBC or DES-EDE3-CBC), the format of
// "openssl pkcs8 -topk8", OpenSSL 3's default, and Python's cryptography
// package, and returns the PKCS#8 PrivateKeyInfo DER.
func decryptPKCS8(der, passwd []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed encrypted PKCS#8 private key")
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("encrypted PKCS#8 private key uses scheme %v; only PBES2 is supported (re-encrypt it with \"openssl pkcs8 -topk8 -v2 aes-256-cbc\")", info.Algo.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil {
		return nil, errors.New("malformed PBES2 parameters")
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("PBES2 key derivation %v is not supported (only PBKDF2)", params.KDF.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil {
		return nil, errors.New("malformed PBKDF2 parameters")
	}
	if kdf.Iterations < 1 || kdf.Iterations > maxPBKDF2Iterations {
		return nil, fmt.Errorf("PBKDF2 iteration count %d out of range", kdf.Iterations)
	}
	var prf func() hash.Hash
	switch alg := kdf.PRF.Algorithm; {
	case len(alg) == 0, alg.Equal(oidHMACSHA1):
		prf = sha1.New
	case alg.Equal(oidHMACSHA224):
		prf = sha256.New224
	case alg.Equal(oidHMACSHA256):
		prf = sha256.New
	case alg.Equal(oidHMACSHA384):
		prf = sha512.New384
	case alg.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("PBKDF2 pseudo-random function %v is not supported", alg)
	}
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch alg := params.Cipher.Algorithm; {
	case alg.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case alg.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case alg.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case alg.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("PBES2 cipher %v is not supported (use AES-CBC)", alg)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, errors.New("PBKDF2 key length does not match the cipher")
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Cipher.Parameters.FullBytes, &iv); err != nil {
		return nil, errors.New("malformed cipher parameters")
	}
	key, err := pbkdf2.Key(prf, string(passwd), kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, errors.New("malformed encrypted private key data")
	}
	plain := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, info.Data)
	wrong := errors.New("wrong password for the private key (or a corrupt key)")
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > bs || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, wrong
	}
	plain = plain[:len(plain)-pad]
	if _, err := x509.ParsePKCS8PrivateKey(plain); err != nil {
		return nil, wrong
	}
	return plain, nil
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

// handshakeTimeout is the time a new client has for the TLS handshake
// and for sending its CONNECT: COMMTIMEOUT, or defaultHandshakeTimeout.
func (d *Daemon) handshakeTimeout() time.Duration {
	if t := d.cfg.CommTimeout; t > 0 {
		return t
	}
	return defaultHandshakeTimeout
}

// refusedConnectSize bounds the CONNECT a daemon reads from a client it
// refuses, only to answer it.
const refusedConnectSize = 64 << 10

// tlsHandshake runs the TLS handshake of a daemon connection, with a
// deadline, and the peer certificate check; false means the connection
// is done. It records the TLS state in the connection's ConnInfo.
func (c *serverConn) tlsHandshake() bool {
	var tc *tls.Conn
	switch x := c.nc.(type) {
	case tlsServerConn:
		tc = x.Conn
	case *tls.Conn: // from a TLS listener given with WithListener
		tc = x
	default:
		return true
	}
	d := c.d
	timeout := d.handshakeTimeout()
	tc.SetDeadline(time.Now().Add(timeout))
	defer tc.SetDeadline(time.Time{})
	if err := tc.Handshake(); err != nil {
		var rhe tls.RecordHeaderError
		if errors.As(err, &rhe) && rhe.Conn != nil && string(rhe.RecordHeader[:4]) == "PYRO" {
			c.refusePlaintext(rhe)
			return false
		}
		if !d.closing.Load() {
			const msg = "pyro: TLS handshake failed"
			if errors.Is(err, io.EOF) {
				d.log.Debug(msg, "peer", c.info.RemoteAddr, "err", err) // a probe
			} else {
				d.log.Info(msg, "peer", c.info.RemoteAddr, "err", err)
			}
		}
		return false
	}
	st := tc.ConnectionState()
	c.info.TLS = &st
	if d.peerCheck == nil {
		return true
	}
	err := d.peerCheck(&st)
	if err == nil {
		return true
	}
	reason := "client certificate refused: " + err.Error()
	d.log.Info("pyro: connection refused", "peer", c.info.RemoteAddr, "reason", reason)
	// read the CONNECT first, so that the client gets the CONNECTFAIL
	// rather than a reset for unread data
	opts := d.wireOpts
	if opts.MaxMessageSize <= 0 || opts.MaxMessageSize > refusedConnectSize {
		opts.MaxMessageSize = refusedConnectSize
	}
	opts.MaxDecompressedSize = opts.MaxMessageSize
	msg, rerr := wire.ReadMessage(c.br, &opts)
	var ne net.Error
	if errors.As(rerr, &ne) || errors.Is(rerr, wire.ErrClosed) || errors.Is(rerr, wire.ErrTooLarge) {
		return false
	}
	var seq uint16
	if rerr == nil {
		seq = msg.Seq
	}
	c.connectFail(seq, reason)
	return false
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
// the client still sends (at most refusedConnectSize bytes, under the
// handshake deadline still set on the connection), so that the answer is
// not lost to a reset for unread data. The answer is always the same
// fixed text: nothing the client sent is echoed.
func (c *serverConn) refusePlaintext(rhe tls.RecordHeaderError) {
	d := c.d
	d.log.Info("pyro: connection refused", "peer", c.info.RemoteAddr, "reason", "plaintext Pyro client on a TLS daemon")
	data, _ := marshal.Marshal(plaintextReason)
	// unsigned: nothing is signed for a client that has not even started
	// TLS (a keyed client reports the missing HMAC instead of the reason)
	out, err := wire.AppendMessage(nil, &wire.Message{Type: wire.MsgConnectFail, SerializerID: codec.IDMarshal, Data: data}, nil)
	if err != nil {
		return
	}
	if _, err := rhe.Conn.Write(out); err != nil {
		return
	}
	if cw, ok := rhe.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.CopyN(io.Discard, rhe.Conn, refusedConnectSize)
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
