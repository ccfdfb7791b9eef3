package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/pyrogo/pyro/wire"
)

const configHelp = `
Config prints every configuration item, its value and where the value
comes from: "builtin" (Pyro's default), "environment" (a PYRO_<ITEM>
variable) or "code". Items are sorted by name, like pyro4-check-config
prints them. Secrets (the HMAC key, key passwords) are never printed: a
set secret shows as <set>. An invalid PYRO_* value is an error (exit 2),
as it is for every pyro command. Times are in seconds, printed as Pyro
prints them (COMMTIMEOUT = 0.0, POLLTIMEOUT = 2.0).

Only the items pyrogo gives a meaning are listed; the PYRO_ variables of
Pyro4's other items are ignored: SERVERTYPE, THREADPOOL_SIZE and
THREADPOOL_SIZE_MIN (servers run a goroutine per connection, bounded by
MAXCONNECTIONS and CONNECTION_CAP), REQUIRE_EXPOSE (only exported Go
methods are ever exposed), SOCK_NODELAY (always on), FLAME_ENABLED,
PICKLE_PROTOCOL_VERSION, DILL_PROTOCOL_VERSION, JSON_MODULE and
USE_MSG_WAITALL.

pyrogo's memory limits differ from Pyro4's defaults: MAX_MESSAGE_SIZE is
67108864 (64 MiB; Pyro4: 0, unlimited), MEMORY_BUDGET 268435456 (256 MiB
that a server holds for all its clients' messages) and WRITE_TIMEOUT 30.0
(seconds a reply may wait for its client to read, even with COMMTIMEOUT
0). Change them with PYRO_MAX_MESSAGE_SIZE, PYRO_MEMORY_BUDGET and
PYRO_WRITE_TIMEOUT; SECURITY.md, "Message size and memory", explains them.`

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("config", "config", configHelp, stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	cfg, err := loadConfig(environ)
	if err != nil {
		failf(stderr, "config", 0, "%v", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "pyrogo version: %s\n", moduleVersion())
	fmt.Fprintf(stdout, "Go version: %s (%s, %s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "Protocol version: %d\n", wire.ProtocolVersion)
	fmt.Fprintln(stdout, "Currently active configuration settings:")
	for _, e := range cfg.Entries() {
		fmt.Fprintf(stdout, "%s = %s  (%s)\n", e.Name, e.Value, e.Source)
	}
	return exitOK
}

// moduleVersion returns the version of the pyrogo module this binary was
// built from ("(devel)" for a build inside the module).
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if bi.Main.Path == "github.com/pyrogo/pyro" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/pyrogo/pyro" {
			return d.Version
		}
	}
	return "unknown"
}
