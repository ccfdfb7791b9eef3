package main

import (
	"context"
	"fmt"
	"io"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/cluster"
	"github.com/pyrogo/pyro/events"
	_ "github.com/pyrogo/pyro/events/sqlstore" // sql:FILE storage
)

const esHelp = `
Es runs an event server with Pyro3's EventService API (pyro-es in Pyro3):
Python Pyro4 and Pyro5 programs and Go programs publish events on
subjects, and subscribers (any Pyro object with a oneway event(event)
method) receive them:

    publish(subjects, message)
    subscribe(subjects, subscriber)
    subscribeMatch(patterns, subscriber)
    unsubscribe(subjects, subscriber)

The server object is Pyro.EventService. Unless -N is given, it is
registered under that name in the name server, found as pyro nsc and
Pyro4.locateNS find it (PYRO_NS_HOST, PYRO_NS_PORT, broadcast), so clients
use PYRONAME:Pyro.EventService; the registration is removed at shutdown
if it still points at this server. A name server that cannot be found is
an error (exit 1), as in Pyro3: clients could not find the event server.
A running event server already registered under the name is an error
too; a registration whose server does not answer is replaced.

The default port is 0, a free port: Pyro3's event server had no port of
its own, and clients find it through the name server. Use -p for a fixed
one (with -N, clients need the URI it prints).

Storage: "memory" (default; subscriptions and queued events are lost at
exit) or "sql:FILE" (SQLite; subscriptions and undelivered events survive
a crash or restart, and delivery resumes; one event server at a time per
file; see the events package documentation for the exact guarantee). An
unknown storage is a usage error that lists the storages this binary
knows.

--backend nats://HOST:PORT[,HOST:PORT...]/NAME (instead of -s) makes
this event server one of several sharing a NATS JetStream cluster: events
published at any of them reach the subscribers of all, in per-publisher
order; a publish returns once JetStream stored it on a majority of its
replicas; each subscriber is delivered to by the instance it subscribed
at, and by another one, from its last confirmed event, when that one
stops (within a few seconds; events carry "seq" so that repeats can be
dropped). The spec takes the parameters of pyro ns -s nats://... (see
the cluster package documentation). -s nats://... is the same as
--backend nats://....

The configuration is Pyro's defaults with the PYRO_* environment variables
applied (see "pyro config"): HOST, ES_QUEUESIZE (events queued per
subscriber, 1000), ES_BLOCKQUEUE (a full queue makes the publisher wait,
true, or drops the event for that subscriber, false), ES_BLOCKTIMEOUT
(the longest wait, 10 s), NATHOST, NATPORT, MAXCONNECTIONS, ... The HMAC
key, TLS settings and passphrases protect the server and are also used to
reach the name server; the HMAC key and TLS settings are used to deliver
events to subscribers, as a Pyro4 program uses its config for all its
proxies.

--policy FILE makes the server enforce an access policy, with the rule
syntax of pyro ns --policy and the event server's operations: connect,
publish and subscribe (subject=GLOB, prefix=P; subjects regardless of
case), match (subscribeMatch) and thirdparty (subscribing an object on
another host than the client's own, refused unless a rule allows it):

    # allow|deny OPS [subject=GLOB] [prefix=P] [identity=GLOB] [cn=GLOB] [host=IP|CIDR|unix]
    allow connect
    allow publish subject=lab.* identity=#0
    allow subscribe,match host=127.0.0.0/8

The first matching rule decides; anything not allowed is denied. With
--passphrase-file the identity of the file's passphrases is #0, #1, ...
A refused call is a SecurityError naming what was denied, and a warning in
the log.

Long flag names (--host, --port, --unixsocket, --storage, --nons, --key)
work too.

Exit status: 0 after a signal; 1 when the server cannot run (port taken,
storage unusable, no name server); 2 for usage errors.`

// esOptions are settings that tests change; the command line cannot.
type esOptions struct {
	serverOpts []events.ServerOption
	ready      func(*events.Server) // called once serving
}

func runES(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	return esMain(ctx, args, stdout, stderr, environ, esOptions{})
}

