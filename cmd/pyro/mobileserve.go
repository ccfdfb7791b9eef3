package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/mobile"
)

const mobileServeHelp = `
Serve runs a daemon that accepts mobile code: it serves the object
Pyro.MobileCode (load, call, unload, modules; see spec.md, "Mobile code")
and prints its URI, then serves until SIGINT or SIGTERM.

Refusal is the default: without a --trust or --allow-* flag every module
is refused, and the server says so when it starts. Each kind of flag given
adds a rule, and a module must pass every rule:

	--trust FILE          signed by a key of the public key FILE (from "pyro mobile keygen")
	--allow-hash ID       its SHA-256 is one of these ids ("pyro mobile inspect" prints it)
	--allow-identity NAME sent by a client with this passphrase identity or
	                      certificate CN (cn:NAME or id:NAME for one kind only)
	--allow-host PREFIX   sent from an address in PREFIX (127.0.0.0/8, ::1, unix)

So "--trust team.pub --allow-identity alice" accepts modules signed by the
team's key that alice loads. The repeatable flags of one kind are
alternatives (any listed key, hash, identity or prefix).

--echo also serves the test echo server object (test.echoserver, as "pyro
echoserver" does): an object for agents to call. --grant OBJECT.METHOD
lets loaded modules call METHOD of the daemon's object OBJECT through the
"pyro" host module (guest.Invoke); METHOD "*" grants every exposed method.
Nothing is granted by default.

The sandbox limits (per instance memory, per call time, module size) have
flags below; the others are the package defaults (see spec.md).

The configuration is Pyro's defaults with the PYRO_* environment variables
applied (see "pyro config"); the HMAC key comes from PYRO_HMAC_KEY, or
from -k (not both). Protect a server that runs code: passphrases
(--passphrase-file; clients' identities then reach --allow-identity) or
mutual TLS, and a validator that names who and what may load.

Exit status: 0 after a signal; 1 when the server cannot serve (for example
the port is taken); 2 for usage errors and bad key files.`

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*l = append(*l, s)
	return nil
}

