package pyro

import (
	"context"
	"time"

	"github.com/pyrogo/pyro/wire"
)

// Observer is told what a daemon does, for metrics (package metrics turns
// it into Prometheus metrics): connections opened, refused and closed,
// with their byte counts, and every call that finished. WithObserver
// installs one; a daemon without one does no observing work at all.
//
// A daemon calls the observer from the goroutine that serves the
// connection or runs the call (ConnRefused of a connection refused at
// accept, from the accept loop), so its methods must be safe for
// concurrent use and return quickly: counting, not I/O. A *ConnInfo is
// valid from ConnOpened until ConnClosed returns (its Bytes give the
// connection's byte counts so far; ConnStats the final ones).
type Observer interface {
	// ConnOpened: the daemon accepted a connection (before its TLS and
	// Pyro handshakes).
	ConnOpened(conn *ConnInfo)
	// ConnRefused: the daemon refused a connection in its handshake
	// phase, for reason. A connection that leaves or times out during
	// its handshake is not refused; it is only closed.
	ConnRefused(conn *ConnInfo, reason RefusalReason)
	// ConnClosed: a connection that ConnOpened reported has ended.
	ConnClosed(conn *ConnInfo, stats ConnStats)
	// CallDone: a call finished (a oneway call too, when its method
	// returns; each call of a batch; a call of an unknown object or
	// method, with Registered or Exposed false).
	CallDone(call CallEvent)
}

// RefusalReason says why a daemon refused a connection; it is one of the
// Refused constants (a fixed set, so that it can label a metric).
type RefusalReason string

// The reasons a daemon refuses connections.
const (
	// RefusedConnectionCap: CONNECTION_CAP open connections, none idle.
	RefusedConnectionCap RefusalReason = "connection_cap"
	// RefusedMaxConnections: MAXCONNECTIONS clients connected.
	RefusedMaxConnections RefusalReason = "max_connections"
	// RefusedValidator: a connection validator (host lists, peer
	// credentials, a name or event server policy, the application's).
	RefusedValidator RefusalReason = "validator"
	// RefusedTLS: the TLS handshake failed, the client certificate
	// check refused the client, or a plaintext client came to a TLS
	// daemon.
	RefusedTLS RefusalReason = "tls"
	// RefusedHMAC: a message whose HMAC is missing or wrong (a client
	// without the daemon's key, or with another), or a Pyro5 client
	// where an HMAC key is required.
	RefusedHMAC RefusalReason = "hmac"
	// RefusedAuth: passphrase authentication failed or was not done.
	RefusedAuth RefusalReason = "auth"
	// RefusedHandshake: the application's HandshakeFunc refused the
	// client, or its CONNECT asked for metadata of an unknown object.
	RefusedHandshake RefusalReason = "handshake"
	// RefusedProtocol: a CONNECT that breaks the protocol (bad header or
	// version, wrong message type, oversized, undecodable, a serializer
	// not accepted).
	RefusedProtocol RefusalReason = "protocol"
)

// ConnStats describes a connection that ended.
type ConnStats struct {
	// BytesIn and BytesOut count the bytes read from and written to the
	// client's socket (TLS records included under TLS).
	BytesIn, BytesOut int64
	// Established: the handshake phase completed and calls could be made.
	Established bool
	// Duration is the time from accept to close.
	Duration time.Duration
}

// CallEvent describes a call that finished.
type CallEvent struct {
	Conn *ConnInfo // the connection that made the call
	// Object and Method are what the client called: any string a client
	// sends, so label metrics with them only when Registered and Exposed.
	Object, Method string
	// Registered: Object is an object id registered in the daemon.
	Registered bool
	// Exposed: Method reached an exposed method or remote attribute
	// access (false: an AttributeError or a refused dotted name).
	Exposed bool
	Oneway  bool
	// Class is the Python class of the exception the call raised, as it
	// is sent ("builtins.ValueError", "Pyro4.errors.DaemonError"); ""
	// when the call succeeded.
	Class    string
	Duration time.Duration
}

// WithObserver makes the daemon report connections and calls to o (see
// Observer). A later WithObserver replaces an earlier one; nil removes it.
func WithObserver(o Observer) DaemonOption {
	return daemonOption(func(c *daemonConfig) { c.observer = o })
}

// observedCall runs a call and reports it to obs.
func (dc *dispatcher) observedCall(obs Observer, parent context.Context, c *Call) (any, error) {
	start := time.Now()
	res, err := dc.callChain(parent, c)
	ev := CallEvent{Conn: dc.conn, Object: c.object, Method: c.method, Registered: c.r != nil,
		Exposed: c.resolveErr == nil, Duration: time.Since(start)}
	if c.cc != nil {
		ev.Oneway = wire.Flags(c.cc.Flags)&wire.FlagOneway != 0
	}
	if err != nil {
		ev.Class = exceptionFor(err).Class
	}
	obs.CallDone(ev)
	return res, err
}

// observeUnknownObject reports a call of an object id that is not
// registered.
func (dc *dispatcher) observeUnknownObject(req *request) {
	obs := dc.d.obs
	if obs == nil {
		return
	}
	obs.CallDone(CallEvent{Conn: dc.conn, Object: req.call.Object, Method: req.call.Method, Oneway: req.oneway,
		Class: ErrDaemon.PythonName()})
}
