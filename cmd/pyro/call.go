package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/serpent"
)

const callHelp = `
Call calls METHOD of the remote object at URI and prints the result as a
Python literal (repr). Each ARG, and the value of each --kw name=LITERAL,
is a Python literal as serpent and ast.literal_eval read it: 42, 1.5,
'text' (quote strings, and quote them again for the shell: "'text'"),
b'bytes', None, True, [1, (2, 3)], {'a': 1}. A method that returns an
iterator prints one item per line; a remote attribute is read by giving
its name as METHOD.

The whole call (locating a name server, connecting, the call, every item
of a stream) must finish within --timeout seconds, 30 by default, so that
a server that accepts connections and never answers cannot hang a script;
--timeout 0 waits without limit.

Exit status: 0 on success; 1 when the remote method raised an exception,
printed as "pyro call: <Class>: <message>" on stderr; 2 for usage errors
and local or transport errors, a timeout included ("pyro call: <text>").

The server may speak Pyro4's protocol (48) or Pyro5's (502): --protocol
(or PYRO_PROTOCOL) 4 or 5 fixes it; auto, the default, sends the CONNECT in
48 and, when a Pyro5 server refuses it, connects again in 502.

The configuration is Pyro's defaults with the PYRO_* environment variables
applied (see "pyro config"). The HMAC key comes from PYRO_HMAC_KEY, or
from -k (not both).`

// defaultCallTimeout bounds a whole call when --timeout is not given.
var defaultCallTimeout = 30 * time.Second

// kwFlag collects repeated --kw name=LITERAL flags.
type kwFlag struct {
	names []string
	lits  map[string]string
}

func (k *kwFlag) String() string { return "" }

func (k *kwFlag) Set(s string) error {
	name, lit, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want name=LITERAL")
	}
	if _, dup := k.lits[name]; dup {
		return fmt.Errorf("keyword argument %s repeated", name)
	}
	if k.lits == nil {
		k.lits = map[string]string{}
	}
	k.names = append(k.names, name)
	k.lits[name] = lit
	return nil
}

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("call", "call [-k key] [--serializer NAME] [--protocol 4|5|auto] [--kw name=LITERAL]... [--timeout SECONDS] [--traceback] URI METHOD [ARG...]",
		callHelp, stderr)
	var (
		key, serializer string
		protocol        string
		kw              kwFlag
		timeout         float64
		traceback       bool
	)
	fs.StringVar(&key, "k", "", keyFlagHelp)
	fs.StringVar(&serializer, "serializer", "", "serializer `name`: serpent, json, marshal or msgpack (default: config SERIALIZER)")
	fs.StringVar(&protocol, "protocol", "", "wire `protocol`: 4 (Pyro4's 48), 5 (Pyro5's 502) or auto, detected per server (default: config PROTOCOL)")
	fs.Var(&kw, "kw", "keyword argument `name=LITERAL` (repeatable)")
	fs.Float64Var(&timeout, "timeout", defaultCallTimeout.Seconds(), "`seconds` the whole call may take (0 = no limit; COMMTIMEOUT also bounds each network operation)")
	fs.BoolVar(&traceback, "traceback", false, "print the remote traceback of a remote exception")
	tf := addTLSFlags(fs, tlsClient)
	sf := addSecretFlags(fs, false)
	lf := addLogFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() < 2 {
		return usageError(fs, "need URI and METHOD")
	}
	if timeout < 0 || math.IsNaN(timeout) || math.IsInf(timeout, 0) || timeout > 1e9 {
		return usageError(fs, "invalid --timeout %v", timeout)
	}
	uriText, method := fs.Arg(0), fs.Arg(1)
	if method == "" {
		return usageError(fs, "empty METHOD")
	}
	if serializer != "" {
		if _, err := codec.ForName(serializer, codec.Options{}); err != nil {
			return usageError(fs, "--serializer: %v", err)
		}
	}

	switch protocol {
	case "", pyro.Protocol4, pyro.Protocol5, pyro.ProtocolAuto:
	default:
		return usageError(fs, "--protocol %s: must be 4, 5 or auto", protocol)
	}

	callArgs := make([]any, 0, fs.NArg()-2)
	for i, lit := range fs.Args()[2:] {
		v, err := parseLiteral(lit)
		if err != nil {
			if name, _, _ := strings.Cut(strings.TrimLeft(lit, "-"), "="); strings.HasPrefix(lit, "-") && fs.Lookup(name) != nil {
				return usageError(fs, "flag %s after URI: flags go before URI", lit)
			}
			return failf(stderr, "call", exitUsage, "argument %d (%s): %v", i+1, lit, err)
		}
		callArgs = append(callArgs, v)
	}
	var kwargs map[string]any
	for _, name := range kw.names {
		v, err := parseLiteral(kw.lits[name])
		if err != nil {
			return failf(stderr, "call", exitUsage, "keyword argument %s (%s): %v", name, kw.lits[name], err)
		}
		if kwargs == nil {
			kwargs = map[string]any{}
		}
		kwargs[name] = v
	}

	cfg, passphrases, err := commandConfig(environ, key, tf, sf, stderr)
	if err != nil {
		return failf(stderr, "call", exitUsage, "%v", err)
	}
	logger, closeLog, err := lf.logger(cfg, nil, stderr)
	if err != nil {
		return failf(stderr, "call", exitUsage, "%v", err)
	}
	defer closeLog()
	popts := []pyro.ProxyOption{pyro.WithLogger(logger)}
	if passphrases != nil {
		popts = append(popts, pyro.WithIdentification(passphrases[0]))
	}
	if serializer != "" {
		popts = append(popts, pyro.WithSerializer(serializer))
	}
	if protocol != "" {
		popts = append(popts, pyro.WithProtocol(protocol))
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeout*float64(time.Second)))
		defer cancel()
	}
	p, err := pyro.NewProxy(uriText, cfg, popts...)
	if err != nil {
		return failf(stderr, "call", exitUsage, "%v", err)
	}
	defer p.Close()

	result, err := p.CallKw(ctx, method, callArgs, kwargs)
	if err != nil {
		return reportCallError(stderr, err, traceback)
	}
	if s, ok := result.(*pyro.Stream); ok {
		for item, err := range s.All(ctx) {
			if err != nil {
				return reportCallError(stderr, err, traceback)
			}
			fmt.Fprintln(stdout, display(item, p.Protocol()))
		}
		return exitOK
	}
	fmt.Fprintln(stdout, display(result, p.Protocol()))
	return exitOK
}

