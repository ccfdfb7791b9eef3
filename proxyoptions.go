package pyro

import (
	"errors"
	"fmt"
	"time"

	"github.com/pyrogo/pyro/codec"
)

// proxyConfig is what the ProxyOptions set; NewProxy builds the proxy
// from it after validate.
type proxyConfig struct {
	sharedConfig
	maxConns       int
	resolver       Resolver
	serializer     string // "" = the config's SERIALIZER
	handshake      any
	checkHandshake func(response any) error
	timeout        time.Duration
	timeoutSet     bool
	ident          *clientAuth // passphrase identification (auth.go)
	protocol       string      // "" = the config's PROTOCOL

	// set by validate
	codec  codec.Codec
	codec5 codec.Codec // the serializer in Pyro5's dialect (protocol 502)
	mode   protoMode
}

// proxyOption is a ProxyOption that applies to proxies only.
type proxyOption func(*proxyConfig)

func (o proxyOption) applyProxy(c *proxyConfig) { o(c) }

// validate checks the options and cfg in one step: bad option arguments,
// Config.Validate, the serializer and the settings that depend on each
// other. It reports every problem it finds, joined.
func (c *proxyConfig) validate(cfg *Config) error {
	errs := append([]error(nil), c.errs...)
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	name := c.serializer
	if name == "" {
		name = cfg.Serializer
	}
	cd, err := codec.ForName(name, codec.Options{})
	if err != nil {
		errs = append(errs, wrapError(ErrSerialize, err.Error(), err))
	}
	c.codec = cd
	c.codec5, _ = codec.ForName(name, codec.Options{Protocol: codec.Pyro5})
	choice, from := cfg.Protocol, "config PROTOCOL"
	if c.protocol != "" {
		choice, from = c.protocol, "WithProtocol"
	}
	// a bad WithProtocol was recorded by the option, a bad PROTOCOL by
	// Validate
	c.mode, _ = parseProtocolChoice(choice)
	if c.mode == mode502 {
		key := cfg.HMACKey
		if c.hmacKeySet {
			key = c.hmacKey
		}
		switch {
		case len(key) > 0 || c.boundHMAC:
			errs = append(errs, NewError(ErrSecurity, from+" asks for protocol 502 (Pyro5), which has no HMAC, but the proxy has an HMAC key: use protocol 4, or drop the key and use TLS or a passphrase"))
		case c.codec5 == nil && err == nil:
			errs = append(errs, NewError(ErrSerialize, "serializer "+name+" is not available in protocol 502 (Pyro5)"))
		}
	}
	if c.peerCheck != nil && c.tls == nil && (c.tlsSet || !cfg.SSL) {
		errs = append(errs, NewError(ErrCommunication, "a peer certificate check needs TLS (WithTLSConfig or SSL=true)"))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// WithMaxConns bounds the connections a proxy opens for concurrent calls
// (default 16). Pyro never multiplexes calls on one connection, so this
// is the proxy's concurrency.
func WithMaxConns(n int) ProxyOption {
	return proxyOption(func(c *proxyConfig) {
		if n < 1 {
			c.fail(fmt.Errorf("pyro: WithMaxConns(%d): need at least 1", n))
			return
		}
		c.maxConns = n
	})
}

// WithResolver sets how the proxy resolves a PYRONAME/PYROMETA URI
// (default: DefaultResolver).
func WithResolver(r Resolver) ProxyOption {
	return proxyOption(func(c *proxyConfig) { c.resolver = r })
}

// WithSerializer chooses the serializer by name (overrides the config's
// SERIALIZER).
func WithSerializer(name string) ProxyOption {
	return proxyOption(func(c *proxyConfig) {
		if name == "" {
			c.fail(errors.New("pyro: WithSerializer: no name"))
			return
		}
		c.serializer = name
	})
}

// WithProtocol chooses the wire protocol of the proxy, overriding the
// config's PROTOCOL: Protocol4 ("4", Pyro4's 48), Protocol5 ("5", Pyro5's
// 502) or ProtocolAuto ("auto": detected on the first connection to an
// address and remembered; see proxyprotocol.go and the README). A proxy
// with an HMAC key cannot speak 502.
func WithProtocol(choice string) ProxyOption {
	return proxyOption(func(c *proxyConfig) {
		if _, err := parseProtocolChoice(choice); err != nil || choice == "" {
			c.fail(fmt.Errorf("pyro: WithProtocol(%q): must be 4, 5 or auto", choice))
			return
		}
		c.protocol = choice
	})
}

// WithHandshakeData sets the value sent in CONNECT (Pyro's
// _pyroHandshake; default "hello").
func WithHandshakeData(v any) ProxyOption {
	return proxyOption(func(c *proxyConfig) { c.handshake = v })
}

// WithHandshakeCheck installs a check of the daemon's handshake response
// (Pyro's _pyroValidateHandshake); an error refuses the connection.
func WithHandshakeCheck(f func(response any) error) ProxyOption {
	return proxyOption(func(c *proxyConfig) { c.checkHandshake = f })
}

// WithTimeout sets the proxy's timeout for calls whose context has no
// deadline (default: the config's COMMTIMEOUT; 0 = none).
func WithTimeout(d time.Duration) ProxyOption {
	return proxyOption(func(c *proxyConfig) {
		if d < 0 {
			c.fail(fmt.Errorf("pyro: WithTimeout(%v): negative", d))
			return
		}
		c.timeout, c.timeoutSet = d, true
	})
}

// WithIdentification sets the proxy's passphrase (see
// Proxy.SetIdentification); "" means none.
func WithIdentification(passphrase string) ProxyOption {
	var a *clientAuth
	if passphrase != "" {
		a = &clientAuth{key: deriveAuthKey(passphrase)}
	}
	return proxyOption(func(c *proxyConfig) { c.ident = a })
}

// withIdentity gives a proxy an identification already derived (another
// proxy's).
func withIdentity(a *clientAuth) ProxyOption {
	return proxyOption(func(c *proxyConfig) { c.ident = a })
}

// withBoundHMAC turns the replay-protected HMAC mode on, keeping the key.
func withBoundHMAC() ProxyOption {
	return proxyOption(func(c *proxyConfig) { c.boundHMAC = true })
}

// inheritTLS gives a proxy made from another one's result (an autoproxy)
// the same TLS settings.
func inheritTLS(from *Proxy) ProxyOption {
	return proxyOption(func(c *proxyConfig) {
		c.tls, c.tlsSet, c.peerCheck = from.tlsConf, true, from.peerCheck
	})
}
