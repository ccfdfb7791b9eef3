package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"strings"

	"github.com/pyrogo/pyro/mobile"
)

const mobileKeygenHelp = `
Keygen makes an Ed25519 key pair for signing mobile code: NAME.key, the
private key (PEM PKCS #8, as "openssl genpkey -algorithm ed25519" writes
it; mode 0600, keep it secret) and NAME.pub, the public key (PEM PKIX)
that servers trust with "pyro mobile serve --trust NAME.pub". Existing
files are never overwritten.`

func runMobileKeygen(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("mobile keygen", "mobile keygen -o NAME", mobileKeygenHelp, stderr)
	name := fs.String("o", "", "write the key pair to `NAME`.key and NAME.pub")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	if *name == "" {
		return usageError(fs, "need -o NAME")
	}
	keyPath, pubPath := *name+".key", *name+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return failf(stderr, "mobile keygen", exitRemote, "%s exists; not overwriting it", p)
		}
	}
	pub, priv, err := mobile.GenerateKey()
	if err != nil {
		return failf(stderr, "mobile keygen", exitRemote, "%v", err)
	}
	privPEM, err := mobile.MarshalPrivateKey(priv)
	if err != nil {
		return failf(stderr, "mobile keygen", exitRemote, "%v", err)
	}
	pubPEM, err := mobile.MarshalPublicKey(pub)
	if err != nil {
		return failf(stderr, "mobile keygen", exitRemote, "%v", err)
	}
	if err := writeNew(keyPath, privPEM, 0o600); err != nil {
		return failf(stderr, "mobile keygen", exitRemote, "%v", err)
	}
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		os.Remove(keyPath) // no half pair
		return failf(stderr, "mobile keygen", exitRemote, "%v", err)
	}
	fmt.Fprintf(stdout, "wrote %s (private key: keep it secret) and %s (public key: for --trust)\n", keyPath, pubPath)
	return exitOK
}

// writeNew writes data to a new file (never an existing file or link)
// with mode perm.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

const mobileSignHelp = `
Sign signs a WebAssembly module with an Ed25519 private key (from "pyro
mobile keygen", or "openssl genpkey -algorithm ed25519") and writes the
signature file MODULE.sig (or -o FILE): the base64 of the signature of
"pyrogo-mobile-v1" 0x00 SHA-256(module), one line. "pyro mobile load"
sends MODULE.sig along with MODULE; Python clients send the file's text as
load's signature argument. It prints the module id (its SHA-256).

The module must be a WebAssembly module (checked as a server checks it
before its validators). An existing signature file is replaced only with
-f.`

func runMobileSign(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("mobile sign", "mobile sign -key NAME.key [-o FILE] [-f] MODULE", mobileSignHelp, stderr)
	keyPath := fs.String("key", "", "the private key `file` (PEM PKCS #8 Ed25519)")
	out := fs.String("o", "", "write the signature to `file` (default MODULE.sig)")
	force := fs.Bool("f", false, "replace an existing signature file")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "need one MODULE")
	}
	if *keyPath == "" {
		return usageError(fs, "need -key FILE")
	}
	modPath := fs.Arg(0)
	sigPath := *out
	if sigPath == "" {
		sigPath = modPath + ".sig"
	}
	keyPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		return failf(stderr, "mobile sign", exitUsage, "%v", err)
	}
	if st, err := os.Stat(*keyPath); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "Warning: the private key %s is readable by other users (mode %v); chmod 600 it.\n", *keyPath, st.Mode().Perm())
	}
	priv, err := mobile.ParsePrivateKey(keyPEM)
	if err != nil {
		return failf(stderr, "mobile sign", exitUsage, "%s: %v", *keyPath, err)
	}
	module, err := os.ReadFile(modPath)
	if err != nil {
		return failf(stderr, "mobile sign", exitUsage, "%v", err)
	}
	if _, err := mobile.Inspect(module); err != nil {
		return failf(stderr, "mobile sign", exitUsage, "%s: %v", modPath, err)
	}
	sig := mobile.FormatSignature(mobile.Sign(priv, module))
	if *force {
		if err := os.Remove(sigPath); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return failf(stderr, "mobile sign", exitRemote, "%v", err)
		}
	}
	if err := writeNew(sigPath, sig, 0o644); err != nil {
		if errors.Is(err, iofs.ErrExist) {
			return failf(stderr, "mobile sign", exitRemote, "%s exists (-f replaces it)", sigPath)
		}
		return failf(stderr, "mobile sign", exitRemote, "%v", err)
	}
	fmt.Fprintf(stdout, "%s  %s\n", moduleID(module), strings.TrimSpace(sigPath))
	return exitOK
}
