package main

import (
	"context"
	"fmt"
	"io"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/naming"
	_ "github.com/pyrogo/pyro/naming/sqlstore" // sql:FILE storage
)

const nsHelp = `
Ns runs a name server, the Go twin of pyro4-ns (python -m Pyro4.naming):
the same remote object (Pyro.NameServer), the same ports (NS_PORT 9090,
broadcast NS_BCPORT 9091), the same startup output, so Python and Go
programs and pyro4-nsc use it unchanged. It serves until SIGINT or
SIGTERM, then shuts down cleanly.

-n 0.0.0.0 (or -n "") serves every IPv4 interface, as with pyro4-ns: the
URI then carries 0.0.0.0, and the broadcast responder answers each
discovery request with the address of the interface that reaches the
requester. The broadcast responder for discovery is not started when the
server is bound to a loopback address, to IPv6 or to a unix socket, or
with -x.

Storage: "memory" (default; lost at exit), "sql:FILE" (SQLite, the same
tables as pyro4-ns -s sql:FILE, so either name server can open the file),
or "nats://HOST:PORT[,HOST:PORT...]/BUCKET[?PARAMS]": a NATS JetStream
key-value bucket that several name servers share, each serving the same
registry (see the README, "Several name servers (NATS)"). PARAMS:
replicas=N, timeout=5s, max_value=BYTES, max_bytes=BYTES,
purge_deletes=30m, creds=FILE, tls_ca=FILE, tls_cert=FILE, tls_key=FILE; a user:password@ before the
hosts is visible in the process list (prefer creds=FILE).

The configuration is Pyro's defaults with the PYRO_* environment variables
applied (see "pyro config"): HOST, NS_PORT, NS_BCHOST, NS_BCPORT,
NS_AUTOCLEAN, NATHOST, NATPORT, ... The HMAC key comes from PYRO_HMAC_KEY,
or from -k (not both; -k is visible to other local users).

--policy FILE makes the server enforce an access policy: which clients
(by passphrase identity, TLS client certificate common name or host) may
connect, get a broadcast answer, register, remove, look up and list which
names. One rule per line, the first matching rule wins, anything not
allowed is denied:

    # allow|deny OPS [name=GLOB] [prefix=P] [identity=GLOB] [cn=GLOB] [host=IP|CIDR|unix]
    deny all host=10.0.0.0/8
    allow connect,broadcast
    allow register,remove name=lab.* identity=alice
    allow lookup,list name=*

A refused operation is a SecurityError for the client and a warning in
the log.

list and remove by regex (pyro4-nsc's listmatching and removematching)
take patterns from any client, so they are bounded: 2048 characters,
10,000 compiled instructions, and --regex-budget matching steps per
query (default 300,000,000, a fraction of a CPU-second; a match costs the
pattern's size times the name's length, so raise it for registries of
several hundred thousand names).

--http ADDR also serves the HTTP gateway (as "pyro httpgateway") and the
web console for this name server on ADDR (an empty host is localhost:
--http :8080), so that a browser shows its names at http://ADDR/pyro/.
--http-expose sets the gateway's expose regex (default http\.); the
gateway key comes from PYRO_HTTPGATEWAY_KEY or --gateway-key-file.

Long flag names (--host, --port, --unixsocket, --storage, --nobc, --key)
work too, as in pyro4-ns.

Exit status: 0 after a signal; 1 when the server cannot run (port taken,
storage unusable); 2 for usage errors.`

// nsOptions are settings that tests change; the command line cannot.
type nsOptions struct {
	serverOpts []naming.ServerOption
	ready      func(*naming.Server) // called once serving
}

func runNS(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	return nsMain(ctx, args, stdout, stderr, environ, nsOptions{})
}

