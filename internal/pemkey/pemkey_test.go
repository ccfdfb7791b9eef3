package pemkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

// testKey returns a fresh P-256 key as PKCS#8 DER.
func testKey(t testing.TB) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestDecodeRoundTrip(t *testing.T) {
	der := testKey(t)
	enc, err := EncryptPKCS8(der, []byte("s3cret"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(enc, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
		t.Fatalf("not an encrypted PKCS#8 PEM block:\n%s", enc)
	}
	// a certificate before the key is skipped, as in a combined file
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})
	out, err := Decode(append(cert, enc...), []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(out)
	if b == nil || b.Type != "PRIVATE KEY" || !bytes.Equal(b.Bytes, der) {
		t.Fatalf("decoded key differs: %v", b)
	}

	if _, err := Decode(enc, []byte("wrong")); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := Decode(enc, nil); !errors.Is(err, ErrNeedsPassword) {
		t.Errorf("no password: %v", err)
	}
	if _, err := Decode(cert, nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("certificate only: %v", err)
	}
	// an unencrypted key passes unchanged; a password is ignored
	plain := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if out, err := Decode(plain, []byte("ignored")); err != nil || !bytes.Equal(out, plain) {
		t.Errorf("unencrypted key: %v", err)
	}
}

// OpenSSL's legacy PEM encryption ("Proc-Type: 4,ENCRYPTED").
func TestDecodeLegacyEncryption(t *testing.T) {
	der := testKey(t)
	//lint:ignore SA1019 the legacy format is what Decode must read
	blk, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte("pw"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	enc := pem.EncodeToMemory(blk)
	out, err := Decode(enc, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(out); b == nil || !bytes.Equal(b.Bytes, der) {
		t.Fatal("legacy key decoded wrongly")
	}
	if _, err := Decode(enc, nil); !errors.Is(err, ErrNeedsPassword) {
		t.Errorf("legacy key without password: %v", err)
	}
}

// encryptedWith builds an EncryptedPrivateKeyInfo with the given PBKDF2
// iteration count and cipher data, for malformed-input tests.
func encryptedWith(t *testing.T, scheme asn1.ObjectIdentifier, iterations int, data []byte) []byte {
	t.Helper()
	must := func(b []byte, err error) []byte {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	kdf := must(asn1.Marshal(pbkdf2Params{Salt: []byte("salt"), Iterations: iterations}))
	iv := must(asn1.Marshal(make([]byte, 16)))
	params := must(asn1.Marshal(pbes2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		Cipher: pkix.AlgorithmIdentifier{Algorithm: oidAES128CBC, Parameters: asn1.RawValue{FullBytes: iv}},
	}))
	return must(asn1.Marshal(encryptedPrivateKeyInfo{
		Algo: pkix.AlgorithmIdentifier{Algorithm: scheme, Parameters: asn1.RawValue{FullBytes: params}}, Data: data}))
}

// Malformed or hostile encrypted keys are errors, quickly: an iteration
// count over the bound is refused before any work.
func TestDecryptPKCS8Malformed(t *testing.T) {
	block := make([]byte, 32)
	for _, tc := range []struct {
		name string
		der  []byte
		want string
	}{
		{"garbage", []byte{0x30, 0x03, 1, 2}, "malformed encrypted PKCS#8"},
		{"trailing bytes", append(encryptedWith(t, oidPBES2, 10, block), 0), "malformed encrypted PKCS#8"},
		{"PBES1", encryptedWith(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}, 10, block), "only PBES2"},
		{"too many iterations", encryptedWith(t, oidPBES2, MaxPBKDF2Iterations+1, block), "out of range"},
		{"zero iterations", encryptedWith(t, oidPBES2, 0, block), "out of range"},
		{"partial block", encryptedWith(t, oidPBES2, 10, block[:20]), "malformed encrypted private key data"},
		{"empty data", encryptedWith(t, oidPBES2, 10, nil), "malformed encrypted private key data"},
		{"bad padding", encryptedWith(t, oidPBES2, 10, block), "wrong password"},
	} {
		t0 := time.Now()
		_, err := DecryptPKCS8(tc.der, []byte("pw"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		t.Logf("%s: %v in %v", tc.name, err, time.Since(t0))
	}
	if _, err := EncryptPKCS8(testKey(t), []byte("pw"), MaxPBKDF2Iterations+1); err == nil {
		t.Error("EncryptPKCS8 accepted an iteration count over the bound")
	}
}

// FuzzDecode: no input makes Decode panic.
func FuzzDecode(f *testing.F) {
	der := testKey(f)
	enc, err := EncryptPKCS8(der, []byte("pw"), 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc, []byte("pw"))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), []byte(nil))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), []byte("x"))
	f.Fuzz(func(t *testing.T, data, pw []byte) {
		_, _ = Decode(data, pw)
	})
}
