package pyro

// The peer certificate checks (WithPeerCertCheck and the Check*
// functions) on both sides of a TLS connection.

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/testkit"
)

// TestTLSPeerCertChecks covers the certificate check hooks on both sides.
func TestTLSPeerCertChecks(t *testing.T) {
	b := testBundle(t)
	logger, logBuf := testkit.TextLogger(slog.LevelInfo)
	cli := clientTLS(t, b, true)

	t.Run("server accepts", func(t *testing.T) {
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)),
			WithPeerCertCheck(CheckAll(CheckCommonName("pyrogo client"), PinSHA256(fingerprint(t, b.ClientCert)))))
		mustServe(t, u, "pyrogo client", WithTLSConfig(cli))
	})
	t.Run("server refuses", func(t *testing.T) {
		_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)), WithLogger(logger),
			WithPeerCertCheck(CheckCommonName("mallory")))
		_, err := callProbe(u, nil, WithTLSConfig(cli))
		want := `connection to ` + u.Location() + ` rejected: client certificate refused: certificate common name "pyrogo client" is not accepted`
		if !errors.Is(err, ErrConnectionDenied) || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
		n := strings.Count(logBuf.String(), "client certificate refused")
		if n != 1 {
			t.Errorf("refusal logged %d times:\n%s", n, logBuf.String())
		}
	})
	_, u := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, false)))
	serverFP := fingerprint(t, b.ServerCert)
	t.Run("client pins", func(t *testing.T) {
		mustServe(t, u, "anonymous", WithTLSConfig(clientTLS(t, b, false)), WithPeerCertCheck(PinSHA256(serverFP)))
		lower := strings.ToLower(strings.ReplaceAll(serverFP, ":", ""))
		mustServe(t, u, "anonymous", WithTLSConfig(clientTLS(t, b, false)), WithPeerCertCheck(PinSHA256(strings.Repeat("00", 32), lower)))
		// pinning alone, for a server whose CA the client does not know
		mustServe(t, u, "anonymous", WithTLSConfig(&tls.Config{InsecureSkipVerify: true}), WithPeerCertCheck(PinSHA256(serverFP)))
	})
	t.Run("client refuses", func(t *testing.T) {
		wrong := fingerprint(t, b.ClientCert)
		_, err := callProbe(u, nil, WithTLSConfig(clientTLS(t, b, false)), WithPeerCertCheck(PinSHA256(wrong)))
		if !errors.Is(err, ErrCommunication) || errors.Is(err, ErrConnectionDenied) ||
			!strings.Contains(err.Error(), "server certificate refused: certificate fingerprint is not pinned") {
			t.Errorf("wrong pin: %v", err)
		}
		_, err = callProbe(u, nil, WithTLSConfig(&tls.Config{InsecureSkipVerify: true}), WithPeerCertCheck(PinSHA256(wrong)))
		if err == nil {
			t.Error("wrong pin accepted with InsecureSkipVerify")
		}
		_, err = callProbe(u, nil, WithTLSConfig(clientTLS(t, b, false)), WithPeerCertCheck(CheckSerial("01")))
		if err == nil || !strings.Contains(err.Error(), "serial number") {
			t.Errorf("wrong serial: %v", err)
		}
	})
	t.Run("autoproxy inherits", func(t *testing.T) {
		d, tu := startTLSDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)), WithPeerCertCheck(CheckCommonName("pyrogo client")))
		thing := tu
		thing.Object = "thing"
		_ = d
		p := newProxy(t, thing, nil, WithTLSConfig(cli), WithPeerCertCheck(PinSHA256(serverFP)))
		child, err := CallT[*Proxy](context.Background(), p, "get_child")
		if err != nil {
			t.Fatal(err)
		}
		defer child.Close()
		if child.TLSConfig() != p.TLSConfig() {
			t.Error("autoproxy did not inherit the TLS config")
		}
		if name, err := CallT[string](context.Background(), child, "name"); err != nil || name != "kid" {
			t.Errorf("autoproxy call over TLS: %q %v", name, err)
		}
	})
}

func parseCertPEM(t testing.TB, data []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(data)
	if blk == nil {
		t.Fatal("no PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fingerprint(t testing.TB, certPEM []byte) string {
	return CertFingerprintSHA256(parseCertPEM(t, certPEM))
}

func TestPeerCertCheckFunctions(t *testing.T) {
	b := testBundle(t)
	srv := parseCertPEM(t, b.ServerCert)
	st := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{srv}}
	serial := fmt.Sprintf("%X", srv.SerialNumber)
	var colons []string
	for i := 0; i < len(serial); i += 2 {
		colons = append(colons, strings.ToLower(serial[i:min(i+2, len(serial))]))
	}
	sum := sha256.Sum256(srv.Raw)
	cases := []struct {
		name  string
		check PeerCertCheck
		ok    bool
	}{
		{"cn", CheckCommonName("x", "localhost"), true},
		{"cn wrong", CheckCommonName("Localhost"), false},
		{"serial", CheckSerial(serial), true},
		{"serial colons", CheckSerial("ff", strings.Join(colons, ":")), true},
		{"serial leading zeros", CheckSerial("0000" + serial), true},
		{"serial wrong", CheckSerial("1234"), false},
		{"serial not hex", CheckSerial(serial, "xyz"), false},
		{"san dns", CheckSAN("LOCALHOST"), true},
		{"san ip", CheckSAN("127.0.0.1"), true},
		{"san ipv6 long form", CheckSAN("0:0:0:0:0:0:0:1"), true},
		{"san wrong", CheckSAN("evil.example", "10.0.0.1"), false},
		{"pin", PinSHA256(fmt.Sprintf("%x", sum)), true},
		{"pin wrong", PinSHA256(strings.Repeat("ab", 32)), false},
		{"pin malformed", PinSHA256("abc", fmt.Sprintf("%x", sum)), false},
		{"all", CheckAll(CheckCommonName("localhost"), nil, CheckSAN("::1")), true},
		{"all one fails", CheckAll(CheckCommonName("localhost"), CheckSerial("1")), false},
	}
	for _, c := range cases {
		if err := c.check(st); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err := c.check(&tls.ConnectionState{}); c.ok && !errors.Is(err, ErrNoPeerCertificate) {
			t.Errorf("%s without certificate: %v", c.name, err)
		}
	}
	if fp := CertFingerprintSHA256(srv); len(fp) != 95 || fp != strings.ToUpper(fp) {
		t.Errorf("fingerprint %q", fp)
	}
}
