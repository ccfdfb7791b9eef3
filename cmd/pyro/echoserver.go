package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
)

// shutdownTimeout bounds the graceful shutdown of a server: calls still
// running after it are cut off.
const shutdownTimeout = 5 * time.Second

const echoserverHelp = `
Echoserver runs the test echo server, the Go twin of pyro4-test-echoserver
(python -m Pyro4.test.echoserver): object "test.echoserver" with the
methods echo, error, error_with_text, oneway_echo, slow, generator, nan,
inf, oneway_slow, __dunder__ and shutdown, and the attribute verbose.
It prints the object's URI and serves until a client calls shutdown() or
the process gets SIGINT or SIGTERM.

The configuration is Pyro's defaults with the PYRO_* environment variables
applied (see "pyro config"); -H overrides HOST. The HMAC key comes from
PYRO_HMAC_KEY, or from -k (not both). The long options of
pyro4-test-echoserver (--host, --port, --unixsocket, --naming,
--nameserver, --verbose, --quiet, --key) work too.

Exit status: 0 after shutdown() or a signal; 1 when the server cannot
serve (for example the port is taken); 2 for usage errors.`

// echoserverOptions are settings that tests change; the command line
// cannot.
type echoserverOptions struct {
	slowDelay time.Duration // 0 = the echo server's default (5 s)
}

func runEchoserver(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	return echoserverMain(ctx, args, stdout, stderr, environ, echoserverOptions{})
}

func echoserverMain(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string, opts echoserverOptions) int {
	fs := newFlagSet("echoserver", "echoserver [-H host] [-p port] [-u unixsocket] [-n] [-N] [-v] [-q] [-k key] [--metrics ADDR]", echoserverHelp, stderr)
	var (
		host, unixSocket, key   string
		metricsAddr             string
		port                    int
		naming, startNS         bool
		verbose, quiet, hostSet bool
	)
	// the short and long options of pyro4-test-echoserver
	for _, n := range []string{"H", "host"} {
		fs.StringVar(&host, n, "", "`host` name or address to bind the server on (default: config HOST, localhost)")
	}
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&port, n, 0, "`port` to bind the server on (0 = any free port)")
	}
	for _, n := range []string{"u", "unixsocket"} {
		fs.StringVar(&unixSocket, n, "", "unix domain socket `name` to bind the server on (@name = abstract)")
	}
	for _, n := range []string{"n", "naming"} {
		fs.BoolVar(&naming, n, false, "register the object with the name server (found as pyro4-nsc finds it)")
	}
	for _, n := range []string{"N", "nameserver"} {
		fs.BoolVar(&startNS, n, false, "also start a name server (on the server host and NS_PORT) and register with it")
	}
	for _, n := range []string{"v", "verbose"} {
		fs.BoolVar(&verbose, n, false, "verbose output: log every call to stdout (overrides -q)")
	}
	for _, n := range []string{"q", "quiet"} {
		fs.BoolVar(&quiet, n, false, "don't output anything")
	}
	for _, n := range []string{"k", "key"} {
		fs.StringVar(&key, n, "", keyFlagHelp)
	}
	addMetricsFlag(fs, &metricsAddr)
	tf := addTLSFlags(fs, tlsServer|tlsClient) // a client of the name server with -n
	sf := addSecretFlags(fs, true)
	lf := addLogFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "H" || f.Name == "host" {
			hostSet = true
		}
	})
	cfg, passphrases, err := commandConfig(environ, key, tf, sf, stderr)
	if err != nil {
		return failf(stderr, "echoserver", exitUsage, "%v", err)
	}
	var verboseLevel *slog.Level
	if verbose {
		verboseLevel = new(slog.LevelInfo)
	}
	logger, closeLog, err := lf.logger(cfg, verboseLevel, stderr)
	if err != nil {
		return failf(stderr, "echoserver", exitUsage, "%v", err)
	}
	defer closeLog()
	if verbose {
		quiet = false
	}
	out := &syncWriter{w: stdout}
	say := func(format string, args ...any) {
		if !quiet {
			fmt.Fprintf(out, format+"\n", args...)
		}
	}
	say("Starting Pyro's built-in test echo server.")
	if openToAnyone(cfg, passphrases) {
		say("Warning: HMAC key not set. Anyone can connect to this server!")
	}

	dopts := []pyro.DaemonOption{
		pyro.WithPort(port),
		pyro.WithLogger(logger),
	}
	if hostSet {
		dopts = append(dopts, pyro.WithHost(host))
	}
	if unixSocket != "" {
		dopts = append(dopts, pyro.WithUnixSocket(unixSocket))
	}
	if passphrases != nil {
		dopts = append(dopts, pyro.WithAllowedIdentifications(passphrases))
	}
	met, err := listenMetrics(metricsAddr, logger)
	if err != nil {
		return failf(stderr, "echoserver", exitRemote, "%v", err)
	}
	defer met.stop()
	if met != nil {
		dopts = append(dopts, met.reg.Daemon("echoserver"))
	}
	d, err := pyro.NewDaemon(cfg, dopts...)
	if err != nil {
		return failf(stderr, "echoserver", exitRemote, "%v", err)
	}
	echo := &echoserver.EchoServer{Out: out, SlowDelay: opts.slowDelay}
	echo.SetVerbose(verbose)
	uri, err := d.Register(echo, echoserver.ObjectID)
	if err != nil {
		d.Close()
		return failf(stderr, "echoserver", exitRemote, "%v", err)
	}
	if naming || startNS {
		cleanup, err := echoNameServer(ctx, cfg, host, hostSet, d, startNS, verbose, say, logger, passphrases)
		if err != nil {
			d.Close()
			return failf(stderr, "echoserver", exitRemote, "%v", err)
		}
		defer cleanup()
	} else if verbose {
		say("not using a name server.")
	}
	say("object name: %s", echoserver.ObjectID)
	say("echo uri: %s", uri)
	if met != nil && !quiet {
		met.run(out)
	} else if met != nil {
		met.run(io.Discard)
	}
	say("echoserver running.")

	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	select {
	case <-echo.Done():
	case <-ctx.Done():
		if verbose {
			say("%s - interrupted, shutting down", time.Now().Format(time.ANSIC))
		}
	case err := <-served:
		// the listener failed; Serve never ends otherwise before Shutdown
		d.Close()
		return failf(stderr, "echoserver", exitRemote, "%v", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := d.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "pyro echoserver: warning: calls still running after %v were cut off\n", shutdownTimeout)
	}
	if err := <-served; err != nil && !errors.Is(err, pyro.ErrDaemonClosed) {
		return failf(stderr, "echoserver", exitRemote, "%v", err)
	}
	return exitOK
}
