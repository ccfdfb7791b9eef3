package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/pyrogo/pyro/wire"
)

const versionHelp = `
Version prints the version of pyrogo this binary was built from, the Go
version that built it and the Pyro wire protocol it speaks. "pyro
--version" does the same.`

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("version", "version", versionHelp, stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	fmt.Fprintf(stdout, "pyro (pyrogo) %s, %s %s/%s, Pyro4 wire protocol %d\n",
		moduleVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, wire.ProtocolVersion)
	return exitOK
}
