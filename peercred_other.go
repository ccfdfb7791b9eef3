//go:build !linux

package pyro

import (
	"net"
	"os"
	"syscall"
)

// peerCred is not implemented outside Linux.
func peerCred(*net.UnixConn) (PeerCred, error) { return PeerCred{}, ErrNoPeerCred }

// presetSocketMode does nothing outside Linux; listenUnix sets the mode
// right after binding.
func presetSocketMode(syscall.RawConn, os.FileMode) error { return nil }
