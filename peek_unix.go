//go:build unix

package pyro

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// socketIdle reports whether a connection has nothing to read and is not
// closed by the peer, without blocking (recv with MSG_PEEK|MSG_DONTWAIT).
// A TLS connection must also have no records buffered in its TLS layer.
// Connections that are not plain sockets count as idle.
func socketIdle(nc net.Conn) bool {
	if tc, ok := nc.(*tls.Conn); ok {
		return socketIdle(tc.NetConn()) && tlsNothingBuffered(tc)
	}
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = u.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	idle := false
	var buf [1]byte
	rerr := raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		idle = n < 0 && (errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK))
		return true
	})
	return rerr == nil && idle
}
