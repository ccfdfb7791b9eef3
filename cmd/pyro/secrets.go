package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pyrogo/pyro"
)

// Key and passphrase files. Secrets never come from flags that hold the
// secret itself (other local users can read command lines) except for the
// deprecated -k: the flags name files, which must be accessible by their
// owner only (mode 0600).

// secretUsage follows the flag list of every command with secret flags.
const secretUsage = `
Secrets: the HMAC key comes from one of -k, PYRO_HMAC_KEY, or a key file
(--key-file, or PYRO_HMAC_KEY_FILE). Passphrases come from a file
(--passphrase-file, or PYRO_PASSPHRASE_FILE), one per line: a server
accepts every one of them, a client authenticates with the first. Key and
passphrase files must not be accessible by other users (chmod 600).
PYRO_MAXCONNECTIONS limits the connections a server accepts at a time.
`

// secretFlags holds the --key-file and --passphrase-file flags of one
// command.
type secretFlags struct {
	fs                *flag.FlagSet
	keyFile, passFile *string
}

// addSecretFlags defines --key-file and --passphrase-file; server says
// whether the passphrases are the ones to accept or the one to use.
func addSecretFlags(fs *flag.FlagSet, server bool) *secretFlags {
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(fs.Output(), secretUsage)
	}
	passHelp := "read the passphrase to authenticate with from `file` (first line; PYRO_PASSPHRASE_FILE)"
	if server {
		passHelp = "require clients to authenticate with one of the passphrases in `file`, one per line (PYRO_PASSPHRASE_FILE)"
	}
	return &secretFlags{
		fs:       fs,
		keyFile:  fs.String("key-file", "", "read the HMAC key from `file` (PYRO_HMAC_KEY_FILE; not with -k or PYRO_HMAC_KEY)"),
		passFile: fs.String("passphrase-file", "", passHelp),
	}
}

// apply loads the key file into cfg (after applyKeyFlag did -k and
// PYRO_HMAC_KEY) and returns the passphrases, nil when none are
// configured.
func (s *secretFlags) apply(cfg *pyro.Config, keyFlag string, environ []string) ([]string, error) {
	keyFile := *s.keyFile
	if keyFile == "" {
		keyFile, _ = getenv(environ, "PYRO_HMAC_KEY_FILE")
	}
	if keyFile != "" {
		if _, ok := getenv(environ, "PYRO_HMAC_KEY"); ok || keyFlag != "" {
			return nil, errors.New("use only one of -k, PYRO_HMAC_KEY and a key file")
		}
		key, err := pyro.ReadKeyFile(keyFile)
		if err != nil {
			return nil, err
		}
		cfg.HMACKey = key
	}
	passFile := *s.passFile
	if passFile == "" {
		passFile, _ = getenv(environ, "PYRO_PASSPHRASE_FILE")
	}
	if passFile == "" {
		return nil, nil
	}
	return pyro.ReadPassphraseFile(passFile)
}

// commandConfig loads a command's configuration in the order every
// command uses: the PYRO_* environment, then the HMAC key flag, the TLS
// flags and the secret files. It returns the passphrases given (nil for
// none).
func commandConfig(environ []string, key string, tf *tlsFlags, sf *secretFlags, stderr io.Writer) (*pyro.Config, []string, error) {
	cfg, err := loadConfig(environ)
	if err != nil {
		return nil, nil, err
	}
	if err := applyKeyFlag(cfg, key, environ, stderr); err != nil {
		return nil, nil, err
	}
	if err := tf.apply(cfg); err != nil {
		return nil, nil, err
	}
	passphrases, err := sf.apply(cfg, key, environ)
	if err != nil {
		return nil, nil, err
	}
	return cfg, passphrases, nil
}

// openToAnyone reports whether a server command should print Pyro's "HMAC
// key not set. Anyone can connect" warning: no HMAC key, and neither
// client certificates nor passphrases that would make the sentence false.
func openToAnyone(cfg *pyro.Config, passphrases []string) bool {
	return len(cfg.HMACKey) == 0 && !(cfg.SSL && cfg.SSLRequireClientCert) && len(passphrases) == 0
}
