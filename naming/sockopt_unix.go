//go:build unix

package naming

import "syscall"

// udpControl returns a net.ListenConfig Control function that sets
// SO_BROADCAST, and SO_REUSEADDR when reuse is true, as Pyro's broadcast
// sockets have.
func udpControl(reuse bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
			if serr == nil && reuse {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}
