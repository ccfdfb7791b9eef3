//go:build unix

package pytest

import "syscall"

// stopProcess freezes process pid (SIGSTOP) without closing anything.
func stopProcess(pid int) error { return syscall.Kill(pid, syscall.SIGSTOP) }

// continueProcess lets a frozen process run again (SIGCONT).
func continueProcess(pid int) error { return syscall.Kill(pid, syscall.SIGCONT) }
