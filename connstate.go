package pyro

import (
	"errors"
	"net"
	"time"
)

// ErrClientGone is the cause (context.Cause) of a connection's context
// when the client disconnected while a call ran.
var ErrClientGone = errors.New("pyro: client disconnected")

// errEvicted is the cause of an evicted connection's context.
var errEvicted = errors.New("pyro: idle connection evicted to make room for a new one")

// connState is where a connection is in its life. Transitions happen under
// Daemon.connMu, so that Shutdown and eviction see a consistent picture:
// an idle connection may be closed by them, an active one is left to
// finish the request it has started.
type connState uint8

const (
	// stateIdle: waiting for the next request (or, before the handshake
	// is done, for the client's CONNECT). Idle connections are in the
	// daemon's idle list, longest-idle first.
	stateIdle connState = iota
	// stateActive: a request's first byte has arrived; the connection
	// reads it and serves it.
	stateActive
	// stateClosed: closed by Shutdown, Close or eviction, or the serving
	// goroutine has ended.
	stateClosed
)

// trackLocked registers a newly accepted connection as idle (connMu held).
func (d *Daemon) trackLocked(c *serverConn) {
	d.conns[c] = struct{}{}
	c.state = stateIdle
	c.idleSince = time.Now()
	d.idle.pushBack(c)
}

// untrack forgets a connection whose goroutine is ending.
func (d *Daemon) untrack(c *serverConn) {
	d.connMu.Lock()
	if c.state == stateIdle {
		d.idle.remove(c)
	}
	c.state = stateClosed
	delete(d.conns, c)
	if c.refusing {
		d.refusing--
	}
	d.connMu.Unlock()
}

// setIdle marks c idle after a request; false means the connection is to
// end (closed by the daemon, or the daemon is shutting down).
func (d *Daemon) setIdle(c *serverConn) bool {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	switch {
	case c.state == stateClosed:
		return false
	case d.shuttingDown:
		c.state = stateClosed
		return false
	case c.state == stateIdle:
		d.idle.remove(c) // after the handshake: to the back of the list
	}
	c.state = stateIdle
	c.idleSince = time.Now()
	d.idle.pushBack(c)
	return true
}

// setActive marks c active once a request's first byte has arrived; false
// means the request is never started: the daemon closed the connection or
// is shutting down.
func (d *Daemon) setActive(c *serverConn) bool {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	if c.state != stateIdle {
		return false
	}
	d.idle.remove(c)
	if d.shuttingDown {
		c.state = stateClosed
		return false
	}
	c.state = stateActive
	return true
}

// evictIdleLocked closes the longest-idle connection to make room for a
// new one and returns it (connMu held; the caller closes its socket
// outside the lock with forceClose). nil when no connection is idle.
func (d *Daemon) evictIdleLocked() *serverConn {
	c := d.idle.front()
	if c == nil {
		return nil
	}
	d.idle.remove(c)
	c.state = stateClosed
	return c
}

// evictIdle evicts the longest-idle connection; false when none is idle.
func (d *Daemon) evictIdle(why string) bool {
	d.connMu.Lock()
	c := d.evictIdleLocked()
	d.connMu.Unlock()
	if c == nil {
		return false
	}
	d.log.Info("pyro: evicting the longest-idle connection", "peer", c.info.RemoteAddr, "idle", time.Since(c.idleSince).Round(time.Millisecond), "reason", why)
	c.forceClose(errEvicted)
	return true
}

func (c *serverConn) fifoLink() *fifoLink[serverConn] { return &c.idleLink }

// closeIdleForShutdown marks the daemon as shutting down and closes every
// idle connection; active ones close after their request.
func (d *Daemon) closeIdleForShutdown() {
	d.connMu.Lock()
	d.shuttingDown = true
	var idle []*serverConn
	for c := d.idle.front(); c != nil; c = d.idle.front() {
		d.idle.remove(c)
		c.state = stateClosed
		idle = append(idle, c)
	}
	d.connMu.Unlock()
	for _, c := range idle {
		c.forceClose(ErrDaemonClosed)
	}
}

// closeAllConns closes every connection at once.
func (d *Daemon) closeAllConns() {
	d.connMu.Lock()
	all := make([]*serverConn, 0, len(d.conns))
	for c := range d.conns {
		if c.state == stateIdle {
			d.idle.remove(c)
		}
		c.state = stateClosed
		all = append(all, c)
	}
	d.connMu.Unlock()
	for _, c := range all {
		c.forceClose(ErrDaemonClosed)
	}
}

// forceClose ends a connection from another goroutine: its context is
// cancelled and its socket closed without the TLS close_notify (which
// could block on a client that does not read). The serving goroutine
// then finds the socket closed and cleans up.
func (c *serverConn) forceClose(cause error) {
	c.cancel(cause)
	rawConn(c.nc).Close()
}

// rawConn returns the network connection under TLS.
func rawConn(nc net.Conn) net.Conn {
	for {
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return nc
		}
		nc = u.NetConn()
	}
}
