package mobile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// SignaturePrefix separates module signatures from every other use of an
// Ed25519 key: what is signed is SignedMessage(module), never the module
// itself.
const SignaturePrefix = "pyrogo-mobile-v1\x00"

// SignedMessage is the message an Ed25519 module signature covers: the 17
// bytes of SignaturePrefix ("pyrogo-mobile-v1" and a zero byte) followed
// by the 32-byte SHA-256 of the module.
func SignedMessage(module []byte) []byte {
	sum := sha256.Sum256(module)
	return signedMessage(sum)
}

func signedMessage(sum [32]byte) []byte {
	return append([]byte(SignaturePrefix), sum[:]...)
}

// Sign returns the Ed25519 signature of module by priv (64 bytes).
func Sign(priv ed25519.PrivateKey, module []byte) []byte {
	return ed25519.Sign(priv, SignedMessage(module))
}

// Verify reports whether sig is pub's signature of module.
func Verify(pub ed25519.PublicKey, module, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, SignedMessage(module), sig)
}

// GenerateKey makes a new Ed25519 key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// Key and signature files.
//
// A private key file is one PEM block "PRIVATE KEY" holding the key in
// PKCS #8 (RFC 8410), as "openssl genpkey -algorithm ed25519" writes it;
// keep it mode 0600. A public key file holds one or more PEM blocks
// "PUBLIC KEY" in PKIX form (RFC 8410, "openssl pkey -pubout"); several
// blocks make a key ring. A signature file is the standard base64 (RFC
// 4648, with padding) of the 64-byte signature on one line, ended by a
// newline; surrounding white space is ignored when reading.

// MarshalPrivateKey returns the PEM form of priv.
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("mobile: encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a private key file (one PEM "PRIVATE KEY" block,
// PKCS #8, Ed25519).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("mobile: private key file: no PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("mobile: private key file: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("mobile: private key file holds a %T key, not Ed25519", k)
	}
	return priv, nil
}

// MarshalPublicKey returns the PEM form of pub.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("mobile: encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKeys reads a public key file: every PEM "PUBLIC KEY" block,
// each an Ed25519 key in PKIX form. Other blocks, or none, are errors.
func ParsePublicKeys(data []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("mobile: public key file: unexpected PEM block %q", block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mobile: public key file: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("mobile: public key file holds a %T key, not Ed25519", k)
		}
		keys = append(keys, pub)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("mobile: public key file: text outside PEM blocks")
	}
	if len(keys) == 0 {
		return nil, errors.New("mobile: public key file: no PEM \"PUBLIC KEY\" block")
	}
	return keys, nil
}

// FormatSignature returns the signature file form of sig.
func FormatSignature(sig []byte) []byte {
	return append([]byte(base64.StdEncoding.EncodeToString(sig)), '\n')
}

// ParseSignature reads a signature file (or the same text sent as a str).
func ParseSignature(text []byte) ([]byte, error) {
	t := bytes.TrimSpace(text)
	if len(t) > 2*ed25519.SignatureSize {
		return nil, fmt.Errorf("mobile: signature text of %d bytes is too long for an Ed25519 signature", len(t))
	}
	sig := make([]byte, base64.StdEncoding.DecodedLen(len(t)))
	n, err := base64.StdEncoding.Decode(sig, t)
	if err != nil {
		return nil, fmt.Errorf("mobile: signature is not base64: %w", err)
	}
	if n != ed25519.SignatureSize {
		return nil, fmt.Errorf("mobile: signature is %d bytes, an Ed25519 signature has %d", n, ed25519.SignatureSize)
	}
	return sig[:n], nil
}
