package pyro

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A daemon's listener: TCP as Pyro4 binds it, or a unix socket whose file
// is never more open than the daemon's socket mode. NewDaemon calls
// listen; WithListener skips it.

// listen sets up TLS and binds the daemon's listener unless one was
// given, and works out the host and port (or socket name) of its URIs.
func (d *Daemon) listen() error {
	if err := d.setupTLS(); err != nil {
		return err
	}
	if d.ln == nil {
		var err error
		if d.unixSocket != "" {
			name := d.unixSocket
			if name[0] == 0 {
				name = "@" + name[1:]
			}
			d.ln, err = d.listenUnix(name) // mode 0600 by default
		} else {
			host, network := listenHost(d.host)
			d.ln, err = net.Listen(network, net.JoinHostPort(host, strconv.Itoa(d.port)))
		}
		if err != nil {
			return wrapError(ErrCommunication, "cannot bind daemon: "+err.Error(), err)
		}
	}
	switch a := d.ln.Addr().(type) {
	case *net.TCPAddr:
		// like Pyro, URIs carry the host name the daemon was given
		// ("localhost"), or the bound address: the address it was given,
		// a wildcard (0.0.0.0, ::) included, or 0.0.0.0 for ""
		d.locHost, d.locPort = a.IP.String(), a.Port
		if d.host != "" && net.ParseIP(d.host) == nil && d.unixSocket == "" && !d.listenerGiven {
			d.locHost = d.host
		}
	case *net.UnixAddr:
		d.locHost = a.Name
		if strings.HasPrefix(d.locHost, "@") {
			d.locHost = "\x00" + d.locHost[1:]
		}
	default:
		host, port, _ := net.SplitHostPort(a.String())
		d.locHost = host
		d.locPort, _ = strconv.Atoi(port)
	}
	return nil
}

// listenHost returns the address and network to bind for a daemon host,
// as Pyro4 binds: "" is every IPv4 interface (0.0.0.0), "localhost" is
// 127.0.0.1, and an IPv4 address, the wildcard 0.0.0.0 included, is an
// IPv4 socket ("tcp" would make 0.0.0.0 a dual-stack [::] listener, which
// Pyro would take for IPv6). Names and IPv6 addresses ("::" a dual-stack
// wildcard, as Python's AF_INET6 socket is) bind as "tcp" does.
func listenHost(host string) (string, string) {
	switch {
	case host == "":
		return "0.0.0.0", "tcp4"
	case host == "localhost":
		// Pyro resolves localhost to 127.0.0.1 (IPv4 preferred)
		return "127.0.0.1", "tcp"
	case !strings.Contains(host, ":") && net.ParseIP(host) != nil:
		return host, "tcp4"
	}
	return host, "tcp"
}

// DefaultUnixSocketMode is the permission mode of the unix socket files
// daemons create: only the owner may connect.
const DefaultUnixSocketMode os.FileMode = 0o600

func (d *Daemon) unixSocketMode() os.FileMode {
	if d.sec.unixModeSet {
		return d.sec.unixMode
	}
	return DefaultUnixSocketMode
}

// listenUnix binds a unix socket whose file never has wider permissions
// than the daemon's socket mode, not even for an instant: the mode is set
// on the socket before bind (Linux creates the file with it, minus the
// umask) and set exactly right after.
func (d *Daemon) listenUnix(name string) (net.Listener, error) {
	if strings.HasPrefix(name, "@") {
		return net.Listen("unix", name)
	}
	mode := d.unixSocketMode()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return presetSocketMode(c, mode)
	}}
	ln, err := lc.Listen(context.Background(), "unix", name)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(name, mode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
