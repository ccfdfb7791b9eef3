package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pyrogo/pyro/mobile"
)

const mobileInspectHelp = `
Inspect prints what a server sees of a WebAssembly module before its
validators run: the id (hex SHA-256), the size, the initial memory, the
imports (each marked "ok" when the sandbox provides it, "agents" for the
"pyro" host module a server with grants provides, "REFUSED" otherwise:
such a module is refused at load), and the exports, with the calling
convention of each callable function: "value" (pyro_fn_NAME, msgpack
values through linear memory, called as NAME) or "numeric" (numbers in,
numbers out). Names starting with "_" or "pyro_" are reserved (the
allocator, initialisation); other exports are not callable.

The module is decoded as the server decodes it (bounded; nothing is
compiled or run); a module the server would refuse as malformed is an
error here too.`

func runMobileInspect(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("mobile inspect", "mobile inspect MODULE", mobileInspectHelp, stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "need one MODULE")
	}
	module, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return failf(stderr, "mobile inspect", exitUsage, "%v", err)
	}
	info, err := mobile.Inspect(module)
	if err != nil {
		return failf(stderr, "mobile inspect", exitRemote, "%s: %v", fs.Arg(0), err)
	}
	fmt.Fprintf(stdout, "id: %s\nsize: %d bytes\n", moduleID(module), len(module))
	if info.HasMemory {
		fmt.Fprintf(stdout, "memory: %d pages (%d KiB) at start\n", info.MemoryMin, uint64(info.MemoryMin)*64)
	} else {
		fmt.Fprintln(stdout, "memory: none")
	}
	fmt.Fprintf(stdout, "imports: %d\n", len(info.Imports))
	for _, im := range info.Imports {
		mark := "REFUSED"
		switch {
		case mobile.SandboxProvides(im):
			mark = "ok"
		case im.Module == "pyro" && im.Kind == mobile.KindFunc:
			mark = "agents"
		}
		fmt.Fprintf(stdout, "  %-8s %s\n", mark, im)
	}
	callable := map[string]mobile.Callable{}
	for _, c := range info.Callables() {
		callable[c.Export] = c
	}
	fmt.Fprintf(stdout, "exports: %d\n", len(info.Exports))
	for _, e := range info.Exports {
		c, ok := callable[e.Name]
		switch {
		case ok && c.Value:
			fmt.Fprintf(stdout, "  %-8s %s: call as %q %s\n", "value", e.Name, c.Name, signature(e))
		case ok:
			fmt.Fprintf(stdout, "  %-8s %s %s\n", "numeric", e.Name, signature(e))
		case e.Kind == mobile.KindFunc && (strings.HasPrefix(e.Name, "_") || strings.HasPrefix(e.Name, "pyro_")):
			fmt.Fprintf(stdout, "  %-8s %s %s\n", "reserved", e.Name, signature(e))
		case e.Kind == mobile.KindFunc:
			fmt.Fprintf(stdout, "  %-8s %s %s\n", "-", e.Name, signature(e))
		default:
			fmt.Fprintf(stdout, "  %-8s %s (%s)\n", "-", e.Name, e.Kind)
		}
	}
	return exitOK
}

// signature formats a function export's type, as "(i32, i32) -> i64".
func signature(e mobile.Export) string {
	types := func(ts []mobile.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = t.String()
		}
		return strings.Join(s, ", ")
	}
	out := "(" + types(e.Params) + ")"
	if len(e.Results) > 0 {
		out += " -> " + types(e.Results)
	}
	return out
}

// moduleID is a module's id: the hex SHA-256.
func moduleID(module []byte) string {
	sum := sha256.Sum256(module)
	return hex.EncodeToString(sum[:])
}
