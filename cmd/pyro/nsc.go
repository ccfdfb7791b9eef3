package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/naming"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

const nscHelp = `
Nsc controls a name server (Go or Python), the Go twin of pyro4-nsc
(python -m Pyro4.nsc) and of Pyro5's nsc (python -m Pyro5.nsc), with
their commands and their output (metadata is printed as the name server
sends it: a list from a Pyro4 name server, a set from Pyro5's):

  ping                    check that the name server answers
  list [prefix]           list registrations (names starting with prefix)
  listmatching pattern    list names matching a Python regular expression
  listmeta_all tag...     list registrations having all the tags
  listmeta_any tag...     list registrations having any of the tags
  yplookup_all tag...     the same with Pyro5's yplookup (Pyro5 and Go name servers)
  yplookup_any tag...     the same with Pyro5's yplookup (Pyro5 and Go name servers)
  lookup name             print the URI (and metadata) of a name
  register name uri       register a name (refused if it exists)
  remove name             remove a name
  removematching pattern  remove names matching a pattern (asks y/n)
  setmeta name [tag...]   replace (or clear) the metadata of a name

The name server is located as pyro4-nsc does: at -n host (or -u socket);
otherwise on NS_HOST if that is localhost, then by UDP broadcast (-p is
then also the broadcast port), then on NS_HOST:NS_PORT. -n and NS_HOST
(PYRO_NS_HOST) may also list several name servers, tried in order and
the first that answers used: -n host1,host2:9095,[::1]:9090 (-p is the
port of items without one; an NS_HOST list is followed by broadcast
discovery). When the name server is lost during a command that changes
nothing (ping, list..., lookup, yplookup...), that command is asked once
of another name server (the next of the list, or one found by
broadcast); register, remove, removematching and setmeta are not
repeated, since the lost name server may have done them.

Like pyro4-nsc, a failed command prints "Error: <class> - <message>" and
the exit status is still 0; a missing command argument exits with 1 and a
usage error with 2. With --strict, a failed command (the name server not
found, or an error from it) exits with 1, for scripts (as Pyro5's nsc
exits after an error). The HMAC key comes from PYRO_HMAC_KEY, or from -k
(not both). Options may also follow the command, as with pyro4-nsc.

The name server may speak Pyro4's protocol (48) or Pyro5's (502):
--protocol (or PYRO_PROTOCOL) 4 or 5 fixes it; auto, the default, detects
it as pyro call does. Against a name server spoken to in 502 (Pyro5's
has no metadata filters in list), listmeta_all and listmeta_any search
with yplookup, which answers the same registrations.`

// nscReadOnly are the commands that change nothing on the name server:
// asked again of another name server when the first one is lost during
// the command (IsLost). They print only after the answer came.
var nscReadOnly = []string{"ping", "list", "listmatching", "lookup", "listmeta_all", "listmeta_any", "yplookup_all", "yplookup_any"}

var nscCommands = []string{"register", "remove", "removematching", "list", "listmatching", "lookup",
	"listmeta_all", "listmeta_any", "yplookup_all", "yplookup_any", "setmeta", "ping"}

func runNSC(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	return nscMain(ctx, args, os.Stdin, stdout, stderr, environ)
}

// nscExit is a command's SystemExit: a message for stderr and status 1.
type nscExit string

func (e nscExit) Error() string { return string(e) }

func nscMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("nsc", "nsc [-n host] [-p port] [-u unixsocket] [-k key] [--protocol 4|5|auto] [-v] command [args]", nscHelp, stderr)
	var (
		host, unixSocket, key string
		port                  int
		verbose, strict       bool
		protocol              string
	)
	for _, n := range []string{"n", "host"} {
		fs.StringVar(&host, n, "", "`host` name of the name server, or a list: host1,host2:9095,[::1]:9090")
	}
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&port, n, 0, "`port` of the name server (or the broadcast port if no host is given)")
	}
	for _, n := range []string{"u", "unixsocket"} {
		fs.StringVar(&unixSocket, n, "", "unix domain socket `name` of the name server")
	}
	for _, n := range []string{"k", "key"} {
		fs.StringVar(&key, n, "", keyFlagHelp)
	}
	for _, n := range []string{"v", "verbose"} {
		fs.BoolVar(&verbose, n, false, "verbose output")
	}
	fs.StringVar(&protocol, "protocol", "", "wire `protocol` to the name server: 4 (Pyro4's 48), 5 (Pyro5's 502) or auto, detected per server (default: config PROTOCOL)")
	fs.BoolVar(&strict, "strict", false, "exit with status 1 when the command fails (pyro4-nsc exits with 0)")
	tf := addTLSFlags(fs, tlsClient)
	sf := addSecretFlags(fs, false)
	lf := addLogFlags(fs)
	// options may be interspersed with the command and its arguments
	var pos []string
	for rest := args; len(rest) > 0; {
		if code, done := parseFlags(fs, rest); done {
			return code
		}
		left := fs.Args()
		if consumed := len(rest) - len(left); consumed > 0 && rest[consumed-1] == "--" {
			pos = append(pos, left...)
			break
		}
		if len(left) == 0 {
			break
		}
		pos = append(pos, left[0])
		rest = left[1:]
	}
	if len(pos) == 0 || !slices.Contains(nscCommands, pos[0]) {
		return usageError(fs, "invalid or missing command")
	}
	switch protocol {
	case "", pyro.Protocol4, pyro.Protocol5, pyro.ProtocolAuto:
	default:
		return usageError(fs, "--protocol %s: must be 4, 5 or auto", protocol)
	}
	cfg, passphrases, err := commandConfig(environ, key, tf, sf, stderr)
	if err != nil {
		return failf(stderr, "nsc", exitUsage, "%v", err)
	}
	logger, closeLog, err := lf.logger(cfg, nil, stderr)
	if err != nil {
		return failf(stderr, "nsc", exitUsage, "%v", err)
	}
	defer closeLog()
	failed := exitOK // pyro4-nsc's exit status after a failed command
	if strict {
		failed = exitRemote
	}
	lopts := []naming.LocateOption{naming.WithConfig(cfg), naming.WithProxyOptions(pyro.WithLogger(logger))}
	if passphrases != nil {
		lopts = append(lopts, naming.WithProxyOptions(pyro.WithIdentification(passphrases[0])))
	}
	if protocol != "" {
		lopts = append(lopts, naming.WithProxyOptions(pyro.WithProtocol(protocol)))
	}
	if verbose {
		fmt.Fprintln(stdout, "Locating name server...")
	}
	if unixSocket != "" {
		host = "./u:" + unixSocket
	}
	lopts = append(lopts, naming.WithNSHost(host), naming.WithNSPort(port))
	ns, err := naming.Locate(ctx, lopts...)
	if err != nil {
		fmt.Fprintf(stdout, "Error: %s\n", termSafeText(errMessage(err)))
		if cause := errors.Unwrap(err); cause != nil {
			// Pyro's nsc prints only the message; the cause (such as the
			// protocol a name server speaks) goes to stderr
			fmt.Fprintf(stderr, "pyro nsc: %s\n", termSafeText(cause.Error()))
		}
		return failed
	}
	defer func() { ns.Close() }()
	if verbose {
		fmt.Fprintf(stdout, "Name server found: %s\n", termSafe(ns.URI().String()))
	}
	code := exitOK
	err = nscCommand(ctx, ns, pos, stdin, stdout)
	if err != nil && ctx.Err() == nil && naming.IsLost(err) {
		if !slices.Contains(nscReadOnly, pos[0]) {
			fmt.Fprintf(stderr, "pyro nsc: lost the name server %s during %s; not repeated elsewhere, since it may have been done\n",
				termSafe(ns.URI().String()), pos[0])
		} else if other, lerr := naming.Locate(ctx, append(lopts, naming.WithoutNS(ns.URI()))...); lerr != nil {
			fmt.Fprintf(stderr, "pyro nsc: lost the name server %s and found no other: %s\n", termSafe(ns.URI().String()), termSafeText(lerr.Error()))
		} else {
			// a command that changes nothing is asked once of another one
			fmt.Fprintf(stderr, "pyro nsc: lost the name server %s; asking %s\n", termSafe(ns.URI().String()), termSafe(other.URI().String()))
			ns.Close()
			ns = other
			if verbose {
				fmt.Fprintf(stdout, "Name server found: %s\n", termSafe(ns.URI().String()))
			}
			err = nscCommand(ctx, ns, pos, stdin, stdout)
		}
	}
	var exit nscExit
	switch {
	case errors.As(err, &exit):
		fmt.Fprintln(stderr, string(exit))
		return exitRemote
	case err != nil:
		fmt.Fprintf(stdout, "Error: %s - %s\n", termSafeText(errClass(err)), termSafeText(errMessage(err)))
		code = failed
	}
	if verbose {
		fmt.Fprintln(stdout, "Done.")
	}
	return code
}

