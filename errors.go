package pyro

import (
	"context"
	"strings"

	"github.com/pyrogo/pyro/py"
)

// ErrorClass is one of Pyro's exception classes (Pyro4.errors). The class
// values are also sentinels: errors.Is(err, pyro.ErrCommunication) holds
// for a ConnectionClosedError too, following Pyro's class hierarchy, and
// for a RemoteError whose Python class is that Pyro class.
type ErrorClass struct {
	name    string
	parent  *ErrorClass
	timeout bool
}

func (c *ErrorClass) Error() string { return c.name }

// Name returns the Python class name without module ("NamingError").
func (c *ErrorClass) Name() string { return c.name }

// PythonName returns the module-qualified class name ("Pyro4.errors.NamingError").
func (c *ErrorClass) PythonName() string { return "Pyro4.errors." + c.name }

// Timeout reports whether the class is TimeoutError (net.Error).
func (c *ErrorClass) Timeout() bool { return c.timeout }

// Temporary is false: retrying is the caller's decision (net.Error).
func (c *ErrorClass) Temporary() bool { return false }

func (c *ErrorClass) isA(target *ErrorClass) bool {
	for k := c; k != nil; k = k.parent {
		if k == target {
			return true
		}
	}
	return false
}

// Pyro's exception classes, in its hierarchy.
var (
	ErrPyro             = &ErrorClass{name: "PyroError"}
	ErrCommunication    = &ErrorClass{name: "CommunicationError", parent: ErrPyro}
	ErrConnectionClosed = &ErrorClass{name: "ConnectionClosedError", parent: ErrCommunication}
	ErrTimeout          = &ErrorClass{name: "TimeoutError", parent: ErrCommunication, timeout: true}
	ErrProtocol         = &ErrorClass{name: "ProtocolError", parent: ErrCommunication}
	ErrMessageTooLarge  = &ErrorClass{name: "MessageTooLargeError", parent: ErrProtocol}
	ErrSerialize        = &ErrorClass{name: "SerializeError", parent: ErrProtocol}
	ErrConnectionDenied = &ErrorClass{name: "ConnectionDeniedError", parent: ErrCommunication}
	ErrNaming           = &ErrorClass{name: "NamingError", parent: ErrPyro}
	ErrDaemon           = &ErrorClass{name: "DaemonError", parent: ErrPyro}
	ErrSecurity         = &ErrorClass{name: "SecurityError", parent: ErrPyro}
)

var errorClasses = map[string]*ErrorClass{}

func init() {
	for _, c := range []*ErrorClass{ErrPyro, ErrCommunication, ErrConnectionClosed, ErrTimeout, ErrProtocol,
		ErrMessageTooLarge, ErrSerialize, ErrConnectionDenied, ErrNaming, ErrDaemon, ErrSecurity} {
		errorClasses[c.PythonName()] = c
	}
}

// Error is a local Pyro error: a class, Pyro's message text, and the
// underlying cause if any.
type Error struct {
	Class *ErrorClass
	Msg   string
	Err   error // cause, may be nil
}

// NewError returns an *Error of the given class.
func NewError(class *ErrorClass, msg string) *Error { return &Error{Class: class, Msg: msg} }

func wrapError(class *ErrorClass, msg string, cause error) *Error {
	return &Error{Class: class, Msg: msg, Err: cause}
}

func (e *Error) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the error's class and every class above it. A TimeoutError
// (a call's context deadline, the proxy's timeout or COMMTIMEOUT expiring)
// also matches context.DeadlineExceeded, like the errors of package net.
func (e *Error) Is(target error) bool {
	if target == context.DeadlineExceeded {
		return e.Class.isA(ErrTimeout)
	}
	c, ok := target.(*ErrorClass)
	return ok && e.Class.isA(c)
}

// Timeout reports whether this is a TimeoutError (net.Error).
func (e *Error) Timeout() bool { return e.Class.isA(ErrTimeout) }

// Temporary is false (net.Error).
func (e *Error) Temporary() bool { return false }

// Exception returns the error as a Pyro4.errors exception for the wire.
func (e *Error) Exception() *py.Exception {
	return &py.Exception{Class: e.Class.PythonName(), Args: py.Tuple{e.Error()}}
}

// RemoteError is an exception raised on the remote side of a call: the
// Python class name, its arguments and the remote traceback. It matches
// errors.Is(err, pyro.ErrNaming) etc. when the remote class is one of
// Pyro's.
type RemoteError struct {
	Exception *py.Exception
}

// Class returns the module-qualified Python class ("builtins.ValueError").
func (e *RemoteError) Class() string { return e.Exception.Class }

