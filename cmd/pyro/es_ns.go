package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/naming"
)

// esLocateTimeout bounds finding the name server and registering;
// esPingTimeout bounds the check whether a registered event server still
// answers.
const (
	esLocateTimeout = 30 * time.Second
	esPingTimeout   = 5 * time.Second
)

// esRegistration is the event server's entry in a name server.
type esRegistration struct {
	ns         *pyro.Proxy
	nsURI      pyro.URI
	unregister func(context.Context) error
}

// esRegister finds the name server as pyro nsc does (NS_HOST, NS_PORT,
// broadcast; with the config's HMAC key and TLS settings, and the first
// passphrase as identification, as pyro echoserver -n does) and registers
// srv as events.ObjectID. A name already registered for an event server
// that answers a ping is an error (Pyro3 asked whether to start another
// one; a service cannot ask); one that does not answer is replaced.
func esRegister(ctx context.Context, cfg *pyro.Config, srv *events.Server, passphrases []string) (*esRegistration, error) {
	lctx, cancel := context.WithTimeout(ctx, esLocateTimeout)
	defer cancel()
	var popts []pyro.ProxyOption
	if len(passphrases) > 0 {
		popts = append(popts, pyro.WithIdentification(passphrases[0]))
	}
	ns, err := naming.Locate(lctx, naming.WithConfig(cfg), naming.WithProxyOptions(popts...))
	if err != nil {
		return nil, fmt.Errorf("cannot register %s: %w (start a name server, such as pyro ns, or run with -N)", events.ObjectID, err)
	}
	fail := func(err error) (*esRegistration, error) {
		ns.Close()
		return nil, err
	}
	c := naming.NewClient(ns)
	old, err := c.Lookup(lctx, events.ObjectID)
	switch {
	case err == nil:
		if old.String() != srv.URI().String() && esAnswers(lctx, old, cfg, popts) {
			return fail(fmt.Errorf("an event server is already registered as %s at %s and answers: stop it, or run this one with -N", events.ObjectID, old))
		}
	case !errors.Is(err, pyro.ErrNaming):
		return fail(fmt.Errorf("cannot register %s: %w", events.ObjectID, err))
	}
	unregister, err := naming.RegisterAll(lctx, ns, srv.Daemon(), map[string]string{events.ObjectID: events.ObjectID})
	if err != nil {
		return fail(err)
	}
	return &esRegistration{ns: ns, nsURI: ns.URI(), unregister: unregister}, nil
}

// esAnswers reports whether the daemon at u answers a ping within
// esPingTimeout.
func esAnswers(ctx context.Context, u pyro.URI, cfg *pyro.Config, popts []pyro.ProxyOption) bool {
	p, err := pyro.NewProxyURI(u, cfg, popts...)
	if err != nil {
		return false
	}
	defer p.Close()
	pctx, cancel := context.WithTimeout(ctx, esPingTimeout)
	defer cancel()
	return p.Ping(pctx) == nil
}

// remove removes the registration if it still points at this server,
// and closes the name server proxy.
func (r *esRegistration) remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	defer r.ns.Close()
	if err := r.unregister(ctx); err != nil {
		return fmt.Errorf("could not remove the name server registration: %w", err)
	}
	return nil
}
