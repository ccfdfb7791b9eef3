package cluster

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"

	"github.com/pyrogo/pyro/naming"
)

// Keys. NATS key-value keys allow only [-/_=.a-zA-Z0-9] and are subjects
// of limited length, while Pyro names are arbitrary strings. A name is
// stored under "n" + its unpadded base64url encoding (reversible, and
// every character is allowed); a name whose encoding would be longer than
// maxDirectKey characters is stored under "h" + the base64url SHA-256 of
// the name instead, and is recovered from the value, which always holds
// the full name.
const (
	keyDirect    = 'n'
	keyHashed    = 'h'
	maxDirectKey = 512
)

// nameKey returns the bucket key of a name.
func nameKey(name string) string {
	if base64.RawURLEncoding.EncodedLen(len(name)) <= maxDirectKey {
		return string(keyDirect) + base64.RawURLEncoding.EncodeToString([]byte(name))
	}
	sum := sha256.Sum256([]byte(name))
	return string(keyHashed) + base64.RawURLEncoding.EncodeToString(sum[:])
}

// keyName returns the name a direct key encodes; ok is false for a hashed
// or foreign key.
func keyName(key string) (string, bool) {
	if len(key) == 0 || key[0] != keyDirect {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(key[1:])
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Values. A registration is encoded as
//
//	version byte (1) | uvarint len | name | uvarint len | URI |
//	uvarint count | (uvarint len | tag)...
//
// with the tags sorted and without duplicates. Strings are bytes as Go
// holds them (no UTF-8 rewriting), so every name round-trips exactly.
const valueVersion = 1

// errValue is the cause of a value that cannot be decoded.
var errValue = errors.New("malformed registration value")

// encodeEntry encodes e (its tags must be normalized).
func encodeEntry(e naming.Entry) []byte {
	n := 1 + 3*binary.MaxVarintLen64 + len(e.Name) + len(e.URI)
	for _, t := range e.Metadata {
		n += binary.MaxVarintLen64 + len(t)
	}
	b := make([]byte, 0, n)
	b = append(b, valueVersion)
	b = appendString(b, e.Name)
	b = appendString(b, e.URI)
	b = binary.AppendUvarint(b, uint64(len(e.Metadata)))
	for _, t := range e.Metadata {
		b = appendString(b, t)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeEntry decodes a value; every length is checked against the bytes
// left, so a hostile value costs at most its own size.
func decodeEntry(b []byte) (naming.Entry, error) {
	var e naming.Entry
	if len(b) == 0 || b[0] != valueVersion {
		return e, errValue
	}
	b = b[1:]
	var ok bool
	if e.Name, b, ok = readString(b); !ok {
		return e, errValue
	}
	if e.URI, b, ok = readString(b); !ok {
		return e, errValue
	}
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) { // every tag takes at least one byte
		return e, errValue
	}
	b = b[n:]
	if count > 0 {
		e.Metadata = make([]string, 0, count)
	}
	for i := range count {
		var t string
		if t, b, ok = readString(b); !ok {
			return e, errValue
		}
		if i > 0 && t <= e.Metadata[i-1] { // sorted, without duplicates
			return e, errValue
		}
		e.Metadata = append(e.Metadata, t)
	}
	if len(b) != 0 {
		return e, errValue
	}
	return e, nil
}

func readString(b []byte) (string, []byte, bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return "", nil, false
	}
	return string(b[n : n+int(l)]), b[n+int(l):], true
}
