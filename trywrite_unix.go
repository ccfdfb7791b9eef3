//go:build unix

package pyro

import (
	"net"
	"syscall"
)

// tryWriter writes to a plain socket without waiting, so that a reply the
// socket takes at once needs no write deadline (setting one costs about as
// much as a small write). It belongs to one connection and is used under
// its write lock.
type tryWriter struct {
	raw syscall.RawConn
	b   []byte
	n   int
	fn  func(fd uintptr) bool // w.write, bound once
}

// newTryWriter returns a tryWriter for nc; for connections that are not
// plain sockets (TLS) its try writes nothing.
func newTryWriter(nc net.Conn) *tryWriter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &tryWriter{raw: raw}
	w.fn = w.write
	return w
}

func (w *tryWriter) write(fd uintptr) bool {
	if k, _ := syscall.Write(int(fd), w.b); k > 0 {
		w.n = k
	}
	return true // one attempt, never wait
}

// try writes what the socket takes of b now and returns how much that
// was; errors are left to the blocking write that follows.
func (w *tryWriter) try(b []byte) int {
	if w == nil || len(b) == 0 {
		return 0
	}
	w.b, w.n = b, 0
	err := w.raw.Write(w.fn)
	w.b = nil
	if err != nil {
		return 0
	}
	return w.n
}
