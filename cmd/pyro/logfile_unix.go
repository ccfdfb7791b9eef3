//go:build unix

package main

import (
	"os"
	"syscall"
)

// openLogFile opens the log file for appending, creating it readable by
// the owner only, and never through a symbolic link (O_NOFOLLOW).
func openLogFile(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
}