func nsMain(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string, opts nsOptions) int {
	fs := newFlagSet("ns", "ns [-n host] [-p port] [-u unixsocket] [-s storage] [-x] [--bchost H] [--bcport P] [--nathost H] [--natport P] [-k key] [--policy file] [--metrics ADDR] [--http addr]", nsHelp, stderr)
	f := addServerFlags(fs, "ns", serverHelp{
		port:    "`port` to bind the server on (default: config NS_PORT, 9090; 0 = random)",
		storage: "`storage` to use: memory, sql:FILE or nats://HOST:PORT[,HOST:PORT...]/BUCKET",
		policy:  "enforce the access policy in `file` (who may connect, discover, register, remove, look up and list which names; see doc)",
		verbose: "log registrations and other events to stderr",
	}, tlsServer)
	var (
		bcHost      string
		bcPort      int
		noBC        bool
		regexBudget int64
	)
	for _, n := range []string{"x", "nobc"} {
		fs.BoolVar(&noBC, n, false, "don't start a broadcast server")
	}
	fs.StringVar(&bcHost, "bchost", "", "`host` to bind the broadcast server on (default: config NS_BCHOST, all interfaces)")
	fs.IntVar(&bcPort, "bcport", 0, "`port` to bind the broadcast server on (default: config NS_BCPORT, 9091)")
	fs.Int64Var(&regexBudget, "regex-budget", naming.DefaultRegexBudget, "matching `steps` one list or remove by regex may spend (a match costs pattern size × name length)")
	var hf nsHTTPFlags
	hf.add(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	if regexBudget <= 0 {
		return usageError(fs, "--regex-budget must be positive")
	}
	f.parsed(fs)
	gatewayKey, err := hf.check(f.set, environ)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	cfg, passphrases, logger, closeLog, code := f.setup(environ, stderr)
	if code != exitOK {
		return code
	}
	defer closeLog()
	policy, code := loadPolicy(f, stderr, naming.LoadPolicy)
	if code != exitOK {
		return code
	}
	store, code := openStorage(f, stderr, nsStorageOpener(f.storage, logger, stderr), naming.ErrStorageSpec)
	if code != exitOK {
		return code
	}
	sopts := []naming.ServerOption{naming.WithStorage(store), naming.WithLogger(logger), naming.WithBroadcast(!noBC)}
	if f.given("n", "host") {
		sopts = append(sopts, naming.WithHost(f.host))
	}
	if f.given("p", "port") {
		sopts = append(sopts, naming.WithPort(f.port))
	}
	if f.unixSocket != "" {
		sopts = append(sopts, naming.WithUnixSocket(f.unixSocket))
	}
	if f.set["bchost"] {
		sopts = append(sopts, naming.WithBroadcastHost(bcHost))
	}
	if f.set["bcport"] {
		sopts = append(sopts, naming.WithBroadcastPort(bcPort))
	}
	if passphrases != nil {
		sopts = append(sopts, naming.WithDaemonOptions(pyro.WithAllowedIdentifications(passphrases)))
	}
	if policy != nil {
		sopts = append(sopts, naming.WithPolicy(policy))
	}
	sopts = append(sopts, naming.WithRegexBudget(regexBudget))
	met, err := listenMetrics(f.metrics, logger)
	if err != nil {
		store.Close()
		return failf(stderr, "ns", exitRemote, "%v", err)
	}
	defer met.stop()
	if met != nil {
		sopts = append(sopts, met.reg.NameServer("ns")...)
	}
	sopts = append(sopts, opts.serverOpts...)
	srv, err := naming.Start(cfg, sopts...)
	if err != nil {
		store.Close()
		return failf(stderr, "ns", exitRemote, "%v", err)
	}
	if met != nil {
		met.reg.NameServerNames("ns", srv.NameServer())
	}
	out := &syncWriter{w: stdout}
	switch srv.NoBroadcastReason() {
	case "localhost":
		fmt.Fprintln(out, "Not starting broadcast server for localhost.")
	case "IPv6":
		fmt.Fprintln(out, "Not starting broadcast server for IPv6.")
	case "":
		fmt.Fprintf(out, "Broadcast server running on %s\n", srv.Responder().Location())
	}
	if n, err := srv.NameServer().Count(context.Background()); err == nil && n > 1 {
		fmt.Fprintf(out, "Persistent store contains %d existing registrations.\n", n)
	}
	fmt.Fprintf(out, "NS running on %s (%s)\n", srv.InternalURI().Location(), srv.BindDescription())
	if openToAnyone(cfg, passphrases) {
		fmt.Fprintln(out, "Warning: HMAC key not set. Anyone can connect to this server!")
	}
	if srv.NATActive() {
		fmt.Fprintf(out, "internal URI = %s\n", srv.InternalURI())
		fmt.Fprintf(out, "external URI = %s\n", srv.URI())
	} else {
		fmt.Fprintf(out, "URI = %s\n", srv.URI())
	}
	met.run(out)
	var web *nsHTTP
	if hf.addr != "" {
		if web, err = startNSHTTP(cfg, srv, hf, gatewayKey, passphrases, logger); err != nil {
			srv.Close()
			return failf(stderr, "ns", exitRemote, "%v", err)
		}
		fmt.Fprintf(out, "HTTP gateway and web console on %s\n", web.url)
	}
	if opts.ready != nil {
		opts.ready(srv)
	}
	code = exitOK
	select {
	case <-ctx.Done():
	case <-srv.Done():
		failf(stderr, "ns", 0, "%v", srv.Err())
		code = exitRemote
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if web != nil {
		if err := web.stop(sctx); err != nil {
			failf(stderr, "ns", 0, "warning: shutdown of the HTTP gateway: %v", err)
		}
	}
	if err := srv.Shutdown(sctx); err != nil {
		failf(stderr, "ns", 0, "warning: shutdown: %v", err)
	}
	fmt.Fprintln(out, "NS shut down.")
	return code
}
