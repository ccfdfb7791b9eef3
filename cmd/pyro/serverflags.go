package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"

	"github.com/pyrogo/pyro"
)

// serverFlags are the flags the server commands (pyro ns, pyro es) share,
// and the setup they share: the config from the environment and the
// key/TLS/passphrase flags, NAT, and the logger.
type serverFlags struct {
	cmd                                                 string
	host, unixSocket, storage, natHost, key, policyFile string
	metrics                                             string // --metrics ADDR
	port, natPort                                       int
	verbose                                             bool

	tf  *tlsFlags
	sf  *secretFlags
	lf  *logFlags
	set map[string]bool // the flags given, after parse
}

// serverHelp holds the texts of the shared flags that differ by command.
type serverHelp struct {
	port, storage, policy, verbose string
}

// addServerFlags defines the shared flags on fs.
func addServerFlags(fs *flag.FlagSet, cmd string, help serverHelp, role tlsRole) *serverFlags {
	f := &serverFlags{cmd: cmd}
	for _, n := range []string{"n", "host"} {
		fs.StringVar(&f.host, n, "", "`host` name or address to bind the server on (default: config HOST, localhost; 0.0.0.0 or \"\" = all IPv4 interfaces)")
	}
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&f.port, n, 0, help.port)
	}
	for _, n := range []string{"u", "unixsocket"} {
		fs.StringVar(&f.unixSocket, n, "", "unix domain socket `name` to bind the server on")
	}
	for _, n := range []string{"s", "storage"} {
		fs.StringVar(&f.storage, n, "memory", help.storage)
	}
	for _, n := range []string{"k", "key"} {
		fs.StringVar(&f.key, n, "", keyFlagHelp)
	}
	fs.StringVar(&f.policyFile, "policy", "", help.policy)
	fs.StringVar(&f.natHost, "nathost", "", "external `host` name in case of NAT")
	fs.IntVar(&f.natPort, "natport", 0, "external `port` in case of NAT")
	fs.BoolVar(&f.verbose, "v", false, help.verbose)
	addMetricsFlag(fs, &f.metrics)
	f.tf = addTLSFlags(fs, role)
	f.sf = addSecretFlags(fs, true)
	f.lf = addLogFlags(fs)
	return f
}

// parsed records which flags fs was given.
func (f *serverFlags) parsed(fs *flag.FlagSet) {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
}

// given reports whether any of the names was given.
func (f *serverFlags) given(names ...string) bool {
	for _, n := range names {
		if f.set[n] {
			return true
		}
	}
	return false
}

// setup returns the config (with NAT), the passphrases and the logger
// (closeLog ends it); on failure, the exit code after printing why.
func (f *serverFlags) setup(environ []string, stderr io.Writer) (cfg *pyro.Config, passphrases []string, logger *slog.Logger, closeLog func(), code int) {
	cfg, passphrases, err := commandConfig(environ, f.key, f.tf, f.sf, stderr)
	if err != nil {
		return nil, nil, nil, nil, failf(stderr, f.cmd, exitUsage, "%v", err)
	}
	if f.natHost != "" {
		cfg.NATHost = f.natHost
	}
	if f.set["natport"] {
		cfg.NATPort = f.natPort
	}
	var verboseLevel *slog.Level
	if f.verbose {
		verboseLevel = new(slog.LevelDebug)
	}
	logger, closeLog, err = f.lf.logger(cfg, verboseLevel, stderr)
	if err != nil {
		return nil, nil, nil, nil, failf(stderr, f.cmd, exitUsage, "%v", err)
	}
	return cfg, passphrases, logger, closeLog, exitOK
}

// loadPolicy reads the --policy file with load, if one was given; a bad
// file is a usage error.
func loadPolicy[P any](f *serverFlags, stderr io.Writer, load func(path string) (P, error)) (p P, code int) {
	if f.policyFile == "" {
		return p, exitOK
	}
	p, err := load(f.policyFile)
	if err != nil {
		return p, failf(stderr, f.cmd, exitUsage, "%v", err)
	}
	return p, exitOK
}

// openStorage opens the -s storage with open: a spec open cannot use at
// all (errors.Is specErr) is a usage error, a storage that fails to open
// a runtime one.
func openStorage[S any](f *serverFlags, stderr io.Writer, open func(spec string) (S, error), specErr error) (s S, code int) {
	s, err := open(f.storage)
	if err != nil {
		failf(stderr, f.cmd, 0, "%v", err)
		if errors.Is(err, specErr) {
			return s, exitUsage
		}
		return s, exitRemote
	}
	return s, exitOK
}
