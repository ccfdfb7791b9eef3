package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/pyrogo/pyro"
)

// Exit codes.
const (
	exitOK     = 0
	exitRemote = 1 // the remote side raised an exception, or a server failed
	exitUsage  = 2 // bad usage, bad configuration, local or transport error
)

// runFunc is the signature of every subcommand: it gets its arguments
// (without the subcommand name), its output streams and the environment
// ("KEY=value" strings, as os.Environ returns), and returns the exit code.
// ctx is cancelled by SIGINT/SIGTERM.
type runFunc func(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int

// command is one entry of the dispatch table.
type command struct {
	name    string
	summary string
	run     runFunc
}

// commands is the dispatch table, in the order usage lists them. Add new
// subcommands here.
var commands []command

func init() {
	commands = []command{
		{"call", "call a method of a remote object and print the result", runCall},
		{"certs", "create a development CA, server and client certificate", runCerts},
		{"config", "print the configuration and where each value comes from", runConfig},
		{"echoserver", "run the test echo server (like pyro4-test-echoserver)", runEchoserver},
		{"es", "run an event server (like Pyro3's pyro-es)", runES},
		{"genkey", "print a random 32-byte HMAC key", runGenkey},
		{"httpgateway", "run the HTTP/JSON gateway and web console (like pyro4-httpgateway)", runHTTPGateway},
		{"mobile", "mobile code: keys, signing, a server that runs it, client calls", runMobile},
		{"ns", "run a name server (like pyro4-ns)", runNS},
		{"nsc", "control a name server (like pyro4-nsc)", runNSC},
		{"version", "print the versions of pyrogo, Go and the Pyro protocol", runVersion},
	}
}

func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, `pyro is the pyrogo tool: Pyro4-compatible servers and clients (wire protocol 48).

Usage:

	pyro <command> [arguments]

The commands are:

`)
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Use "pyro help <command>" or "pyro <command> -h" for more about a command.
`)
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-version", "--version":
		return runVersion(ctx, rest, stdout, stderr, environ)
	case "help", "-h", "-help", "--help":
		if name == "help" && len(rest) > 0 {
			c := lookupCommand(rest[0])
			if c == nil {
				fmt.Fprintf(stderr, "pyro help %s: unknown command\n", rest[0])
				return exitUsage
			}
			return c.run(ctx, []string{"-h"}, stdout, stdout, environ)
		}
		usage(stdout)
		return exitOK
	}
	c := lookupCommand(name)
	if c == nil {
		fmt.Fprintf(stderr, "pyro %s: unknown command\n\n", name)
		usage(stderr)
		return exitUsage
	}
	return c.run(ctx, rest, stdout, stderr, environ)
}

// newFlagSet makes a subcommand's flag set; synopsis follows "pyro " in
// the usage line and help is printed under it.
func newFlagSet(name, synopsis, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pyro "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: pyro %s\n\n%s\n", synopsis, strings.TrimSpace(help))
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; done reports that the command must return
// code at once: after -h (the whole help is printed) or a bad flag (a
// short error and the usage line, not the whole help).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	full, out := fs.Usage, fs.Output()
	// the flag package prints the error and calls Usage for -h and for
	// errors alike: quiet it, and say what is needed below
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = full
	fs.SetOutput(out)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		full()
		return exitOK, true
	}
	return usageError(fs, "%v", err), true
}

// usageError reports a usage error: the error, the usage line and where
// the full help is.
func usageError(fs *flag.FlagSet, format string, args ...any) int {
	w := fs.Output()
	var help strings.Builder
	fs.SetOutput(&help)
	fs.Usage()
	fs.SetOutput(w)
	synopsis, _, _ := strings.Cut(help.String(), "\n")
	fmt.Fprintf(w, "%s: %s\n%s\nRun '%s -h' for help.\n", fs.Name(), fmt.Sprintf(format, args...), synopsis, fs.Name())
	return exitUsage
}

// failf reports a failure of a command as every command does, "pyro
// <command>: <message>" on stderr, and returns code.
func failf(stderr io.Writer, command string, code int, format string, args ...any) int {
	fmt.Fprintf(stderr, "pyro %s: %s\n", command, fmt.Sprintf(format, args...))
	return code
}

// getenv returns the value of key in environ; the last assignment wins,
// as in Config.ApplyEnv.
func getenv(environ []string, key string) (string, bool) {
	var val string
	var found bool
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, found = v, true
		}
	}
	return val, found
}

// loadConfig returns Pyro's built-in config with the PYRO_* variables of
// environ applied (pyro.DefaultConfig for a given environment).
func loadConfig(environ []string) (*pyro.Config, error) {
	cfg := pyro.BuiltinConfig()
	if err := cfg.ApplyEnv(environ); err != nil {
		return nil, err
	}
	return cfg, nil
}

const keyFlagHelp = "the HMAC `key` to use (visible to other local users in the process list: prefer PYRO_HMAC_KEY)"

// applyKeyFlag implements the rule of Pyro's tools for the HMAC key: it
// comes from PYRO_HMAC_KEY (already in cfg) or from -k, not both. A key
// on the command line gets a warning, because every local user can read
// it in the process list.
func applyKeyFlag(cfg *pyro.Config, key string, environ []string, stderr io.Writer) error {
	if key == "" {
		return nil
	}
	if _, ok := getenv(environ, "PYRO_HMAC_KEY"); ok {
		return errors.New("don't use -k and PYRO_HMAC_KEY at the same time")
	}
	fmt.Fprintln(stderr, "Warning: the HMAC key given with -k is visible to other local users in the process list; set PYRO_HMAC_KEY instead.")
	return cfg.Set("HMAC_KEY", key)
}

// syncWriter serializes writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