// errClass is the Python class name pyro4-nsc would print for err.
func errClass(err error) string {
	var re *pyro.RemoteError
	var pe *pyro.Error
	switch {
	case errors.As(err, &re):
		return re.Exception.ShortClass()
	case errors.As(err, &pe):
		return pe.Class.Name()
	case errors.Is(err, errEOF):
		return "EOFError"
	}
	return "PyroError"
}

// errMessage is str(exception).
func errMessage(err error) string {
	var re *pyro.RemoteError
	if errors.As(err, &re) {
		return re.Message()
	}
	return err.Error()
}

var errEOF = errors.New("EOF when reading a line")

// nscCommand runs one command (args[0]) against the name server.
func nscCommand(ctx context.Context, ns *pyro.Proxy, args []string, stdin io.Reader, stdout io.Writer) error {
	printList := func(v any, title string) error {
		regs, err := naming.ParseList(v)
		if err != nil {
			return err
		}
		slices.SortFunc(regs, func(a, b naming.Registration) int { return strings.Compare(a.Name, b.Name) })
		var b strings.Builder
		fmt.Fprintf(&b, "--------START LIST %s\n", title)
		for _, r := range regs {
			fmt.Fprintf(&b, "%s --> %s\n", termSafe(r.Name), termSafe(r.URI))
			if len(r.Metadata) > 0 {
				raw, _ := v.(*py.Dict).GetString(r.Name)
				fmt.Fprintf(&b, "    metadata: %s\n", metaRepr(secondOf(raw), r.Metadata))
			}
		}
		fmt.Fprintf(&b, "--------END LIST %s\n", title)
		_, err = io.WriteString(stdout, b.String())
		return err
	}
	list := func(kw map[string]any, title string) error {
		kw["return_metadata"] = true
		v, err := ns.CallKw(ctx, "list", nil, kw)
		if err != nil {
			return err
		}
		return printList(v, title)
	}
	tags := func(ss []string) *py.Set {
		s := py.NewSet(len(ss), false)
		for _, t := range ss {
			_ = s.Add(t)
		}
		return s
	}
	switch args[0] {
	case "ping":
		if _, err := ns.Call(ctx, "ping"); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Name server ping ok.")
	case "list":
		if len(args) == 1 {
			return list(map[string]any{}, "")
		}
		return list(map[string]any{"prefix": args[1]}, fmt.Sprintf("- prefix '%s'", args[1]))
	case "listmatching":
		if len(args) != 2 {
			return nscExit("requires one argument: pattern")
		}
		return list(map[string]any{"regex": args[1]}, fmt.Sprintf("- regex '%s'", args[1]))
	case "listmeta_all", "listmeta_any":
		if len(args) < 2 {
			return nscExit("requires at least one metadata tag argument")
		}
		if ns.Protocol() == int(wire.Protocol502) {
			// Pyro5's list has no metadata filters: its yplookup selects the same
			key := strings.Replace(args[0], "listmeta", "meta", 1)
			v, err := ns.CallKw(ctx, "yplookup", nil, map[string]any{key: tags(args[1:]), "return_metadata": true})
			if err != nil {
				return err
			}
			return printList(v, " - searched by metadata")
		}
		key := strings.Replace(args[0], "listmeta", "metadata", 1)
		return list(map[string]any{key: tags(args[1:])}, " - searched by metadata")
	case "yplookup_all", "yplookup_any":
		if len(args) < 2 {
			return nscExit("requires at least one metadata tag argument")
		}
		key := strings.Replace(args[0], "yplookup", "meta", 1)
		l := make([]any, len(args)-1) // Pyro5's nsc sends its argument list
		for i, a := range args[1:] {
			l[i] = a
		}
		v, err := ns.CallKw(ctx, "yplookup", nil, map[string]any{key: l, "return_metadata": true})
		if err != nil {
			return err
		}
		return printList(v, " - searched by metadata")
	case "lookup":
		if len(args) != 2 {
			return nscExit("requires one argument: name")
		}
		v, err := ns.CallKw(ctx, "lookup", []any{args[1]}, map[string]any{"return_metadata": true})
		if err != nil {
			return err
		}
		u, meta, err := naming.ParseLookup(v)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, termSafe(u.String()))
		if len(meta) > 0 {
			fmt.Fprintf(stdout, "metadata: %s\n", metaRepr(secondOf(v), meta))
		}
	case "register":
		if len(args) != 3 {
			return nscExit("requires two arguments: name uri")
		}
		if _, err := ns.CallKw(ctx, "register", []any{args[1], args[2]}, map[string]any{"safe": true}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Registered %s\n", args[1])
	case "remove":
		if len(args) != 2 {
			return nscExit("requires one argument: name")
		}
		n, err := pyro.CallT[int](ctx, ns, "remove", args[1])
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprintf(stdout, "Removed %s\n", args[1])
		} else {
			fmt.Fprintln(stdout, "Nothing removed")
		}
	case "removematching":
		if len(args) != 2 {
			return nscExit("requires one argument: pattern")
		}
		fmt.Fprint(stdout, "Potentially removing lots of items from the Name server. Are you sure (y/n)?")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errEOF
		}
		if sure := strings.TrimSpace(line); sure == "y" || sure == "Y" {
			v, err := ns.CallKw(ctx, "remove", nil, map[string]any{"regex": args[1]})
			if err != nil {
				return err
			}
			var n int
			if err := py.Convert(&n, v); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%d items removed.\n", n)
		}
	case "setmeta":
		if len(args) < 2 {
			return nscExit("requires at least 2 arguments: uri and zero or more meta tags")
		}
		if _, err := ns.Call(ctx, "set_metadata", args[1], tags(args[2:])); err != nil {
			return err
		}
		if len(args) > 2 {
			fmt.Fprintln(stdout, "Metadata updated")
		} else {
			fmt.Fprintln(stdout, "Metadata cleared")
		}
	}
	return nil
}

