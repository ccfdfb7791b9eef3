package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/naming"
)

// echoNameServer implements echoserver -n and -N, as
// pyro4-test-echoserver does: with startNS it first starts a name server
// in-process on the echo server's host and NS_PORT; then it locates the
// name server (that one, or by the locateNS search) and registers the echo
// object as "test.echoserver". The returned function removes the
// registration (only if it still points at this server) and stops a name
// server it started; call it when the echo server stops. With
// passphrases (--passphrase-file), the echo server identifies itself to
// the name server with the first one, and a name server it starts
// requires them as the echo server does.
func echoNameServer(ctx context.Context, cfg *pyro.Config, host string, hostSet bool, d *pyro.Daemon,
	startNS, verbose bool, say func(string, ...any), logger *slog.Logger, passphrases []string) (func(), error) {
	var srv *naming.Server
	stopNS := func() {
		if srv != nil {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			srv.Shutdown(sctx)
		}
	}
	nsHost, nsPort := "", 0
	if startNS {
		var opts []naming.ServerOption // the name server stays silent, as in Python
		if hostSet {
			opts = append(opts, naming.WithHost(host))
		}
		if passphrases != nil {
			opts = append(opts, naming.WithDaemonOptions(pyro.WithAllowedIdentifications(passphrases)))
		}
		var err error
		if srv, err = naming.Start(cfg, opts...); err != nil {
			return nil, err
		}
		nsHost, nsPort = srv.URI().Host, srv.URI().Port
		if srv.URI().Sockname != "" {
			nsHost = "./u:" + srv.URI().Sockname
		}
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	lopts := []naming.LocateOption{naming.WithConfig(cfg), naming.WithNSHost(nsHost), naming.WithNSPort(nsPort)}
	if len(passphrases) > 0 {
		lopts = append(lopts, naming.WithProxyOptions(pyro.WithIdentification(passphrases[0])))
	}
	ns, err := naming.Locate(lctx, lopts...)
	if err != nil {
		stopNS()
		return nil, err
	}
	unregister, err := naming.RegisterAll(lctx, ns, d, map[string]string{echoserver.ObjectID: echoserver.ObjectID})
	if err != nil {
		ns.Close()
		stopNS()
		return nil, err
	}
	if verbose {
		say("using name server at %s", ns.URI())
		if srv != nil {
			if r := srv.Responder(); r != nil {
				say("broadcast server running at %s", r.Location())
			} else {
				say("not using a broadcast server")
			}
		}
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := unregister(uctx); err != nil {
			logger.Warn("echoserver: could not remove the name server registration", "err", err)
		}
		ns.Close()
		stopNS()
	}, nil
}