func runMobileServe(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	const cmd = "mobile serve"
	fs := newFlagSet(cmd, "mobile serve [-n host] [-p port] [--trust FILE]... [--allow-hash ID]... [--allow-identity NAME]... [--allow-host PREFIX]... [--echo] [--grant OBJECT.METHOD]... [flags]",
		mobileServeHelp, stderr)
	var (
		host, unixSocket, key                    string
		port                                     int
		trust, hashes, identities, hosts, grants listFlag
		echo, verbose                            bool
		maxSize                                  int
		memMiB                                   int
		callTimeout                              float64
	)
	for _, n := range []string{"n", "host"} {
		fs.StringVar(&host, n, "", "`host` name or address to bind the server on (default: config HOST, localhost)")
	}
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&port, n, 0, "`port` to bind the server on (0 = any free port)")
	}
	for _, n := range []string{"u", "unixsocket"} {
		fs.StringVar(&unixSocket, n, "", "unix domain socket `name` to bind the server on (@name = abstract)")
	}
	for _, n := range []string{"k", "key"} {
		fs.StringVar(&key, n, "", keyFlagHelp)
	}
	fs.Var(&trust, "trust", "accept modules signed by a key in the public key `file` (repeatable)")
	fs.Var(&hashes, "allow-hash", "accept the module with this `id` (hex SHA-256; repeatable)")
	fs.Var(&identities, "allow-identity", "accept modules loaded by the client with this passphrase identity or certificate CN `name` (repeatable)")
	fs.Var(&hosts, "allow-host", "accept modules loaded from addresses in `prefix` (repeatable)")
	fs.BoolVar(&echo, "echo", false, "also serve the test echo server object test.echoserver")
	fs.Var(&grants, "grant", "let modules call `OBJECT.METHOD` of this daemon (METHOD * = every exposed method; repeatable)")
	fs.IntVar(&maxSize, "max-module-size", mobile.DefaultMaxModuleSize, "largest module accepted, in `bytes`")
	fs.IntVar(&memMiB, "memory", mobile.DefaultMemoryPages/16, "linear memory cap of one instance in `MiB`")
	fs.Float64Var(&callTimeout, "call-timeout", mobile.DefaultCallTimeout.Seconds(), "time cap of one call in `seconds`")
	fs.BoolVar(&verbose, "v", false, "verbose output: log loads, refusals and calls at debug level")
	tf := addTLSFlags(fs, tlsServer)
	sf := addSecretFlags(fs, true)
	lf := addLogFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	hostSet := false
	fs.Visit(func(f *flag.Flag) { hostSet = hostSet || f.Name == "n" || f.Name == "host" })
	if maxSize <= 0 {
		return usageError(fs, "--max-module-size must be positive")
	}
	if memMiB <= 0 || memMiB > 4096 {
		return usageError(fs, "--memory must be 1..4096 MiB")
	}
	if callTimeout <= 0 || math.IsNaN(callTimeout) || math.IsInf(callTimeout, 0) || callTimeout > 1e6 {
		return usageError(fs, "invalid --call-timeout %v", callTimeout)
	}

	var rules []mobile.Validator
	var said []string
	if len(trust) > 0 {
		var keys []ed25519.PublicKey
		for _, path := range trust {
			data, err := os.ReadFile(path)
			if err != nil {
				return failf(stderr, cmd, exitUsage, "--trust: %v", err)
			}
			ks, err := mobile.ParsePublicKeys(data)
			if err != nil {
				return failf(stderr, cmd, exitUsage, "--trust %s: %v", path, err)
			}
			keys = append(keys, ks...)
		}
		rules = append(rules, mobile.SignedBy(keys...))
		said = append(said, fmt.Sprintf("signed by one of %d trusted keys", len(keys)))
	}
	if len(hashes) > 0 {
		v, err := mobile.AllowHashes(hashes...)
		if err != nil {
			return usageError(fs, "--allow-hash: %v", err)
		}
		rules = append(rules, v)
		said = append(said, fmt.Sprintf("whose hash is one of %d allowed", len(hashes)))
	}
	if len(identities) > 0 {
		rules = append(rules, mobile.AllowIdentities(identities...))
		said = append(said, "loaded by "+strings.Join(identities, " or "))
	}
	if len(hosts) > 0 {
		v, err := mobile.AllowHosts(hosts...)
		if err != nil {
			return usageError(fs, "--allow-host: %v", err)
		}
		rules = append(rules, v)
		said = append(said, "loaded from "+strings.Join(hosts, " or "))
	}
	grantOpt, grantSaid, err := parseGrants(grants)
	if err != nil {
		return usageError(fs, "--grant: %v", err)
	}

	cfg, passphrases, err := commandConfig(environ, key, tf, sf, stderr)
	if err != nil {
		return failf(stderr, cmd, exitUsage, "%v", err)
	}
	var verboseLevel *slog.Level
	if verbose {
		verboseLevel = new(slog.LevelDebug)
	}
	logger, closeLog, err := lf.logger(cfg, verboseLevel, stderr)
	if err != nil {
		return failf(stderr, cmd, exitUsage, "%v", err)
	}
	defer closeLog()
	out := &syncWriter{w: stdout}
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	dopts := []pyro.DaemonOption{pyro.WithPort(port), pyro.WithLogger(logger)}
	if hostSet {
		dopts = append(dopts, pyro.WithHost(host))
	}
	if unixSocket != "" {
		dopts = append(dopts, pyro.WithUnixSocket(unixSocket))
	}
	if passphrases != nil {
		dopts = append(dopts, pyro.WithAllowedIdentifications(passphrases))
	}
	d, err := pyro.NewDaemon(cfg, dopts...)
	if err != nil {
		return failf(stderr, cmd, exitRemote, "%v", err)
	}
	mopts := []mobile.Option{
		mobile.WithLogger(logger),
		mobile.WithValidator(rules...),
		mobile.WithMaxModuleSize(maxSize),
		mobile.WithMemoryPages(uint32(memMiB * 16)),
		mobile.WithCallTimeout(time.Duration(callTimeout * float64(time.Second))),
	}
	if grantOpt != nil {
		mopts = append(mopts, grantOpt)
	}
	svc, err := mobile.Enable(d, mopts...)
	if err != nil {
		d.Close()
		return failf(stderr, cmd, exitRemote, "%v", err)
	}
	defer svc.Close() // after the daemon stopped (deferred first, runs last)
	if echo {
		if _, err := d.Register(&echoserver.EchoServer{Out: io.Discard}, echoserver.ObjectID); err != nil {
			d.Close()
			return failf(stderr, cmd, exitRemote, "%v", err)
		}
	}
	uri := d.URIFor(mobile.ObjectID)

	say("Starting pyrogo's mobile code server.")
	if len(rules) == 0 {
		say("Warning: no --trust or --allow-* flag: every module is refused.")
	} else {
		say("Accepting modules %s.", strings.Join(said, " and "))
	}
	for _, g := range grantSaid {
		say("Granted to modules: %s", g)
	}
	if openToAnyone(cfg, passphrases) {
		say("Warning: HMAC key not set. Anyone can connect to this server!")
	}
	if echo {
		say("echo uri: %s", d.URIFor(echoserver.ObjectID))
	}
	say("mobile uri: %s", uri)

	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		d.Close()
		return failf(stderr, cmd, exitRemote, "%v", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := d.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "pyro %s: warning: calls still running after %v were cut off\n", cmd, shutdownTimeout)
	}
	if err := <-served; err != nil && !errors.Is(err, pyro.ErrDaemonClosed) {
		return failf(stderr, cmd, exitRemote, "%v", err)
	}
	return exitOK
}
