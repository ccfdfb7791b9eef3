package pyro

import (
	"context"
	"crypto/rand"
)

// CallContext describes the call a daemon is serving; methods that take a
// context.Context as first parameter get it through CallContextFrom. It
// is the Go form of Pyro's current_context.
type CallContext struct {
	// Conn is the client's connection: its addresses, TLS state,
	// passphrase identity and handshake data (read only).
	Conn *ConnInfo
	// CorrelationID is the client's CORR annotation, or a new random id.
	CorrelationID [16]byte
	// Seq, Flags and SerializerID are the request header's fields.
	Seq          uint16
	Flags        uint16
	SerializerID int
	// Annotations are the request's annotations (read only).
	Annotations map[string][]byte
	// ResponseAnnotations are added to the reply; methods may set them
	// (4-character keys).
	ResponseAnnotations map[string][]byte
	// Agent is set for a local call (Daemon.Invoke): who makes it on
	// behalf of the client Conn describes, such as the id of a mobile
	// code module. "" for a call that came over the network.
	Agent string
}

type callCtxKey struct{}

// CallContextFrom returns the CallContext of a daemon call, or nil.
func CallContextFrom(ctx context.Context) *CallContext {
	c, _ := ctx.Value(callCtxKey{}).(*CallContext)
	return c
}

// newUUID4 returns random bytes formatted as an RFC 4122 version 4 UUID.
func newUUID4() [16]byte {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

func uuidString(u [16]byte) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexd[c>>4], hexd[c&0xf])
	}
	return string(b)
}