// Args returns the exception arguments.
func (e *RemoteError) Args() py.Tuple { return e.Exception.Args }

// Message returns str(exception) as Python prints it.
func (e *RemoteError) Message() string { return e.Exception.Message() }

// Traceback returns the remote traceback lines.
func (e *RemoteError) Traceback() []string { return e.Exception.Traceback() }

func (e *RemoteError) Error() string { return e.Exception.Error() }

// Is matches Pyro's error classes by the remote class name.
func (e *RemoteError) Is(target error) bool {
	c, ok := target.(*ErrorClass)
	if !ok {
		return false
	}
	own := errorClasses[e.Exception.Class]
	return own != nil && own.isA(c)
}

// PythonError is an error that a Go method returns to choose the Python
// exception class its Python callers see, e.g. PythonError{"ValueError",
// "bad value"}. Class is a builtin name ("ValueError") or a qualified one
// ("builtins.KeyError", "Pyro4.errors.NamingError"). Python clients can
// only rebuild builtins.* and Pyro4.errors.* classes.
type PythonError struct {
	Class string
	Msg   string
}

func (e *PythonError) Error() string { return e.shortClass() + ": " + e.Msg }

func (e *PythonError) shortClass() string {
	if i := strings.LastIndexByte(e.Class, '.'); i >= 0 {
		return e.Class[i+1:]
	}
	return e.Class
}

// Exception returns the wire form.
func (e *PythonError) Exception() *py.Exception {
	cls := e.Class
	if !strings.Contains(cls, ".") {
		cls = "builtins." + cls
	}
	return &py.Exception{Class: cls, Args: py.Tuple{e.Msg}}
}

// exceptionFor maps a Go error returned by a method to the exception that
// goes on the wire. The traceback is added by the caller.
//
// The class comes from the outermost error in err's chain (errors.Unwrap,
// depth first, as errors.As searches) that names one: a *RemoteError (a
// nested call's remote exception passes through), a *PythonError, an
// *Error, a bare class sentinel such as pyro.ErrNaming, a *py.ConvertError
// (TypeError), or any error with an Exception() *py.Exception method.
// Without one the class is builtins.Exception. When that error is wrapped
// (fmt.Errorf("loading %s: %w", name, err)), the message is the whole text
// of err, with the wrapped error's own text replaced by its Python message
// ("loading x: bad value", not "loading x: ValueError: bad value") and a
// wrapped sentinel's class name dropped from the end.
func exceptionFor(err error) *py.Exception {
	var found error
	var exc *py.Exception
	walkErrors(err, func(e error) bool {
		found, exc = e, classException(e)
		return exc != nil
	})
	if exc == nil {
		return &py.Exception{Class: "builtins.Exception", Args: py.Tuple{err.Error()}}
	}
	if found == err {
		return exc
	}
	outer, inner := err.Error(), found.Error()
	if c, ok := found.(*ErrorClass); ok {
		if t := strings.TrimSuffix(outer, ": "+c.name); t != "" {
			outer = t
		}
	} else if msg := exc.Message(); msg != inner {
		if i := strings.LastIndex(outer, inner); i >= 0 {
			outer = outer[:i] + msg + outer[i+len(inner):]
		}
	}
	return &py.Exception{Class: exc.Class, Args: py.Tuple{outer}}
}

// classException returns the wire exception of one error in a chain, or
// nil when that error does not choose a Python class.
func classException(err error) *py.Exception {
	switch e := err.(type) {
	case *RemoteError:
		return &py.Exception{Class: e.Exception.Class, Args: e.Exception.Args}
	case *PythonError:
		return e.Exception()
	case *Error:
		return e.Exception()
	case *ErrorClass:
		return &py.Exception{Class: e.PythonName(), Args: py.Tuple{e.name}}
	case *py.ConvertError:
		return &py.Exception{Class: "builtins.TypeError", Args: py.Tuple{e.Error()}}
	case interface{ Exception() *py.Exception }:
		return e.Exception()
	}
	return nil
}

// walkErrors calls visit for err and every error it wraps, depth first in
// the order errors.As uses, until visit returns true.
func walkErrors(err error, visit func(error) bool) bool {
	for err != nil {
		if visit(err) {
			return true
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if walkErrors(e, visit) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// dropsConnection reports whether a method error of this wire class makes
// the daemon close the connection without a reply, as Pyro does for a
// CommunicationError (other than a SerializeError) raised by a method.
func dropsConnection(exc *py.Exception) bool {
	c := errorClasses[exc.Class]
	return c != nil && c.isA(ErrCommunication) && !c.isA(ErrSerialize)
}
