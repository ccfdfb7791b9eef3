//go:build !unix

package pyro

import "net"

// socketIdle cannot peek on this platform; connections count as idle.
func socketIdle(net.Conn) bool { return true }
