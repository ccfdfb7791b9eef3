package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/pyrogo/pyro"
)

// TLS flags. Each --ssl-ITEM flag sets Pyro's SSL_ITEM config item, which
// the PYRO_SSL_ITEM environment variable sets too; a flag wins over the
// environment. Key passwords have no flag (other local users can read
// command lines): they come from PYRO_SSL_SERVERKEYPASSWD and
// PYRO_SSL_CLIENTKEYPASSWD only.

// tlsUsage follows the flag list of every command with TLS flags.
const tlsUsage = `
TLS: --ssl-ITEM sets Pyro's SSL_ITEM config item (PYRO_SSL_ITEM in the
environment does too; the flag wins), and any --ssl-* flag implies --ssl.
Key passwords come only from PYRO_SSL_SERVERKEYPASSWD and
PYRO_SSL_CLIENTKEYPASSWD. "pyro certs DIR" makes certificates to try it.
`

// tlsRole says which TLS flags a command has.
type tlsRole int

const (
	tlsClient tlsRole = 1 << iota // the command connects to daemons
	tlsServer                     // the command runs a daemon
)

// tlsFlags holds the TLS flags of one command.
type tlsFlags struct {
	fs   *flag.FlagSet
	vals map[string]*string // config item -> flag value
	ssl  *bool
	req  *bool
}

// tlsFlagItems maps flag names to config items, in the order the flags
// are documented.
var tlsFlagItems = []struct {
	flag, item, help string
	role             tlsRole
}{
	{"ssl-servercert", "SSL_SERVERCERT", "server certificate PEM `file` (SSL_SERVERCERT)", tlsServer},
	{"ssl-serverkey", "SSL_SERVERKEY", "server private key PEM `file` (SSL_SERVERKEY; default: in the certificate file)", tlsServer},
	{"ssl-cacerts", "SSL_CACERTS", "CA certificates PEM `file or directory` that verify the peer (SSL_CACERTS)", tlsServer | tlsClient},
	{"ssl-clientcert", "SSL_CLIENTCERT", "client certificate PEM `file` for mutual TLS (SSL_CLIENTCERT)", tlsClient},
	{"ssl-clientkey", "SSL_CLIENTKEY", "client private key PEM `file` (SSL_CLIENTKEY; default: in the certificate file)", tlsClient},
}

// addTLSFlags defines the TLS flags of a command with the given roles.
func addTLSFlags(fs *flag.FlagSet, role tlsRole) *tlsFlags {
	f := &tlsFlags{fs: fs, vals: map[string]*string{}}
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(fs.Output(), tlsUsage)
	}
	f.ssl = fs.Bool("ssl", false, "use TLS (SSL); implied by any --ssl-* flag")
	for _, it := range tlsFlagItems {
		if it.role&role != 0 {
			f.vals[it.flag] = fs.String(it.flag, "", it.help)
		}
	}
	if role&tlsServer != 0 {
		f.req = fs.Bool("ssl-requireclientcert", false, "require client certificates signed by --ssl-cacerts: mutual TLS (SSL_REQUIRECLIENTCERT)")
	}
	return f
}

// apply sets the config items of the flags given on the command line
// (after fs.Parse).
func (f *tlsFlags) apply(cfg *pyro.Config) error {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	given := false
	for _, it := range tlsFlagItems {
		if v, ok := f.vals[it.flag]; ok && set[it.flag] {
			if err := cfg.Set(it.item, *v); err != nil {
				return err
			}
			given = true
		}
	}
	if f.req != nil && set["ssl-requireclientcert"] {
		if err := cfg.Set("SSL_REQUIRECLIENTCERT", strconv.FormatBool(*f.req)); err != nil {
			return err
		}
		given = true
	}
	switch {
	case set["ssl"]:
		return cfg.Set("SSL", strconv.FormatBool(*f.ssl))
	case given:
		return cfg.Set("SSL", "true")
	}
	return nil
}