// parseLiteral reads one Python literal.
func parseLiteral(lit string) (any, error) {
	v, err := serpent.Unmarshal([]byte(lit))
	if err != nil {
		if !strings.ContainsAny(lit, `'"()[]{}`) && strings.Contains(err.Error(), "not allowed") {
			return nil, fmt.Errorf("%w (a string needs quotes, e.g. '%s')", err, lit)
		}
		return nil, err
	}
	return v, nil
}

// reportCallError prints a failed call and returns the exit code: 1 for
// an exception raised by the remote method, 2 for everything else.
func reportCallError(stderr io.Writer, err error, traceback bool) int {
	return reportRemoteError(stderr, "call", err, traceback)
}

// reportRemoteError is reportCallError for the command cmd.
func reportRemoteError(stderr io.Writer, cmd string, err error, traceback bool) int {
	var re *pyro.RemoteError
	if errors.As(err, &re) {
		if traceback {
			for _, line := range re.Traceback() {
				fmt.Fprint(stderr, line)
			}
		}
		return failf(stderr, cmd, exitRemote, "%s", re.Exception.Error())
	}
	return failf(stderr, cmd, exitUsage, "%v", err)
}

// display formats a result: py.Repr, with proxies (autoproxied objects)
// shown the way Python shows them, with the proxy class of the
// generation of Pyro whose protocol (48 or 502) the call spoke.
func display(v any, protocol int) string {
	switch x := v.(type) {
	case *pyro.Proxy:
		class := "Pyro4.core.Proxy"
		if protocol == 502 {
			class = "Pyro5.client.Proxy"
		}
		return "<" + class + " for " + x.URI().String() + ">"
	case []any:
		if !hasProxy(x) {
			break
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = display(e, protocol)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return py.Repr(v)
}

func hasProxy(list []any) bool {
	for _, e := range list {
		switch x := e.(type) {
		case *pyro.Proxy:
			return true
		case []any:
			if hasProxy(x) {
				return true
			}
		}
	}
	return false
}