// secondOf is the second item of a (uri, metadata) pair, or nil.
func secondOf(v any) any {
	switch x := v.(type) {
	case py.Tuple:
		if len(x) == 2 {
			return x[1]
		}
	case []any:
		if len(x) == 2 {
			return x[1]
		}
	}
	return nil
}

// metaRepr prints the tags as Python's nsc prints the metadata it got: as
// a set when the name server sent a set (Pyro5), else as a list (Pyro4
// sends lists). Only the tags' text is printed, through Python's repr of
// str, so nothing the name server sent reaches the terminal unquoted.
func metaRepr(raw any, tags []string) string {
	if s, ok := raw.(*py.Set); ok {
		out := py.NewSet(len(tags), s.Frozen)
		for _, t := range tags {
			_ = out.Add(t)
		}
		return py.Repr(out)
	}
	return listRepr(tags)
}

// listRepr prints strings as Python prints a list of str.
func listRepr(ss []string) string {
	l := make([]any, len(ss))
	for i, s := range ss {
		l[i] = s
	}
	return py.Repr(l)
}

// termSafe returns a name or URI that the name server sent as it is when
// it is plain printable text, or else as Python's repr() of it, so that it
// cannot forge output lines (newlines, carriage returns) or send terminal
// escape sequences. Printable means Python's str.isprintable() (no
// control characters, line or paragraph separators, or invisible format
// characters such as bidirectional overrides) and valid UTF-8, and here
// also no backslash, which every escaping repr() contains: a quoted form
// always stands for an escaped string, never for a name that merely looks
// like one. Ordinary names print exactly as pyro4-nsc prints them.
func termSafe(s string) string { return quoteUnprintable(s, true) }

// termSafeText is termSafe for message text, where a backslash (as in a
// regex error quoting the pattern) is printed as it is, as pyro4-nsc does.
func termSafeText(s string) string { return quoteUnprintable(s, false) }

func quoteUnprintable(s string, backslash bool) string {
	for i, r := range s {
		if backslash && r == '\\' || !py.IsPrintable(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return py.QuoteString(s)
		}
	}
	return s
}
