package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pyrogo/pyro/cluster"
	"github.com/pyrogo/pyro/naming"
)

// nsStorageOpener returns how pyro ns opens its -s spec: nats:// specs
// through package cluster with the server's logger (connection losses and
// recoveries are logged), others through naming.OpenStorage. A password
// in a nats:// spec gets the warning a secret on the command line gets.
func nsStorageOpener(spec string, logger *slog.Logger, stderr io.Writer) func(string) (naming.Storage, error) {
	if !strings.HasPrefix(spec, cluster.Scheme+":") {
		return naming.OpenStorage
	}
	if s, err := cluster.ParseSpec(spec); err == nil && s.Password != "" {
		fmt.Fprintln(stderr, "Warning: the NATS password in the storage spec is visible to other local users in the process list; use creds=FILE instead.")
	}
	return func(spec string) (naming.Storage, error) {
		st, err := cluster.Open(spec, cluster.WithLogger(logger))
		if err != nil {
			return nil, err
		}
		return st, nil
	}
}
