package pyro

import (
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// countingConn counts the bytes read from and written to a daemon
// connection's socket, for the daemon's Observer. It is used only when
// the daemon has an observer. It unwraps (NetConn) to the socket, so
// peer credentials, idle peeks and forced closes reach the socket, and
// it hands out the socket's syscall.Conn for the connection's tryWriter,
// whose writes serverConn counts itself (countTry).
type countingConn struct {
	net.Conn
	in, out atomic.Int64
	start   time.Time
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// NetConn returns the socket.
func (c *countingConn) NetConn() net.Conn { return c.Conn }

// SyscallConn is the socket's, for the tryWriter (see countTry).
func (c *countingConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, syscall.EINVAL
	}
	return sc.SyscallConn()
}

// CloseWrite half-closes the socket where it can.
func (c *countingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// countConn wraps a newly accepted socket for counting when the daemon
// has an observer.
func (d *Daemon) countConn(nc net.Conn) (net.Conn, *countingConn) {
	if d.obs == nil {
		return nc, nil
	}
	cc := &countingConn{Conn: nc, start: time.Now()}
	return cc, cc
}

// countTry counts n bytes that the tryWriter wrote past the countingConn.
func (c *serverConn) countTry(n int) {
	if c.cnt != nil {
		c.cnt.out.Add(int64(n))
	}
}

// connStats are the observer's figures of a connection that ended.
func (c *serverConn) connStats(established bool) ConnStats {
	st := ConnStats{Established: established}
	if c.cnt != nil {
		st.BytesIn, st.BytesOut = c.cnt.in.Load(), c.cnt.out.Load()
		st.Duration = time.Since(c.cnt.start)
	}
	return st
}

// Bytes returns the bytes read from and written to the connection's
// socket so far. They are counted only for a daemon with an Observer
// (WithObserver); otherwise, and for a ConnInfo not made by a daemon, both
// are 0. Safe to call from any goroutine while the connection is open.
func (c *ConnInfo) Bytes() (in, out int64) {
	if c == nil || c.cnt == nil {
		return 0, 0
	}
	return c.cnt.in.Load(), c.cnt.out.Load()
}
