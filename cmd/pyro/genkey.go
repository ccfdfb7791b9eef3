package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
)

const genkeyHelp = `
Genkey prints a random 32-byte HMAC key (from crypto/rand), base64
encoded without padding so it is safe in environment variables and
files. Use it as PYRO_HMAC_KEY on every side of a connection; the key is
the text as printed.

With -o FILE it writes the key to a new file (mode 0600; an existing
file or link is never overwritten) instead, for --key-file or
PYRO_HMAC_KEY_FILE.`

func runGenkey(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("genkey", "genkey [-o file]", genkeyHelp, stderr)
	out := fs.String("o", "", "write the key to the new `file` (mode 0600) instead of stdout")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		failf(stderr, "genkey", 0, "%v", err)
		return exitRemote
	}
	key := base64.RawURLEncoding.EncodeToString(k[:])
	if *out == "" {
		fmt.Fprintln(stdout, key)
		return exitOK
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		failf(stderr, "genkey", 0, "%v", err)
		return exitRemote
	}
	if _, err := fmt.Fprintln(f, key); err != nil {
		f.Close()
		failf(stderr, "genkey", 0, "%v", err)
		return exitRemote
	}
	if err := f.Close(); err != nil {
		failf(stderr, "genkey", 0, "%v", err)
		return exitRemote
	}
	return exitOK
}
