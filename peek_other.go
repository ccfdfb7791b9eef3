//go:build !unix

package pyro

import (
	"crypto/tls"
	"net"
)

// socketIdle cannot peek on this platform; connections count as idle,
// except TLS connections with records buffered in their TLS layer.
func socketIdle(nc net.Conn) bool {
	if tc, ok := nc.(*tls.Conn); ok {
		return tlsNothingBuffered(tc)
	}
	return true
}
