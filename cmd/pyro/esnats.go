package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pyrogo/pyro/cluster"
	"github.com/pyrogo/pyro/events"
)

// esBackendOpener returns how pyro es opens its --backend spec: through
// package cluster with the server's logger (takeovers are logged). A
// password in the spec gets the warning a secret on the command line
// gets.
func esBackendOpener(spec string, logger *slog.Logger, stderr io.Writer) func(string) (events.Store, error) {
	if s, err := cluster.ParseSpec(spec); err == nil && s.Password != "" {
		fmt.Fprintln(stderr, "Warning: the NATS password in the backend spec is visible to other local users in the process list; use creds=FILE instead.")
	}
	return func(spec string) (events.Store, error) {
		if !strings.HasPrefix(spec, cluster.Scheme+"://") {
			return nil, fmt.Errorf("%w: --backend must be nats://HOST:PORT[,HOST:PORT...]/NAME", cluster.ErrSpec)
		}
		st, err := cluster.OpenEvents(spec, cluster.WithLogger(logger))
		if err != nil {
			return nil, err
		}
		return st, nil
	}
}
