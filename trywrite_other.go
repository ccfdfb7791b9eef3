//go:build !unix

package pyro

import "net"

// tryWriter cannot write without waiting on this platform: every write
// goes through the deadline path.
type tryWriter struct{}

func newTryWriter(net.Conn) *tryWriter { return nil }

func (*tryWriter) try([]byte) int { return 0 }
