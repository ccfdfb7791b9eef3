package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"math"
	"os"
	"strings"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/mobile"
	"github.com/pyrogo/pyro/py"
)

const mobileClientHelp = `
URI is the URI of the daemon's mobile code object (PYRO:Pyro.MobileCode@
host:port, as "pyro mobile serve" prints it); the URI of any other object
of the same daemon is taken to mean that daemon's Pyro.MobileCode. A
PYRONAME or PYROMETA URI is looked up in the name server and must name
the mobile code object itself.

The whole command must finish within --timeout seconds (30 by default; 0
= no limit). The configuration is Pyro's defaults with the PYRO_*
environment variables applied; the HMAC key comes from PYRO_HMAC_KEY, or
from -k (not both).

Exit status: 0 on success; 1 when the server refused or raised (printed
as "pyro mobile CMD: <Class>: <message>"); 2 for usage errors and local or
transport errors.`

// mobileClient holds the flags every client subcommand has.
type mobileClient struct {
	cmd       string
	key       string
	timeout   float64
	traceback bool
	tf        *tlsFlags
	sf        *secretFlags
	lf        *logFlags
}

func addMobileClientFlags(fs *flag.FlagSet, cmd string) *mobileClient {
	c := &mobileClient{cmd: cmd}
	fs.StringVar(&c.key, "k", "", keyFlagHelp)
	fs.Float64Var(&c.timeout, "timeout", defaultCallTimeout.Seconds(), "`seconds` the whole command may take (0 = no limit)")
	fs.BoolVar(&c.traceback, "traceback", false, "print the remote traceback of a remote exception")
	c.tf = addTLSFlags(fs, tlsClient)
	c.sf = addSecretFlags(fs, false)
	c.lf = addLogFlags(fs)
	return c
}

// mobileURI is uriText with the object replaced by the mobile code
// object for a PYRO URI.
func mobileURI(uriText string) (string, error) {
	u, err := pyro.ParseURI(uriText)
	if err != nil {
		return "", err
	}
	if u.Protocol == "PYRO" {
		u.Object = mobile.ObjectID
	}
	return u.String(), nil
}

// connect checks the timeout, makes the proxy and the context; call done
// when finished. On failure it returns the exit code after printing why.
func (c *mobileClient) connect(ctx context.Context, fs *flag.FlagSet, uriText string, environ []string, stderr io.Writer) (p *pyro.Proxy, cctx context.Context, done func(), code int) {
	if c.timeout < 0 || math.IsNaN(c.timeout) || math.IsInf(c.timeout, 0) || c.timeout > 1e9 {
		return nil, nil, nil, usageError(fs, "invalid --timeout %v", c.timeout)
	}
	target, err := mobileURI(uriText)
	if err != nil {
		return nil, nil, nil, failf(stderr, c.cmd, exitUsage, "%v", err)
	}
	cfg, passphrases, err := commandConfig(environ, c.key, c.tf, c.sf, stderr)
	if err != nil {
		return nil, nil, nil, failf(stderr, c.cmd, exitUsage, "%v", err)
	}
	logger, closeLog, err := c.lf.logger(cfg, nil, stderr)
	if err != nil {
		return nil, nil, nil, failf(stderr, c.cmd, exitUsage, "%v", err)
	}
	popts := []pyro.ProxyOption{pyro.WithLogger(logger)}
	if passphrases != nil {
		popts = append(popts, pyro.WithIdentification(passphrases[0]))
	}
	cancel := context.CancelFunc(func() {})
	if c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(c.timeout*float64(time.Second)))
	}
	p, err = pyro.NewProxy(target, cfg, popts...)
	if err != nil {
		cancel()
		closeLog()
		return nil, nil, nil, failf(stderr, c.cmd, exitUsage, "%v", err)
	}
	return p, ctx, func() { p.Close(); cancel(); closeLog() }, exitOK
}

// fail reports a failed remote call: exit 1 for an exception the server
// raised, 2 for everything else.
func (c *mobileClient) fail(stderr io.Writer, err error) int {
	return reportRemoteError(stderr, c.cmd, err, c.traceback)
}

const mobileLoadHelp = `
Load sends MODULE (a WebAssembly file) to the daemon's mobile code service
and prints its id (hex SHA-256) when the server's validators accepted it.
With -sig FILE the signature file goes along (made by "pyro mobile sign");
without -sig, MODULE.sig is sent when that file exists. A refusal prints
the server's reason ("SecurityError: mobile: module ... refused: ...").
` + mobileClientHelp

