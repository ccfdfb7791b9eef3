package devcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Bundle is a CA with one server and one client certificate, PEM encoded.
type Bundle struct {
	CACert     []byte
	ServerCert []byte
	ServerKey  []byte
	ClientCert []byte
	ClientKey  []byte
}

// File names Write uses.
const (
	CACertFile     = "ca.crt"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
	ClientCertFile = "client.crt"
	ClientKeyFile  = "client.key"
)

// New makes a bundle. hosts are the server certificate's names (DNS names
// or IP addresses); empty means "localhost", 127.0.0.1 and ::1.
func New(hosts ...string) (*Bundle, error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	now := time.Now().Add(-time.Hour)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "pyrogo development CA", Organization: []string{"pyrogo"}},
		NotBefore:             now,
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	b := &Bundle{CACert: pemBlock("CERTIFICATE", caDER)}
	leaf := func(cn string, usage x509.ExtKeyUsage, names []string) ([]byte, []byte, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"pyrogo"}},
			NotBefore:    now,
			NotAfter:     now.Add(365 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		for _, h := range names {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		kd, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kd), nil
	}
	if b.ServerCert, b.ServerKey, err = leaf(hosts[0], x509.ExtKeyUsageServerAuth, hosts); err != nil {
		return nil, err
	}
	if b.ClientCert, b.ClientKey, err = leaf("pyrogo client", x509.ExtKeyUsageClientAuth, nil); err != nil {
		return nil, err
	}
	return b, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n.Add(n, big.NewInt(1))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// Write stores the bundle in dir (created with mode 0700 if missing):
// certificates with mode 0644, keys with mode 0600. Existing files are
// not overwritten.
func (b *Bundle) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CACertFile, b.CACert, 0o644}, {ServerCertFile, b.ServerCert, 0o644}, {ServerKeyFile, b.ServerKey, 0o600},
		{ClientCertFile, b.ClientCert, 0o644}, {ClientKeyFile, b.ClientKey, 0o600},
	}
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, f.name)); err == nil {
			return fmt.Errorf("devcert: %s already exists; not overwriting", filepath.Join(dir, f.name))
		}
	}
	for _, f := range files {
		// O_EXCL: never follow or replace a file planted meanwhile
		fh, err := os.OpenFile(filepath.Join(dir, f.name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return err
		}
		_, werr := fh.Write(f.data)
		cerr := fh.Close()
		if err := errors.Join(werr, cerr); err != nil {
			return err
		}
	}
	return nil
}

// ServerTLS returns a server tls.Config using the bundle; with
// requireClientCert the server demands a client certificate signed by the
// CA (mutual TLS).
func (b *Bundle) ServerTLS(requireClientCert bool) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(b.ServerCert, b.ServerKey)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		cfg.ClientCAs = b.pool()
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientTLS returns a client tls.Config trusting the bundle's CA, with the
// client certificate when withCert is set.
func (b *Bundle) ClientTLS(withCert bool) (*tls.Config, error) {
	cfg := &tls.Config{RootCAs: b.pool(), MinVersion: tls.VersionTLS12}
	if withCert {
		cert, err := tls.X509KeyPair(b.ClientCert, b.ClientKey)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func (b *Bundle) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(b.CACert)
	return p
}
