package mobile

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Client is who sent a request, as the daemon's connection knows it: never
// what the client claims about itself.
type Client struct {
	// Addr is the client's address; nil for a local call (Go code of the
	// server's own process).
	Addr net.Addr
	// Identity is the passphrase identity the client authenticated with
	// ("" without passphrase authentication).
	Identity string
	// CommonName is the subject CN of the client's verified TLS
	// certificate ("" without one).
	CommonName string
}

// Local reports whether the request came from the server's own process.
func (c Client) Local() bool { return c.Addr == nil }

// Host is the client's IP address, "unix socket", or "local".
func (c Client) Host() string {
	switch a := c.Addr.(type) {
	case nil:
		return "local"
	case *net.UnixAddr:
		return "unix socket"
	case *net.TCPAddr:
		if ap := a.AddrPort(); ap.Addr().IsValid() {
			return ap.Addr().Unmap().String()
		}
	}
	h, _, err := net.SplitHostPort(c.Addr.String())
	if err != nil {
		return c.Addr.String()
	}
	return h
}

// key is the name of the client for quotas and module ownership: its
// passphrase identity, else its certificate CN, else its host.
func (c Client) key() string {
	switch {
	case c.Local():
		return "local"
	case c.Identity != "":
		return "identity " + c.Identity
	case c.CommonName != "":
		return "certificate " + c.CommonName
	}
	return "host " + c.Host()
}

// String describes the client for messages.
func (c Client) String() string {
	if c.Local() {
		return "local caller"
	}
	s := "client at " + c.Host()
	if c.Identity != "" {
		s += fmt.Sprintf(" with identity %q", c.Identity)
	}
	if c.CommonName != "" {
		s += fmt.Sprintf(" with certificate %q", c.CommonName)
	}
	return s
}

// Request is what a validator sees of a module being loaded. The service
// fills it from the connection and the module bytes after the cheap
// checks (size, hash, the bounded decoding of Info and the import rule)
// and before compiling anything.
type Request struct {
	Client Client
	// ID is the hex SHA-256 of the module, Sum the same 32 bytes.
	ID   string
	Sum  [32]byte
	Size int
	// Info holds the module's imports, exports, memory and custom
	// section names.
	Info *Info
	// Signature is what the client sent as signature (raw bytes; a str
	// is read as base64), nil when none.
	Signature []byte
	// Module is the module itself; validators must not modify it.
	Module []byte
}

// A Validator accepts a module (nil) or refuses it with an error whose
// text the client sees after "module ... refused: ".
type Validator interface {
	ValidateModule(ctx context.Context, req *Request) error
}

// ValidatorFunc is a function Validator.
type ValidatorFunc func(ctx context.Context, req *Request) error

// ValidateModule calls f.
func (f ValidatorFunc) ValidateModule(ctx context.Context, req *Request) error { return f(ctx, req) }

type chain []Validator

// Chain returns a validator that accepts a module only when every one of
// vs does, asking them in order and stopping at the first refusal (like
// a daemon's connection validators). nil entries are skipped; a chain of
// none refuses everything.
func Chain(vs ...Validator) Validator {
	var c chain
	for _, v := range vs {
		if v != nil {
			c = append(c, v)
		}
	}
	return c
}

func (c chain) ValidateModule(ctx context.Context, req *Request) error {
	if len(c) == 0 {
		return errNoValidator
	}
	for _, v := range c {
		if err := v.ValidateModule(ctx, req); err != nil {
			return err
		}
	}
	return nil
}

var errNoValidator = errors.New("no code validator is configured, so every module is refused (mobile.WithValidator)")

// AllowHashes accepts the modules whose SHA-256 (hex, as the module id)
// is listed. Invalid entries are reported by the returned error.
func AllowHashes(ids ...string) (Validator, error) {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if b, err := hex.DecodeString(id); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("mobile: AllowHashes: %q is not a hex SHA-256", id)
		}
		set[id] = true
	}
	return ValidatorFunc(func(_ context.Context, req *Request) error {
		if !set[req.ID] {
			return fmt.Errorf("its SHA-256 %s is not in the allow-list", req.ID)
		}
		return nil
	}), nil
}

// SignedBy accepts modules that carry an Ed25519 signature (see Sign) by
// one of keys. A module without a signature, or whose signature no key
// verifies, is refused.
func SignedBy(keys ...ed25519.PublicKey) Validator {
	ring := make([]ed25519.PublicKey, 0, len(keys))
	for _, k := range keys {
		if len(k) == ed25519.PublicKeySize {
			ring = append(ring, k)
		}
	}
	return ValidatorFunc(func(_ context.Context, req *Request) error {
		if len(req.Signature) == 0 {
			return fmt.Errorf("it is not signed (a signature by one of %d trusted keys is required)", len(ring))
		}
		if len(req.Signature) != ed25519.SignatureSize {
			return fmt.Errorf("its signature is %d bytes, an Ed25519 signature has %d", len(req.Signature), ed25519.SignatureSize)
		}
		msg := signedMessage(req.Sum)
		for _, k := range ring {
			if ed25519.Verify(k, msg, req.Signature) {
				return nil
			}
		}
		return fmt.Errorf("its signature does not verify with any of the %d trusted keys", len(ring))
	})
}

// AllowIdentities accepts modules sent by clients that authenticated
// with one of these passphrase identities, or whose verified TLS
// certificate has one of these common names (prefix a name with "cn:" to
// match only certificates, "id:" to match only passphrase identities).
// Local calls are accepted.
func AllowIdentities(names ...string) Validator {
	ids, cns := map[string]bool{}, map[string]bool{}
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "cn:"):
			cns[n[3:]] = true
		case strings.HasPrefix(n, "id:"):
			ids[n[3:]] = true
		default:
			ids[n], cns[n] = true, true
		}
	}
	return ValidatorFunc(func(_ context.Context, req *Request) error {
		c := req.Client
		if c.Local() || (c.Identity != "" && ids[c.Identity]) || (c.CommonName != "" && cns[c.CommonName]) {
			return nil
		}
		return fmt.Errorf("the %s may not load modules", c)
	})
}

// AllowHosts accepts modules sent from addresses in one of the prefixes
// (e.g. "127.0.0.0/8", "::1/128"); local calls are accepted, unix socket
// clients are not unless "unix" is listed.
func AllowHosts(prefixes ...string) (Validator, error) {
	var ps []netip.Prefix
	unix := false
	for _, s := range prefixes {
		if s == "unix" {
			unix = true
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return nil, fmt.Errorf("mobile: AllowHosts: %w", err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		ps = append(ps, p.Masked())
	}
	return ValidatorFunc(func(_ context.Context, req *Request) error {
		c := req.Client
		switch a := c.Addr.(type) {
		case nil:
			return nil
		case *net.UnixAddr:
			if unix {
				return nil
			}
		case *net.TCPAddr:
			ip := a.AddrPort().Addr().Unmap()
			for _, p := range ps {
				if p.Contains(ip) {
					return nil
				}
			}
		}
		return fmt.Errorf("the %s may not load modules", c)
	}), nil
}
