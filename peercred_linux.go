package pyro

import (
	"net"
	"os"
	"syscall"
)

// peerCred reads SO_PEERCRED of a unix socket connection.
func peerCred(uc *net.UnixConn) (PeerCred, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return PeerCred{}, err
	}
	var cred *syscall.Ucred
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		cred, gerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return PeerCred{}, err
	}
	if gerr != nil {
		return PeerCred{}, gerr
	}
	return PeerCred{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)}, nil
}

// presetSocketMode sets the mode of a unix socket before bind: Linux
// creates the socket file with it (minus the umask).
func presetSocketMode(c syscall.RawConn, mode os.FileMode) error {
	var ferr error
	if err := c.Control(func(fd uintptr) { ferr = syscall.Fchmod(int(fd), uint32(mode.Perm())) }); err != nil {
		return err
	}
	return ferr
}
