package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
)

const genkeyHelp = `
Genkey prints a random 32-byte HMAC key (from crypto/rand), base64
encoded without padding so it is safe in environment variables and
files. Use it as PYRO_HMAC_KEY on every side of a connection; the key is
the text as printed.`

func runGenkey(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("genkey", "genkey", genkeyHelp, stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return exitRemote
	}
	fmt.Fprintln(stdout, base64.RawURLEncoding.EncodeToString(k[:]))
	return exitOK
}
