package pyro

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"strconv"

	"github.com/pyrogo/pyro/codec"
)

// daemonConfig is what the DaemonOptions set; NewDaemon builds the daemon
// from it after validate.
type daemonConfig struct {
	sharedConfig
	host              string
	port              int
	unixSocket        string
	listener          net.Listener
	handshake         HandshakeFunc
	ignoreUnknownKeys bool
	validators        []ConnValidator
	unixMode          os.FileMode
	unixModeSet       bool
	identities        map[string]string // name → passphrase; nil = no authentication
	authEndpoints     []string
	interceptors      []Interceptor
	observer          Observer        // observer.go
	afterNew          []func(*Daemon) // package tests: adjust the daemon before it is returned

	// set by validate
	accepted map[int]bool // SERIALIZERS_ACCEPTED as codec ids
}

// daemonOption is a DaemonOption that applies to daemons only.
type daemonOption func(*daemonConfig)

func (o daemonOption) applyDaemon(c *daemonConfig) { o(c) }

// validate checks the options and cfg in one step: bad option arguments,
// Config.Validate, the accepted serializers and the settings that depend
// on each other. It reports every problem it finds, joined.
func (c *daemonConfig) validate(cfg *Config) error {
	errs := append([]error(nil), c.errs...)
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	c.accepted = map[int]bool{}
	for _, name := range cfg.SerializersAccepted {
		id, ok := codec.IDOf(name)
		if !ok {
			errs = append(errs, NewError(ErrSerialize, fmt.Sprintf("serializer '%s' is unknown or not available", name)))
			continue
		}
		if _, err := codec.ForID(id, codec.Options{}); err != nil {
			errs = append(errs, wrapError(ErrSerialize, err.Error(), err))
			continue
		}
		c.accepted[id] = true
	}
	if c.tlsSet {
		switch {
		case c.tls == nil:
			errs = append(errs, errors.New("pyro: WithTLSConfig(nil) for a daemon: it needs a tls.Config with a certificate"))
		case len(c.tls.Certificates) == 0 && c.tls.GetCertificate == nil && c.tls.GetConfigForClient == nil:
			errs = append(errs, errors.New("pyro: WithTLSConfig: the daemon's tls.Config has no certificate"))
		}
	}
	if c.peerCheck != nil && !c.tlsSet && !cfg.SSL {
		errs = append(errs, NewError(ErrCommunication, "a peer certificate check needs TLS (WithTLSConfig or SSL=true)"))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// WithHost binds the daemon to host instead of the config's HOST. As in
// Pyro4, "" and "0.0.0.0" bind every IPv4 interface and URIs then carry
// 0.0.0.0; "::" binds every interface (IPv6 and IPv4) with [::] in URIs.
func WithHost(host string) DaemonOption {
	return daemonOption(func(c *daemonConfig) { c.host = host })
}

// WithPort binds the daemon to port (0 = any free port).
func WithPort(port int) DaemonOption {
	return daemonOption(func(c *daemonConfig) {
		if port < 0 || port > 65535 {
			c.fail(fmt.Errorf("pyro: WithPort(%d): not a port number", port))
			return
		}
		c.port = port
	})
}

// WithUnixSocket binds the daemon to a unix domain socket; a name
// starting with "@" or NUL is a Linux abstract socket. The socket file is
// created with mode DefaultUnixSocketMode (see WithUnixSocketMode).
func WithUnixSocket(path string) DaemonOption {
	return daemonOption(func(c *daemonConfig) { c.unixSocket = path })
}

// WithUnixSocketMode sets the permission mode of the daemon's unix socket
// file (default DefaultUnixSocketMode, 0600). Connecting needs write
// permission on it. Abstract sockets have no permissions at all.
func WithUnixSocketMode(mode os.FileMode) DaemonOption {
	return daemonOption(func(c *daemonConfig) { c.unixMode, c.unixModeSet = mode.Perm(), true })
}

// WithListener serves an existing listener (its address goes into URIs).
func WithListener(ln net.Listener) DaemonOption {
	return daemonOption(func(c *daemonConfig) {
		if ln == nil {
			c.fail(errors.New("pyro: WithListener(nil)"))
			return
		}
		c.listener = ln
	})
}

// WithIgnoreUnknownKeys makes struct arguments ignore dict keys that
// match no field, as encoding/json does. By default such a key (a Python
// caller's typo) fails the call with a TypeError that names it. It does
// not change keyword arguments: an unknown keyword is a TypeError, as in
// Python, unless an argument struct has a Kwargs field (see Args).
func WithIgnoreUnknownKeys() DaemonOption {
	return daemonOption(func(c *daemonConfig) { c.ignoreUnknownKeys = true })
}

// WithHandshake installs a handshake validator (Pyro's
// Daemon.validateHandshake).
func WithHandshake(f HandshakeFunc) DaemonOption {
	return daemonOption(func(c *daemonConfig) { c.handshake = f })
}

// WithConnValidators adds connection validators to the daemon; they run
// in order, after the built-in MAXCONNECTIONS limit.
func WithConnValidators(vs ...ConnValidator) DaemonOption {
	return daemonOption(func(c *daemonConfig) {
		for _, v := range vs {
			if v != nil {
				c.validators = append(c.validators, v)
			}
		}
	})
}

// WithAllowedIdentifications turns passphrase authentication on from the
// start (see Daemon.SetAllowedIdentifications); use it for daemons that
// serve as soon as they are created, such as the name server's. The
// identity of passphrase i is "#i" (ConnInfo.Identity).
func WithAllowedIdentifications(ids []string) DaemonOption {
	named := make(map[string]string, len(ids))
	for i, id := range ids {
		named["#"+strconv.Itoa(i)] = id
	}
	return daemonOption(func(c *daemonConfig) {
		if len(ids) == 0 {
			c.fail(errors.New("pyro: WithAllowedIdentifications: no passphrases"))
			return
		}
		c.identities = named
	})
}

// WithAllowedIdentities is WithAllowedIdentifications with a name for
// each passphrase (name → passphrase), the names an access policy and
// ConnInfo.Identity use (see Daemon.SetAllowedIdentities).
func WithAllowedIdentities(ids map[string]string) DaemonOption {
	ids = maps.Clone(ids)
	return daemonOption(func(c *daemonConfig) {
		if len(ids) == 0 {
			c.fail(errors.New("pyro: WithAllowedIdentities: no passphrases"))
			return
		}
		c.identities = ids
	})
}

// WithAuthEndpoints adds endpoints under which clients reach the daemon
// through a forwarder (a port forward, a TCP proxy; NATHOST/NATPORT count
// already): passphrase proofs made for them are accepted too. Each is
// "ip:port" ("[ipv6]:port") or a unix socket path; host names are not
// resolved. Only list forwarders you run: a proof relayed through a
// listed endpoint is accepted as if made for the daemon.
func WithAuthEndpoints(endpoints ...string) DaemonOption {
	return daemonOption(func(c *daemonConfig) {
		for _, e := range endpoints {
			if !isUnixEndpoint(e) {
				if _, ok := parseTCPEndpoint(e); !ok {
					c.fail(fmt.Errorf("pyro: WithAuthEndpoints: %q is not ip:port or a unix socket path (host names are not resolved)", e))
					continue
				}
			}
			c.authEndpoints = append(c.authEndpoints, e)
		}
	})
}

// WithInterceptors adds interceptors to the daemon's calls (see
// Interceptor), in order: the first one given is the outermost, it runs
// first and sees the result last. Several WithInterceptors add up, in
// the order given.
func WithInterceptors(interceptors ...Interceptor) DaemonOption {
	return daemonOption(func(c *daemonConfig) {
		for _, i := range interceptors {
			if i == nil {
				c.fail(errNilInterceptor)
				return
			}
		}
		c.interceptors = append(c.interceptors, interceptors...)
	})
}
