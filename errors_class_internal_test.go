package pyro

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pyrogo/pyro/py"
)

func TestExceptionForKeepsClass(t *testing.T) {
	remote := &RemoteError{Exception: &py.Exception{Class: "builtins.KeyError", Args: py.Tuple{"k"}}}
	tests := []struct {
		name      string
		err       error
		class     string
		message   string
		closeConn bool
	}{
		{"plain error", errors.New("boom"), "builtins.Exception", "boom", false},
		{"wrapped sentinel", fmt.Errorf("lookup %q: %w", "x", ErrNaming), "Pyro4.errors.NamingError", `lookup "x"`, false},
		{"bare sentinel", ErrDaemon, "Pyro4.errors.DaemonError", "DaemonError", false},
		{"sentinel in the middle", fmt.Errorf("a: %w: b", ErrSecurity), "Pyro4.errors.SecurityError", "a: SecurityError: b", false},
		{"PythonError", &PythonError{Class: "ValueError", Msg: "bad port"}, "builtins.ValueError", "bad port", false},
		{"wrapped PythonError", fmt.Errorf("loading config: %w", &PythonError{Class: "ValueError", Msg: "bad port"}),
			"builtins.ValueError", "loading config: bad port", false},
		{"wrapped qualified PythonError", fmt.Errorf("ns: %w", &PythonError{Class: "Pyro4.errors.NamingError", Msg: "unknown name: x"}),
			"Pyro4.errors.NamingError", "ns: unknown name: x", false},
		{"wrapped *Error", fmt.Errorf("step 2: %w", NewError(ErrDaemon, "unknown object")), "Pyro4.errors.DaemonError", "step 2: unknown object", false},
		{"RemoteError passes through", remote, "builtins.KeyError", "k", false},
		{"wrapped RemoteError", fmt.Errorf("nested call: %w", remote), "builtins.KeyError", "nested call: k", false},
		{"outermost class wins", &Error{Class: ErrNaming, Msg: "resolve", Err: remote}, "Pyro4.errors.NamingError", "resolve", false},
		{"joined errors", errors.Join(errors.New("first"), fmt.Errorf("second: %w", ErrNaming)), "Pyro4.errors.NamingError", "first\nsecond", false},
		{"convert error", &py.ConvertError{Msg: "cannot convert str to int"}, "builtins.TypeError", "cannot convert str to int", false},
		{"wrapped timeout drops the connection", fmt.Errorf("nested: %w", ErrTimeout), "Pyro4.errors.TimeoutError", "nested", true},
		{"serialize error keeps the connection", fmt.Errorf("x: %w", ErrSerialize), "Pyro4.errors.SerializeError", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exc := exceptionFor(tt.err)
			if exc.Class != tt.class || exc.Message() != tt.message {
				t.Errorf("got %s %q, want %s %q", exc.Class, exc.Message(), tt.class, tt.message)
			}
			if got := dropsConnection(exc); got != tt.closeConn {
				t.Errorf("dropsConnection = %v, want %v", got, tt.closeConn)
			}
		})
	}
}
