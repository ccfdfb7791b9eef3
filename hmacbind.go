package pyro

import (
	"crypto/rand"
	"errors"

	"github.com/pyrogo/pyro/wire"
)

// Replay-protected HMAC (pyrogo's extension; off by default).
//
// Pyro4's HMAC proves that a message was made by someone with the key,
// but not when or for which connection: a captured INVOKE can be sent
// again on a new connection and is executed again. In the replay-protected
// mode the CONNECT and CONNECTOK carry one random nonce each (annotation
// BIND, signed with the normal Pyro HMAC), and every later message on the
// connection is signed with a key derived from both nonces, over its
// direction, its number in that direction, its header fields, its
// annotations and its payload (see wire.Binding). A message replayed on
// another connection, replayed or reordered on its own connection, or
// with a changed header is refused and the connection closed.
//
// Both sides must use the mode: a daemon in this mode refuses clients
// that do not (including every Python Pyro4 client), and a proxy in this
// mode refuses daemons that do not answer with a nonce (so an attacker
// cannot downgrade it). Without the mode, pyrogo speaks Pyro4's HMAC and
// interoperates with Python.

const reasonBindRequired = ReasonSecurity + ": this daemon requires replay-protected HMAC"

// boundNonces are a connection's two nonces.
type boundNonces struct{ client, server []byte }

func newBindNonce() []byte {
	n := make([]byte, wire.BindNonceSize)
	_, _ = rand.Read(n)
	return n
}

// serverBindNonces takes the client's nonce from a CONNECT and makes the
// server's.
func serverBindNonces(msg *wire.Message) (*boundNonces, error) {
	cn, ok := msg.Annotation(wire.AnnBindNonce)
	if !ok || len(cn) != wire.BindNonceSize {
		return nil, errors.New(reasonBindRequired)
	}
	return &boundNonces{client: cn, server: newBindNonce()}, nil
}

// options returns per-connection wire options with the binding.
func (b *boundNonces) options(base *wire.Options, server bool) *wire.Options {
	o := *base
	o.Binding = wire.NewBinding(base.HMACKey, b.client, b.server, server)
	return &o
}
