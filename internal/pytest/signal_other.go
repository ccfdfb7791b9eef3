//go:build !unix

package pytest

import "errors"

var errNoStop = errors.New("pytest: freezing a process needs unix signals")

// stopProcess cannot freeze a process without unix signals.
func stopProcess(pid int) error { return errNoStop }

// continueProcess cannot continue a process without unix signals.
func continueProcess(pid int) error { return errNoStop }
