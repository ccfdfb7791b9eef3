package naming

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pyrogo/pyro"
)

// DaemonEntry is one object for RegisterEntries: the object with id ObjectID in the daemon is
// registered in the name server under Name with the given tags.
type DaemonEntry struct {
	Name     string   // name in the name server
	ObjectID string   // object id in the daemon
	Metadata []string // tags (nil: none)
	Safe     bool     // refuse to replace an existing registration
}

// RegisterAll registers objects of daemon d in the name server that ns is
// a proxy for: names maps each name server name to an object id of d. It
// is the one-call form of Pyro's "ns.register(name, daemon.uriFor(obj))"
// loop. On failure the names registered so far are removed again. The
// returned function removes the registrations (call it on shutdown, before
// the daemon stops, or let NS_AUTOCLEAN do it).
func RegisterAll(ctx context.Context, ns *pyro.Proxy, d *pyro.Daemon, names map[string]string) (unregister func(context.Context) error, err error) {
	entries := make([]DaemonEntry, 0, len(names))
	for name, id := range names {
		entries = append(entries, DaemonEntry{Name: name, ObjectID: id})
	}
	slices.SortFunc(entries, func(a, b DaemonEntry) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return RegisterEntries(ctx, ns, d, entries...)
}

// RegisterEntries is RegisterAll with metadata and safe registration per
// entry; the entries are registered in order.
func RegisterEntries(ctx context.Context, ns *pyro.Proxy, d *pyro.Daemon, entries ...DaemonEntry) (unregister func(context.Context) error, err error) {
	known := map[string]bool{}
	for _, id := range d.Registered() {
		known[id] = true
	}
	c := NewClient(ns)
	type done struct{ name, uri string }
	var registered []done
	unregister = func(ctx context.Context) error {
		var errs []error
		for i := len(registered) - 1; i >= 0; i-- {
			r := registered[i]
			// remove only what still points at this daemon's object, so
			// that a replacement registered meanwhile survives
			cur, err := c.Lookup(ctx, r.name)
			if err != nil {
				if !errors.Is(err, pyro.ErrNaming) {
					errs = append(errs, fmt.Errorf("naming: unregister %s: %w", r.name, err))
				}
				continue
			}
			if cur.String() != r.uri {
				continue
			}
			if _, err := c.Remove(ctx, r.name); err != nil {
				errs = append(errs, fmt.Errorf("naming: unregister %s: %w", r.name, err))
			}
		}
		registered = nil
		return errors.Join(errs...)
	}
	for _, e := range entries {
		if !known[e.ObjectID] {
			err = fmt.Errorf("naming: register %s: object id %q is not registered in the daemon", e.Name, e.ObjectID)
		} else {
			u := d.URIFor(e.ObjectID)
			if err = c.Register(ctx, e.Name, u, e.Safe, e.Metadata); err == nil {
				// the name server stores the string form of the URI
				registered = append(registered, done{e.Name, u.String()})
				continue
			}
			err = fmt.Errorf("naming: register %s: %w", e.Name, err)
		}
		if uerr := unregister(ctx); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return nil, err
	}
	return unregister, nil
}
