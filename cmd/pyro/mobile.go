package main

import (
	"context"
	"io"
)

const mobileHelp = `
Mobile works with mobile code (package mobile): WebAssembly modules that
clients ship to a daemon, which checks them with code validators and runs
their functions in a sandbox.

Keys and modules (local, no server):

	keygen -o NAME               make an Ed25519 key pair: NAME.key (private, mode 0600) and NAME.pub
	sign -key NAME.key MODULE    sign a module: writes MODULE.sig
	inspect MODULE               the module's id, size, imports and callable functions

A server that accepts mobile code:

	serve [flags]                run a daemon with Pyro.MobileCode; refuses every module
	                             unless --trust / --allow-* flags say which to accept

Clients of such a server (URI is the daemon's Pyro.MobileCode URI, as
"pyro mobile serve" prints it, the URI of any other object of that daemon,
or a PYRONAME of the mobile code object):

	load [-sig FILE] URI MODULE  load a module; prints its id
	call URI ID FUNCTION [ARG...] call a function; ARGs as "pyro call" reads them
	list URI                     list the loaded modules
	unload URI ID                unload a module

"pyro mobile COMMAND -h" describes each command and its flags.

Exit status: 0 on success; 1 when the operation failed (the server refused
or raised, a file could not be written); 2 for usage errors and local or
transport errors.`

// mobileCommands are the subcommands of "pyro mobile".
var mobileCommands map[string]runFunc

func init() {
	mobileCommands = map[string]runFunc{
		"keygen":  runMobileKeygen,
		"sign":    runMobileSign,
		"inspect": runMobileInspect,
		"serve":   runMobileServe,
		"load":    runMobileLoad,
		"call":    runMobileCall,
		"list":    runMobileList,
		"unload":  runMobileUnload,
	}
}

func runMobile(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("mobile", "mobile COMMAND [arguments]", mobileHelp, stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(fs, "need a COMMAND (keygen, sign, inspect, serve, load, call, list, unload)")
	}
	name := fs.Arg(0)
	if name == "help" {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	run, ok := mobileCommands[name]
	if !ok {
		return usageError(fs, "unknown command %q (keygen, sign, inspect, serve, load, call, list, unload)", name)
	}
	return run(ctx, fs.Args()[1:], stdout, stderr, environ)
}