func runMobileLoad(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("mobile load", "mobile load [-sig FILE] [flags] URI MODULE", mobileLoadHelp, stderr)
	sigPath := fs.String("sig", "", "signature `file` to send (default: MODULE.sig if it exists)")
	c := addMobileClientFlags(fs, "mobile load")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 2 {
		return usageError(fs, "need URI and MODULE")
	}
	module, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		return failf(stderr, c.cmd, exitUsage, "%v", err)
	}
	var sig any // None
	path := *sigPath
	if path == "" {
		path = fs.Arg(1) + ".sig"
	}
	text, err := os.ReadFile(path)
	switch {
	case err == nil:
		if _, err := mobile.ParseSignature(text); err != nil {
			return failf(stderr, c.cmd, exitUsage, "%s: %v", path, err)
		}
		sig = strings.TrimSpace(string(text))
	case *sigPath != "" || !errors.Is(err, iofs.ErrNotExist):
		return failf(stderr, c.cmd, exitUsage, "%v", err)
	}
	p, cctx, done, code := c.connect(ctx, fs, fs.Arg(0), environ, stderr)
	if p == nil {
		return code
	}
	defer done()
	res, err := p.Call(cctx, "load", module, sig)
	if err != nil {
		return c.fail(stderr, err)
	}
	id, ok := res.(string)
	if !ok {
		return failf(stderr, c.cmd, exitUsage, "load returned %s, not an id", py.TypeName(res))
	}
	fmt.Fprintln(stdout, id)
	return exitOK
}

const mobileCallHelp = `
Call calls FUNCTION of the loaded module ID and prints the result as a
Python literal (repr). Each ARG is a Python literal, as "pyro call" reads
it: 42, 1.5, 'text' (quoted, and quoted again for the shell), b'bytes',
None, True, [1, (2, 3)], {'a': 1}.
` + mobileClientHelp

func runMobileCall(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("mobile call", "mobile call [flags] URI ID FUNCTION [ARG...]", mobileCallHelp, stderr)
	c := addMobileClientFlags(fs, "mobile call")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() < 3 {
		return usageError(fs, "need URI, ID and FUNCTION")
	}
	callArgs := []any{fs.Arg(1), fs.Arg(2)}
	for i, lit := range fs.Args()[3:] {
		v, err := parseLiteral(lit)
		if err != nil {
			if name, _, _ := strings.Cut(strings.TrimLeft(lit, "-"), "="); strings.HasPrefix(lit, "-") && fs.Lookup(name) != nil {
				return usageError(fs, "flag %s after URI: flags go before URI", lit)
			}
			return failf(stderr, c.cmd, exitUsage, "argument %d (%s): %v", i+1, lit, err)
		}
		callArgs = append(callArgs, v)
	}
	p, cctx, done, code := c.connect(ctx, fs, fs.Arg(0), environ, stderr)
	if p == nil {
		return code
	}
	defer done()
	res, err := p.Call(cctx, "call", callArgs...)
	if err != nil {
		return c.fail(stderr, err)
	}
	fmt.Fprintln(stdout, display(res, p.Protocol()))
	return exitOK
}

const mobileListHelp = `
List prints the modules loaded in the daemon, one line each: the id, the
size, how many clients loaded it (and which, as far as the server shows:
only your own entry), and its callable functions.
` + mobileClientHelp

func runMobileList(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("mobile list", "mobile list [flags] URI", mobileListHelp, stderr)
	c := addMobileClientFlags(fs, "mobile list")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "need URI")
	}
	p, cctx, done, code := c.connect(ctx, fs, fs.Arg(0), environ, stderr)
	if p == nil {
		return code
	}
	defer done()
	res, err := p.Call(cctx, "modules")
	if err != nil {
		return c.fail(stderr, err)
	}
	list, ok := res.([]any)
	if !ok {
		return failf(stderr, c.cmd, exitUsage, "modules returned %s, not a list", py.TypeName(res))
	}
	for _, m := range list {
		d, ok := m.(*py.Dict)
		if !ok {
			return failf(stderr, c.cmd, exitUsage, "modules returned an entry of type %s", py.TypeName(m))
		}
		get := func(k string) any { v, _ := d.Get(k); return v }
		fmt.Fprintf(stdout, "%v  %v bytes  loaders %v %s  functions %s\n", get("id"), get("size"), get("loaders"),
			display(get("loaded_by"), p.Protocol()), display(get("functions"), p.Protocol()))
	}
	return exitOK
}

const mobileUnloadHelp = `
Unload removes your load of module ID; the module goes when its last
loader unloads it. A client may only unload its own load.
` + mobileClientHelp

func runMobileUnload(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("mobile unload", "mobile unload [flags] URI ID", mobileUnloadHelp, stderr)
	c := addMobileClientFlags(fs, "mobile unload")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 2 {
		return usageError(fs, "need URI and ID")
	}
	p, cctx, done, code := c.connect(ctx, fs, fs.Arg(0), environ, stderr)
	if p == nil {
		return code
	}
	defer done()
	if _, err := p.Call(cctx, "unload", fs.Arg(1)); err != nil {
		return c.fail(stderr, err)
	}
	return exitOK
}
