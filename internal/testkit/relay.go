package testkit

import (
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// Relay forwards every connection it accepts to a new connection of its
// own to a target, in both directions, and records what passes: a port
// forward, a NAT gateway, a man in the middle, or a tap on the wire.
// It stops, closing every connection, in t.Cleanup.
type Relay struct {
	ln   net.Listener
	dial func() (net.Conn, error)
	wg   sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	open     map[net.Conn]struct{}
	accepted int
	sent     []byte // client to target
	received []byte // target to client
}

// NewRelay relays the connections ln accepts to the connections dial
// makes, one for each. A client whose dial fails is hung up on.
func NewRelay(t testing.TB, ln net.Listener, dial func() (net.Conn, error)) *Relay {
	r := &Relay{ln: ln, dial: dial, open: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.Close)
	return r
}

// TCPRelay relays connections to 127.0.0.1 and a free port to the TCP
// address target.
func TCPRelay(t testing.TB, target string) *Relay {
	t.Helper()
	return NewRelay(t, Listen(t), func() (net.Conn, error) { return net.Dial("tcp", target) })
}

// UnixRelay relays connections to a new unix socket at path to the unix
// socket target.
func UnixRelay(t testing.TB, path, target string) *Relay {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	return NewRelay(t, ln, func() (net.Conn, error) { return net.Dial("unix", target) })
}

// Listen returns a TCP listener on 127.0.0.1 and a free port, closed in
// t.Cleanup (closing it twice does no harm).
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		s, err := r.dial()
		if err != nil {
			c.Close()
			continue
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		r.accepted++
		r.open[c], r.open[s] = struct{}{}, struct{}{}
		r.mu.Unlock()
		r.wg.Add(2)
		go r.pipe(s, c, &r.sent)
		go r.pipe(c, s, &r.received)
	}
}

// pipe copies from src to dst, recording into rec, and closes dst when
// src ends.
func (r *Relay) pipe(dst, src net.Conn, rec *[]byte) {
	defer r.wg.Done()
	defer func() {
		dst.Close()
		r.mu.Lock()
		delete(r.open, dst)
		r.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			r.mu.Lock()
			*rec = append(*rec, buf[:n]...)
			r.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Addr returns the address clients connect to.
func (r *Relay) Addr() net.Addr { return r.ln.Addr() }

// HostPort returns the address clients connect to as "host:port" (for a
// unix socket relay, the socket's path).
func (r *Relay) HostPort() string {
	if a, ok := r.ln.Addr().(*net.UnixAddr); ok {
		return filepath.Clean(a.Name)
	}
	return r.ln.Addr().String()
}

// Host returns the IP address clients connect to (TCP relays).
func (r *Relay) Host() string { return r.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the port clients connect to (TCP relays).
func (r *Relay) Port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// Accepted returns how many connections the relay has forwarded.
func (r *Relay) Accepted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted
}

// Sent returns a copy of everything clients sent through the relay, all
// connections in the order the bytes arrived.
func (r *Relay) Sent() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.sent...)
}

// Received returns a copy of everything the target sent back to clients.
func (r *Relay) Received() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.received...)
}

// Reset forgets what was recorded so far.
func (r *Relay) Reset() {
	r.mu.Lock()
	r.sent, r.received = nil, nil
	r.mu.Unlock()
}

// Close stops the relay: it closes the listener and every connection and
// waits for its goroutines. It is safe to call more than once.
func (r *Relay) Close() {
	r.ln.Close()
	r.mu.Lock()
	r.closed = true
	for c := range r.open {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
