package pyro

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/wire"
)

// The wire protocol a proxy speaks: PROTOCOL and WithProtocol.
//
// A proxy speaks Pyro4's protocol 48 or Pyro5's 502. PROTOCOL "4" or "5"
// fixes it; "auto" (the default) detects it per server address:
//
//   - Neither generation of Pyro can read the other's CONNECT: a Pyro4
//     daemon answers a 502 CONNECT with a 48 CONNECTFAIL "invalid data or
//     unsupported protocol version", a Pyro5 daemon answers a 48 CONNECT
//     with a 502 CONNECTFAIL "invalid protocol version: 48", and both close
//     the connection. (A pyrogo daemon serves both on one port.)
//   - So the first connection to an address sends its CONNECT in 48 and
//     reads the answer in either protocol. An answer in 48 (a Pyro4 or a
//     pyrogo daemon) costs nothing extra. A CONNECTFAIL in 502 with
//     Pyro5's version refusal costs one round trip: the proxy dials again
//     and connects in 502.
//   - The protocol that answered is remembered per network address in a
//     bounded process-wide table (knownProtocols), so later connections to
//     that address, from any proxy of the process, start with it and make
//     no probe. A remembered protocol that is refused later (the server
//     was restarted as the other generation) is replaced the same way.
//
// Security: the protocol never changes what a connection is protected by.
// TLS (and the server certificate check) comes before the CONNECT, so a
// refusal that makes the proxy switch came from the verified server; the
// passphrase proof (pyrogo-auth-v2) runs the same way in both protocols;
// and 502 has no HMAC, so a proxy with an HMAC key never speaks 502: in
// auto mode it speaks only 48 and treats a 502 answer as an error, and
// PROTOCOL=5 with an HMAC key is refused when the proxy is made. A
// switch happens only on the exact version refusal of the other
// generation, at most once per connection, and the remembered protocol is
// only the first guess of the next connection, which checks it again.

// Values of PROTOCOL and WithProtocol.
const (
	// ProtocolAuto detects the server's protocol on the first connection
	// to its address and remembers it (the default).
	ProtocolAuto = "auto"
	// Protocol4 speaks Pyro4's protocol 48 only.
	Protocol4 = "4"
	// Protocol5 speaks Pyro5's protocol 502 only.
	Protocol5 = "5"
)

// protoMode is a parsed protocol choice.
type protoMode uint8

const (
	modeAuto protoMode = iota
	mode48
	mode502
)

// parseProtocolChoice reads "4", "5" or "auto" ("" is auto too, so that
// a Config built by hand without PROTOCOL works).
func parseProtocolChoice(s string) (protoMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", ProtocolAuto:
		return modeAuto, nil
	case Protocol4:
		return mode48, nil
	case Protocol5:
		return mode502, nil
	}
	return 0, fmt.Errorf("protocol %q: must be 4, 5 or auto", s)
}

// knownProtocolsMax bounds the table of remembered protocols: a process
// that talks to more addresses than this forgets some and probes them
// again (one round trip each), which costs little; an unbounded table
// would grow with every address a resolver ever handed out.
const knownProtocolsMax = 1024

// protocolTable remembers the protocol each server address answered in.
// It is shared by every proxy of the process (not per resolver or per
// proxy): the protocol is a property of the server at an address, and
// proxies made for one server by different code (autoproxies, resolved
// names, pyro call) should not each pay the probe.
type protocolTable struct {
	mu sync.Mutex
	m  map[string]wire.Protocol
}

var knownProtocols = &protocolTable{m: map[string]wire.Protocol{}}

func protocolKey(network, addr string) string { return network + " " + addr }

func (t *protocolTable) get(key string) (wire.Protocol, bool) {
	t.mu.Lock()
	p, ok := t.m[key]
	t.mu.Unlock()
	return p, ok
}

func (t *protocolTable) set(key string, p wire.Protocol) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.m[key]; ok && old == p {
		return
	}
	if _, ok := t.m[key]; !ok && len(t.m) >= knownProtocolsMax {
		for k := range t.m { // drop an arbitrary entry
			delete(t.m, k)
			break
		}
	}
	t.m[key] = p
}

func (t *protocolTable) forget(key string) {
	t.mu.Lock()
	delete(t.m, key)
	t.mu.Unlock()
}

// firstProtocol is the protocol a new connection to network/addr starts
// with.
func (p *Proxy) firstProtocol(network, addr string) wire.Protocol {
	switch p.mode {
	case mode48:
		return wire.Protocol48
	case mode502:
		return wire.Protocol502
	}
	if !p.can502() {
		return wire.Protocol48
	}
	if v, ok := knownProtocols.get(protocolKey(network, addr)); ok {
		return v
	}
	return wire.Protocol48
}

// can502 reports whether the proxy may speak 502 at all: not with an
// HMAC key or the replay-protected HMAC mode (502 has no HMAC).
func (p *Proxy) can502() bool {
	return len(p.wireOpts.HMACKey) == 0 && !p.boundHMAC && p.codec5 != nil
}

// codecFor returns the proxy's codec for a protocol.
func (p *Proxy) codecFor(v wire.Protocol) codec.Codec {
	if v == wire.Protocol502 {
		return p.codec5
	}
	return p.codec
}

// optsFor returns the proxy's wire options for a protocol.
func (p *Proxy) optsFor(v wire.Protocol) *wire.Options {
	if v == wire.Protocol502 {
		return &p.wireOpts5
	}
	return &p.wireOpts
}

// versionRefusal is what the other generation's daemon answers a CONNECT
// it cannot read with: the exact text for a CONNECT in protocol sent.
func versionRefusal(sent wire.Protocol) string {
	if sent == wire.Protocol502 {
		return wire.MsgBadVersion // Pyro4's daemon refusing 502
	}
	return wire.Msg502BadVersion(uint16(wire.Protocol48)) // Pyro5's refusing 48
}

// wrongProtocolError is a daemon's refusal of the protocol a CONNECT was
// sent in, answered in its own protocol.
type wrongProtocolError struct {
	sent, answered wire.Protocol
	reason         string
}

func (e *wrongProtocolError) Error() string {
	return fmt.Sprintf("the daemon speaks protocol %s, not %s: it answered %q", e.answered, e.sent, e.reason)
}

// protocolName names a protocol as PROTOCOL does.
func protocolName(v wire.Protocol) string {
	if v == wire.Protocol502 {
		return "PROTOCOL=5"
	}
	return "PROTOCOL=4"
}
