//go:build !unix

package main

import (
	"fmt"
	"os"
)

// openLogFile opens the log file for appending, creating it readable by
// the owner only. Without O_NOFOLLOW it refuses a name that is a symbolic
// link when it looks, which a local attacker racing the check could
// still defeat; the unix build has no such window.
func openLogFile(name string) (*os.File, error) {
	if fi, err := os.Lstat(name); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("open %s: refusing to write a log through a symbolic link", name)
	}
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
}
