package mobile

import (
	"errors"
	"fmt"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
)

// Kinds of failure; an *Error matches its kind with errors.Is, and a
// Python client sees the class given here.
var (
	// ErrRefused: a validator or the sandbox's import rule refused the
	// module (Pyro4.errors.SecurityError), or a client tried to unload a
	// module it did not load.
	ErrRefused = errors.New("refused")
	// ErrInvalid: malformed module, unknown module id or function,
	// arguments or results the convention cannot carry (ValueError).
	ErrInvalid = errors.New("invalid")
	// ErrLimit: a configured bound was reached — module size, number or
	// total size of loaded modules, memory pages, concurrent calls
	// (MemoryError).
	ErrLimit = errors.New("limit")
	// ErrTimeout: a call ran past its time cap and was stopped
	// (TimeoutError).
	ErrTimeout = errors.New("timeout")
	// ErrTrap: the module trapped (unreachable, stack overflow, out of
	// bounds), exited, or its function reported an error (RuntimeError).
	ErrTrap = errors.New("trap")
	// ErrClosed: the service is closed.
	ErrClosed = errors.New("mobile: service closed")
)

// Error is a failure of the mobile code service.
type Error struct {
	Kind error  // one of ErrRefused, ErrInvalid, ErrLimit, ErrTimeout, ErrTrap
	Msg  string // what failed and why
	Err  error  // cause, may be nil
}

func (e *Error) Error() string { return "mobile: " + e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Exception is the Python exception a client sees.
func (e *Error) Exception() *py.Exception {
	cls := "builtins.RuntimeError"
	switch e.Kind {
	case ErrRefused:
		cls = pyro.ErrSecurity.PythonName()
	case ErrInvalid:
		cls = "builtins.ValueError"
	case ErrLimit:
		cls = "builtins.MemoryError"
	case ErrTimeout:
		cls = "builtins.TimeoutError"
	}
	return &py.Exception{Class: cls, Args: py.Tuple{e.Error()}}
}

func newErr(kind error, cause error, format string, a ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, a...), Err: cause}
}

func refusedf(format string, a ...any) *Error { return newErr(ErrRefused, nil, format, a...) }
func invalidf(format string, a ...any) *Error { return newErr(ErrInvalid, nil, format, a...) }
func limitf(format string, a ...any) *Error   { return newErr(ErrLimit, nil, format, a...) }
