package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pyrogo/pyro/devcert"
)

const certsHelp = `
Certs creates a development certificate authority, a server certificate
and a client certificate (ECDSA P-256, valid one year) in DIR, so that TLS
and mutual TLS work at once:

	ca.crt       the CA certificate both sides trust (SSL_CACERTS)
	server.crt   server certificate (SSL_SERVERCERT), for the --host names
	server.key   its key, mode 0600 (SSL_SERVERKEY)
	client.crt   client certificate (SSL_CLIENTCERT)
	client.key   its key, mode 0600 (SSL_CLIENTKEY)

--host may be given several times (DNS names or IP addresses); the
default is localhost, 127.0.0.1 and ::1. Existing files are never
overwritten. These certificates are for development and tests.`

// hostList is a repeatable --host flag.
type hostList []string

func (h *hostList) String() string     { return strings.Join(*h, ",") }
func (h *hostList) Set(v string) error { *h = append(*h, v); return nil }

func runCerts(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("certs", "certs [--host NAME]... DIR", certsHelp, stderr)
	var hosts hostList
	fs.Var(&hosts, "host", "a name for the server certificate (repeatable)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "need exactly one directory")
	}
	dir := fs.Arg(0)
	b, err := devcert.New(hosts...)
	if err != nil {
		failf(stderr, "certs", 0, "%v", err)
		return exitRemote
	}
	if err := b.Write(dir); err != nil {
		failf(stderr, "certs", 0, "%v", err)
		return exitRemote
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(stdout, "Wrote %s, %s, %s, %s, %s in %s\n", devcert.CACertFile, devcert.ServerCertFile,
		devcert.ServerKeyFile, devcert.ClientCertFile, devcert.ClientKeyFile, abs)
	fmt.Fprintf(stdout, "Server: PYRO_SSL=true PYRO_SSL_SERVERCERT=%s PYRO_SSL_SERVERKEY=%s PYRO_SSL_CACERTS=%s\n",
		filepath.Join(abs, devcert.ServerCertFile), filepath.Join(abs, devcert.ServerKeyFile), filepath.Join(abs, devcert.CACertFile))
	fmt.Fprintf(stdout, "Client: PYRO_SSL=true PYRO_SSL_CACERTS=%s PYRO_SSL_CLIENTCERT=%s PYRO_SSL_CLIENTKEY=%s\n",
		filepath.Join(abs, devcert.CACertFile), filepath.Join(abs, devcert.ClientCertFile), filepath.Join(abs, devcert.ClientKeyFile))
	return exitOK
}