func esMain(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string, opts esOptions) int {
	fs := newFlagSet("es", "es [-n host] [-p port] [-u unixsocket] [-N] [-s storage] [-k key] [--policy file] [--metrics ADDR]", esHelp, stderr)
	f := addServerFlags(fs, "es", serverHelp{
		port:    "`port` to bind the server on (0 = a free port)",
		storage: "`storage` to use: memory or sql:FILE (or scheme:ARG of a registered storage)",
		policy:  "enforce the access policy in `file` (who may connect, publish, subscribe to which subjects; see doc)",
		verbose: "log subscriptions, removals and other events to stderr",
	}, tlsServer|tlsClient) // a client of the name server and of the subscribers
	var noNS bool
	for _, n := range []string{"N", "nons"} {
		fs.BoolVar(&noNS, n, false, "don't register in the name server")
	}
	var backend string
	fs.StringVar(&backend, "backend", "", "share events and subscribers with the other event servers of `nats://HOST:PORT[,...]/NAME` (see doc)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	f.parsed(fs)
	if f.unixSocket != "" && f.given("p", "port") {
		return usageError(fs, "-u and -p exclude each other")
	}
	if backend != "" && f.given("s", "storage") {
		return usageError(fs, "-s and --backend exclude each other")
	}
	cfg, passphrases, logger, closeLog, code := f.setup(environ, stderr)
	if code != exitOK {
		return code
	}
	defer closeLog()
	policy, code := loadPolicy(f, stderr, events.LoadPolicy)
	if code != exitOK {
		return code
	}
	var store events.Store
	if backend != "" {
		f.storage = backend
		store, code = openStorage(f, stderr, esBackendOpener(backend, "backend", logger, stderr), cluster.ErrSpec)
	} else if esNATSStorage(f.storage) {
		store, code = openStorage(f, stderr, esBackendOpener(f.storage, "storage", logger, stderr), cluster.ErrSpec)
	} else {
		store, code = openStorage(f, stderr, events.OpenStore, events.ErrStoreSpec)
	}
	if code != exitOK {
		return code
	}
	// from here on events.Start owns the store
	sopts := []events.ServerOption{events.WithStore(store), events.WithLogger(logger), events.WithServerPort(f.port)}
	if f.given("n", "host") {
		sopts = append(sopts, events.WithServerHost(f.host))
	}
	if f.unixSocket != "" {
		sopts = append(sopts, events.WithServerUnixSocket(f.unixSocket))
	}
	if policy != nil {
		sopts = append(sopts, events.WithPolicy(policy))
	}
	if passphrases != nil {
		sopts = append(sopts, events.WithServerDaemonOptions(pyro.WithAllowedIdentifications(passphrases)))
	}
	met, err := listenMetrics(f.metrics, logger)
	if err != nil {
		store.Close()
		return failf(stderr, "es", exitRemote, "%v", err)
	}
	defer met.stop()
	if met != nil {
		sopts = append(sopts, met.reg.EventServer("es"))
	}
	sopts = append(sopts, opts.serverOpts...)

	out := &syncWriter{w: stdout}
	fmt.Fprintln(out, "*** Pyro Event Server ***")
	srv, err := events.Start(cfg, sopts...)
	if err != nil {
		return failf(stderr, "es", exitRemote, "%v", err)
	}
	if met != nil {
		met.reg.EventCounters("es", srv.Service())
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			failf(stderr, "es", 0, "warning: shutdown: %v", err)
		}
	}
	if passphrases != nil {
		fmt.Fprintln(out, "Requiring connection authentication.")
	}
	where := srv.URI().Location()
	if cfg.NATHost != "" {
		where = srv.Addr().String() // the URI has the external address
	}
	fmt.Fprintf(out, "ES running on %s (%s)\n", where, srv.BindDescription())
	if openToAnyone(cfg, passphrases) {
		fmt.Fprintln(out, "Warning: HMAC key not set. Anyone can connect to this server!")
	}
	fmt.Fprintf(out, "URI = %s\n", srv.URI())
	var unregister func()
	if noNS {
		fmt.Fprintln(out, "Not using a name server.")
	} else {
		reg, err := esRegister(ctx, cfg, srv, passphrases)
		if err != nil {
			stop()
			if ctx.Err() != nil { // a signal while looking for the name server
				fmt.Fprintln(out, "Event Server gracefully stopped.")
				return exitOK
			}
			return failf(stderr, "es", exitRemote, "%v", err)
		}
		fmt.Fprintf(out, "Registered %s in the name server at %s\n", events.ObjectID, reg.nsURI)
		unregister = func() {
			if err := reg.remove(); err != nil {
				failf(stderr, "es", 0, "warning: %v", err)
			}
		}
	}
	met.run(out)
	fmt.Fprintln(out, "Event Server started.")
	if opts.ready != nil {
		opts.ready(srv)
	}
	code = exitOK
	select {
	case <-ctx.Done():
	case <-srv.Done():
		failf(stderr, "es", 0, "%v", srv.Err())
		code = exitRemote
	}
	// as Pyro3 does, the registration goes first (clients stop finding the
	// server), then the daemon stops and the queues are delivered
	if unregister != nil {
		unregister()
	}
	stop()
	fmt.Fprintln(out, "Event Server gracefully stopped.")
	return code
}
