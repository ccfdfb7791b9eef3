package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pyrogo/pyro/cluster"
	"github.com/pyrogo/pyro/events"
)

// esBackendOpener returns how pyro es opens its --backend spec (or a
// nats:// -s spec, which is the same store; what names the flag in
// messages): through package cluster with the server's logger
// (takeovers, client errors and ignored records are logged). A password
// in the spec gets the warning a secret on the command line gets.
func esBackendOpener(spec, what string, logger *slog.Logger, stderr io.Writer) func(string) (events.Store, error) {
	if s, err := cluster.ParseSpec(spec); err == nil && s.Password != "" {
		fmt.Fprintf(stderr, "Warning: the NATS password in the %s spec is visible to other local users in the process list; use creds=FILE instead.\n", what)
	}
	return func(spec string) (events.Store, error) {
		if !strings.HasPrefix(spec, cluster.Scheme+"://") {
			return nil, fmt.Errorf("%w: --%s must be nats://HOST:PORT[,HOST:PORT...]/NAME", cluster.ErrSpec, what)
		}
		st, err := cluster.OpenEvents(spec, cluster.WithLogger(logger))
		if err != nil {
			return nil, err
		}
		return st, nil
	}
}

// esNATSStorage reports whether a -s spec names the nats:// store, which
// pyro es opens as a --backend (esBackendOpener).
func esNATSStorage(spec string) bool { return strings.HasPrefix(spec, cluster.Scheme+":") }
