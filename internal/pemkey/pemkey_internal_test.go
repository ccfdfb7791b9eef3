package pemkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
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

// OpenSSL's legacy PEM encryption ("Proc-Type: 4,ENCRYPTED"), with keys
// that OpenSSL 3.0 encrypted (testdata/legacy: "openssl ec -in ec.pem
// -aes128 ...", "openssl rsa -traditional -in rsa.pem -des3 ...", the
// password "pass wörd"; DES-CBC with "-provider legacy"): every cipher
// decrypts to the key OpenSSL started from, a wrong password is refused
// as one, and no password asks for one.
func TestDecodeLegacyEncryption(t *testing.T) {
	plain := func(name string) any {
		b, _ := pem.Decode(readFixture(t, name))
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ec, rsaKey := plain("ec.pem").(*ecdsa.PrivateKey), plain("rsa.pem").(*rsa.PrivateKey)
	ecDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER := x509.MarshalPKCS1PrivateKey(rsaKey)
	for _, tc := range []struct {
		file, typ string
		der       []byte
	}{
		{"ec-aes128.pem", "EC PRIVATE KEY", ecDER},
		{"ec-aes192.pem", "EC PRIVATE KEY", ecDER},
		{"ec-aes256.pem", "EC PRIVATE KEY", ecDER},
		{"ec-des3.pem", "EC PRIVATE KEY", ecDER},
		{"ec-des.pem", "EC PRIVATE KEY", ecDER},
		{"rsa-aes256.pem", "RSA PRIVATE KEY", rsaDER},
		{"rsa-des3.pem", "RSA PRIVATE KEY", rsaDER},
	} {
		enc := readFixture(t, tc.file)
		out, err := Decode(enc, []byte("pass wörd"))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if b, _ := pem.Decode(out); b == nil || b.Type != tc.typ || len(b.Headers) != 0 || !bytes.Equal(b.Bytes, tc.der) {
			t.Errorf("%s decoded wrongly:\n%s", tc.file, out)
		}
		if _, err := Decode(enc, []byte("pass word")); err == nil || err.Error() != "wrong password for the private key" {
			t.Errorf("%s, wrong password: %v", tc.file, err)
		}
		if _, err := Decode(enc, nil); !errors.Is(err, ErrNeedsPassword) {
			t.Errorf("%s without password: %v", tc.file, err)
		}
	}
}

// Malformed legacy headers and data are errors that say what is wrong.
func TestDecodeLegacyMalformed(t *testing.T) {
	good, _ := pem.Decode(readFixture(t, "ec-aes128.pem"))
	for _, tc := range []struct {
		name    string
		dekInfo string
		data    []byte
		want    string
	}{
		{"no DEK-Info", "", good.Bytes, "without a valid DEK-Info header"},
		{"unknown cipher", "RC2-CBC,0011223344556677", good.Bytes, `unsupported cipher "RC2-CBC"`},
		{"IV not hex", "AES-128-CBC,zz", good.Bytes, "malformed IV"},
		{"short IV", "AES-128-CBC,0011223344556677", good.Bytes, "IV of 8 bytes, want 16"},
		{"partial block", good.Headers["DEK-Info"], good.Bytes[:20], "not a whole number of cipher blocks"},
		{"no data", good.Headers["DEK-Info"], nil, "not a whole number of cipher blocks"},
		{"bad padding", good.Headers["DEK-Info"], make([]byte, 32), "wrong password"},
	} {
		h := map[string]string{"Proc-Type": "4,ENCRYPTED"}
		if tc.dekInfo != "" {
			h["DEK-Info"] = tc.dekInfo
		}
		in := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: h, Bytes: tc.data})
		if _, err := Decode(in, []byte("pass wörd")); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// readFixture reads a file of testdata/legacy.
func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "legacy", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
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
	legacy, err := os.ReadFile(filepath.Join("testdata", "legacy", "ec-aes256.pem"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(legacy, []byte("pass wörd"))
	f.Fuzz(func(t *testing.T, data, pw []byte) {
		_, _ = Decode(data, pw)
	})
}
