package pemkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// legacyCipher is one cipher of OpenSSL's legacy PEM encryption (RFC
// 1423, "Proc-Type: 4,ENCRYPTED" with a DEK-Info header).
type legacyCipher struct {
	keySize  int
	newBlock func(key []byte) (cipher.Block, error)
}

// legacyCiphers are the DEK-Info names OpenSSL writes for the ciphers
// that "openssl rsa|ec -aes128|-aes192|-aes256|-des3|-des" offer.
var legacyCiphers = map[string]legacyCipher{
	"AES-128-CBC":  {16, aes.NewCipher},
	"AES-192-CBC":  {24, aes.NewCipher},
	"AES-256-CBC":  {32, aes.NewCipher},
	"DES-EDE3-CBC": {24, des.NewTripleDESCipher},
	"DES-CBC":      {8, des.NewCipher},
}

// errWrongPassword is what a legacy or PKCS#8 key says when the password
// does not decrypt it.
var errWrongPassword = errors.New("wrong password for the private key")

// decryptLegacy decrypts a PEM block encrypted with OpenSSL's legacy
// scheme and returns the DER it holds. The key is OpenSSL's
// EVP_BytesToKey with MD5, one round, and the first 8 bytes of the IV as
// salt; the data is CBC with PKCS#7 padding. The scheme has no MAC, so a
// wrong password shows as bad padding or, rarely, as bytes that are not
// one DER element: both are reported as a wrong password.
func decryptLegacy(b *pem.Block, passwd []byte) ([]byte, error) {
	name, ivHex, ok := strings.Cut(b.Headers["DEK-Info"], ",")
	if !ok {
		return nil, errors.New("encrypted PEM key without a valid DEK-Info header")
	}
	c, ok := legacyCiphers[strings.TrimSpace(name)]
	if !ok {
		return nil, fmt.Errorf("encrypted PEM key: unsupported cipher %q", name)
	}
	iv, err := hex.DecodeString(strings.TrimSpace(ivHex))
	if err != nil {
		return nil, errors.New("encrypted PEM key: malformed IV in the DEK-Info header")
	}
	block, err := c.newBlock(bytesToKey(passwd, iv, c.keySize))
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("encrypted PEM key: IV of %d bytes, want %d", len(iv), bs)
	}
	if len(b.Bytes) == 0 || len(b.Bytes)%bs != 0 {
		return nil, errors.New("encrypted PEM key: data is not a whole number of cipher blocks")
	}
	data := make([]byte, len(b.Bytes))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(data, b.Bytes)
	der, ok := unpad(data, bs)
	if !ok {
		return nil, errWrongPassword
	}
	if rest, err := asn1.Unmarshal(der, &asn1.RawValue{}); err != nil || len(rest) > 0 {
		return nil, errWrongPassword
	}
	return der, nil
}

// bytesToKey is OpenSSL's EVP_BytesToKey with MD5 and one iteration:
// D_i = MD5(D_(i-1) || password || salt), the key their concatenation,
// the salt the IV's first 8 bytes.
func bytesToKey(passwd, iv []byte, size int) []byte {
	salt := iv[:min(len(iv), 8)]
	key := make([]byte, 0, size+md5.Size)
	var prev []byte
	for len(key) < size {
		h := md5.New()
		h.Write(prev)
		h.Write(passwd)
		h.Write(salt)
		prev = h.Sum(nil)
		key = append(key, prev...)
	}
	return key[:size]
}

// unpad strips PKCS#7 padding of block size bs; ok is false when the
// padding is not valid.
func unpad(data []byte, bs int) ([]byte, bool) {
	n := int(data[len(data)-1])
	if n == 0 || n > bs || n > len(data) {
		return nil, false
	}
	for _, p := range data[len(data)-n:] {
		if int(p) != n {
			return nil, false
		}
	}
	return data[:len(data)-n], true
}
