package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// AnnBindNonce is the annotation that carries the nonces of pyrogo's
// replay-protected HMAC mode: the client's in CONNECT, the server's in
// CONNECTOK (16 random bytes each).
const AnnBindNonce = "BIND"

// BindNonceSize is the size of each side's nonce.
const BindNonceSize = 16

// Binding is the state of a connection-bound MAC, pyrogo's
// replay-protected form of Pyro's HMAC (off by default; Python's Pyro4
// knows nothing of it).
//
// Pyro4's HMAC signs the payload and the annotation values of a message
// only: a captured message can be sent again, on the same connection or
// another one, and its header (type, flags, sequence number) changed. A
// Binding signs, with HMAC-SHA256 under a key that is unique to the
// connection, the direction, a per-direction message counter, the header
// fields, every annotation chunk but the MAC itself as on the wire, and
// the payload as on the wire; so a message is valid only once, in its
// place in its own connection and direction. The connection key is
//
//	HMAC-SHA256(hmacKey, "pyrogo-bound-hmac-v1" || clientNonce || serverNonce)
//
// from the nonces exchanged in the (normally signed) CONNECT and CONNECTOK.
// The MAC travels in the HMAC annotation (32 bytes).
//
// A Binding belongs to one connection; writes must be serialised and
// reads serialised (each direction has its own counter).
type Binding struct {
	key        []byte
	sendLabel  byte
	recvLabel  byte
	sent, recv uint64
	mac        hash.Hash
}

// NewBinding derives the connection key of a connection whose CONNECT
// carried clientNonce and whose CONNECTOK carried serverNonce; server
// tells which side this is.
func NewBinding(hmacKey, clientNonce, serverNonce []byte, server bool) *Binding {
	m := hmac.New(sha256.New, hmacKey)
	m.Write([]byte("pyrogo-bound-hmac-v1"))
	m.Write(clientNonce)
	m.Write(serverNonce)
	b := &Binding{key: m.Sum(nil), sendLabel: 'C', recvLabel: 'S'}
	if server {
		b.sendLabel, b.recvLabel = 'S', 'C'
	}
	b.mac = hmac.New(sha256.New, b.key)
	return b
}

// sum computes the MAC of a message as it is (or will be) on the wire.
func (b *Binding) sum(label byte, ctr uint64, hd Header, anns []Annotation, wirePayload []byte) []byte {
	m := b.mac
	m.Reset()
	var buf [8 + 1 + 8 + 12]byte
	p := append(buf[:0], label)
	p = binary.BigEndian.AppendUint64(p, ctr)
	p = binary.BigEndian.AppendUint16(p, uint16(hd.Type))
	p = binary.BigEndian.AppendUint16(p, uint16(hd.Flags))
	p = binary.BigEndian.AppendUint16(p, hd.Seq)
	p = binary.BigEndian.AppendUint16(p, hd.SerializerID)
	p = binary.BigEndian.AppendUint32(p, uint32(len(wirePayload)))
	m.Write(p)
	for _, a := range anns {
		if a.Key == AnnHMAC {
			continue
		}
		var ch [6]byte
		copy(ch[:4], a.Key)
		binary.BigEndian.PutUint16(ch[4:], uint16(len(a.Value)))
		m.Write(ch[:])
		m.Write(a.Value)
	}
	m.Write(wirePayload)
	return m.Sum(nil)
}

// check verifies a received message and advances the receive counter.
func (b *Binding) check(m *Message) error {
	got, ok := m.Annotation(AnnHMAC)
	hd := Header{Type: m.Type, Flags: m.Flags, Seq: m.Seq, SerializerID: m.SerializerID}
	if !ok || !hmac.Equal(got, b.sum(b.recvLabel, b.recv, hd, m.Annotations, m.Data)) {
		return &SecurityError{Msg: MsgHMACMismatch}
	}
	b.recv++
	return nil
}
