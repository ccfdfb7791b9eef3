package pyro

import (
	"context"

	"github.com/pyrogo/pyro/internal/defaultresolver"
)

// Resolver turns a PYRONAME: or PYROMETA: URI into the PYRO: URI of an
// object, by asking a name server. A proxy whose URI needs resolving
// calls its resolver for every new connection, as Pyro does, so
// resolvers should cache their answers briefly; p is the proxy (its
// config and security settings may serve to reach the name server).
//
// Package naming provides one: naming.NewResolver makes a resolver with
// its own cache and its own settings for the name server, and importing
// naming makes its default resolver the DefaultResolver.
type Resolver interface {
	Resolve(ctx context.Context, u URI, p *Proxy) (URI, error)
}

// ResolveForgetter is implemented by resolvers that cache their answers.
// A proxy calls Forget when it could not use the target that resolving u
// gave: connecting to it failed, a connection to it broke, or its daemon
// no longer knows the object. The resolver drops that answer; the proxy
// then resolves once more and, if the answer changed, connects to the new
// target.
type ResolveForgetter interface {
	Forget(u, target URI)
}

// ResolverFunc adapts a function to a Resolver.
type ResolverFunc func(ctx context.Context, u URI, p *Proxy) (URI, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, u URI, p *Proxy) (URI, error) {
	return f(ctx, u, p)
}

// DefaultResolver returns the resolver of proxies made without
// WithResolver: package naming's default resolver when that package is
// part of the program (it installs it when imported; nothing can replace
// it afterwards), nil otherwise. A proxy without a resolver fails to
// resolve a PYRONAME: or PYROMETA: URI with a NamingError.
func DefaultResolver() Resolver {
	r, _ := defaultresolver.Get().(Resolver)
	return r
}
