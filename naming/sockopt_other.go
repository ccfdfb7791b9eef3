//go:build !unix

package naming

import "syscall"

// udpControl leaves the socket options at the platform defaults.
func udpControl(reuse bool) func(network, address string, c syscall.RawConn) error {
	return nil
}
