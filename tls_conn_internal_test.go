package pyro

// TLS connections over time (idle reuse, buffered records) and encrypted
// private keys in the SSL items.

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/pemkey"
)

// TestTLSIdleConnectionReuse: an idle pooled TLS connection is reused
// (session tickets and other post-handshake records do not make it look
// stale), and one the daemon closed is replaced without an error.
func TestTLSIdleConnectionReuse(t *testing.T) {
	b := testBundle(t)
	var handshakes atomic.Int64
	hs := func(context.Context, *ConnInfo, any) (any, error) { handshakes.Add(1); return "hello", nil }
	cfg := BuiltinConfig()
	cfg.CommTimeout = 300 * time.Millisecond
	_, u := startTLSDaemon(t, cfg, WithTLSConfig(serverTLS(t, b, false)), WithHandshake(hs))
	for _, max := range []uint16{tls.VersionTLS12, 0} {
		handshakes.Store(0)
		conf := clientTLS(t, b, false)
		conf.MaxVersion = max
		p := newProxy(t, u, nil, WithTLSConfig(conf), WithMaxConns(1))
		for i := 0; i < 3; i++ {
			if _, err := p.Call(context.Background(), "peer"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(staleCheckAfter + 50*time.Millisecond)
		}
		if n := handshakes.Load(); n != 1 {
			t.Errorf("TLS max %x: %d connections for 3 calls on an idle-checked pool", max, n)
		}
		time.Sleep(500 * time.Millisecond) // the daemon drops the idle connection
		if _, err := p.Call(context.Background(), "peer"); err != nil {
			t.Errorf("call after the daemon closed the idle connection: %v", err)
		}
		if n := handshakes.Load(); n != 2 {
			t.Errorf("%d connections, want 2", n)
		}
	}
}

// TestTLSIdleCheckBufferedRecords: socketIdle sees records that the TLS
// layer already took from the socket.
func TestTLSIdleCheckBufferedRecords(t *testing.T) {
	b := testBundle(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS(t, b, false))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("A"))
		c.Write([]byte("B")) // a second record
		<-release
	}()
	conf := clientTLS(t, b, false)
	conf.ServerName = "localhost"
	tc, err := tls.Dial("tcp", ln.Addr().String(), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { close(release); tc.Close(); <-done }()
	time.Sleep(100 * time.Millisecond) // both records arrive
	var one [1]byte
	if _, err := tc.Read(one[:]); err != nil || one[0] != 'A' {
		t.Fatalf("read %q %v", one, err)
	}
	if !socketIdle(tc.NetConn()) {
		t.Fatal("the socket itself should be drained (test assumption)")
	}
	if socketIdle(tc) {
		t.Error("socketIdle missed a record buffered in the TLS layer")
	}
}

// encryptPKCS8 encrypts a PKCS#8 key with PBES2 (PBKDF2-HMAC-SHA256,
// AES-256-CBC), as openssl pkcs8 -topk8 does.
func encryptPKCS8(t testing.TB, der []byte, pass string) []byte {
	t.Helper()
	out, err := pemkey.EncryptPKCS8(der, []byte(pass), 2048)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTLSEncryptedKeys(t *testing.T) {
	b := testBundle(t)
	dir := writeBundle(t, b)
	blk, _ := pem.Decode(b.ServerKey)
	keys := map[string][]byte{"go-pbes2": encryptPKCS8(t, blk.Bytes, "s3cret")}
	var pbes1 []byte
	if openssl, err := exec.LookPath("openssl"); err == nil {
		plain := filepath.Join(dir, devcert.ServerKeyFile)
		run := func(args ...string) []byte {
			out, err := exec.Command(openssl, args...).Output()
			if err != nil {
				t.Logf("openssl %v: %v (variant skipped)", args, err)
				return nil
			}
			return out
		}
		for name, args := range map[string][]string{
			"openssl-default":     {"pkcs8", "-topk8", "-in", plain, "-passout", "pass:s3cret"},
			"openssl-aes128-sha1": {"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1", "-in", plain, "-passout", "pass:s3cret"},
			"openssl-aes192-sha512": {"pkcs8", "-topk8", "-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512", "-in", plain,
				"-passout", "pass:s3cret"},
			"openssl-3des":        {"pkcs8", "-topk8", "-v2", "des3", "-in", plain, "-passout", "pass:s3cret"},
			"openssl-traditional": {"pkey", "-in", plain, "-aes256", "-traditional", "-passout", "pass:s3cret"},
		} {
			if out := run(args...); out != nil {
				keys[name] = out
			}
		}
		pbes1 = run("pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", plain, "-passout", "pass:s3cret")
	} else {
		t.Log("openssl not found: testing Go-encrypted keys only")
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, data, 0o600)
		return p
	}
	for name, data := range keys {
		t.Run(name, func(t *testing.T) {
			cfg := BuiltinConfig()
			cfg.SSLServerCert = filepath.Join(dir, devcert.ServerCertFile)
			cfg.SSLServerKey = write("k.pem", data)
			cfg.SSLServerKeyPasswd = "s3cret"
			if _, err := ServerTLSConfig(cfg); err != nil {
				t.Fatalf("encrypted key: %v", err)
			}
			cfg.SSLServerKeyPasswd = "wrong"
			if _, err := ServerTLSConfig(cfg); err == nil || !strings.Contains(err.Error(), "password") {
				t.Errorf("wrong password: %v", err)
			}
			cfg.SSLServerKeyPasswd = ""
			if _, err := ServerTLSConfig(cfg); err == nil || !strings.Contains(err.Error(), "set SSL_SERVERKEYPASSWD") {
				t.Errorf("no password: %v", err)
			}
		})
	}
	// a client key too, end to end
	ckBlk, _ := pem.Decode(b.ClientKey)
	scfg, ccfg := tlsConfigs(dir)
	ccfg.SSLClientKey = write("client.key", encryptPKCS8(t, ckBlk.Bytes, "pw"))
	ccfg.SSLClientKeyPasswd = "pw"
	_, u := startTLSDaemon(t, scfg)
	if got, err := callProbe(u, ccfg); err != nil || got != "pyrogo client" {
		t.Errorf("encrypted client key: %q %v", got, err)
	}
	if pbes1 != nil {
		cfg := BuiltinConfig()
		cfg.SSLServerCert = filepath.Join(dir, devcert.ServerCertFile)
		cfg.SSLServerKey = write("pbes1.pem", pbes1)
		cfg.SSLServerKeyPasswd = "s3cret"
		if _, err := ServerTLSConfig(cfg); err == nil || !strings.Contains(err.Error(), "only PBES2 is supported") {
			t.Errorf("PBES1 key: %v", err)
		}
	}
}
