package pyro

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// maxSecretFile bounds the size of key and passphrase files.
const maxSecretFile = 64 << 10

// readSecretFile reads a small file that only its owner may access.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is accessible by other users (mode %#o): chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSecretFile)
	}
	return b, nil
}

// ReadKeyFile reads an HMAC key from a file, such as one written by
// "pyro genkey -o FILE": the file's content without trailing spaces and
// line ends (so a key written by echo or an editor works). Like ssh with
// private keys, it refuses a file that other users may read or write
// (its mode must be 0600 or stricter), and an empty key. Unlike a key on
// the command line, a key file is not visible in the process list.
func ReadKeyFile(path string) ([]byte, error) {
	b, err := readSecretFile(path)
	if err != nil {
		return nil, fmt.Errorf("pyro: key file: %w", err)
	}
	b = bytes.TrimRight(b, " \t\r\n")
	if len(b) == 0 {
		return nil, fmt.Errorf("pyro: key file %s is empty", path)
	}
	return b, nil
}

// ReadPassphraseFile reads passphrases from a file, one per line; empty
// lines and lines starting with "#" are skipped, trailing spaces and line
// ends are removed. The file must be accessible by its owner only (see
// ReadKeyFile) and hold at least one passphrase. A daemon allows all of
// them (Daemon.SetAllowedIdentifications); a client uses the first.
func ReadPassphraseFile(path string) ([]string, error) {
	b, err := readSecretFile(path)
	if err != nil {
		return nil, fmt.Errorf("pyro: passphrase file: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pyro: passphrase file %s holds no passphrase", path)
	}
	return out, nil
}
