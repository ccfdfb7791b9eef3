package pyro_test

// Interop A for protocol 502: Python Pyro5 clients
// (testdata/interop5/pycall5.py) against Go daemons, compared step by step
// with what Pyro5's own servers answered (testdata/interop5/golden).

import (
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// TestInterop5PythonClientsEcho: a Python Pyro5 client gets from the Go
// echo server what it gets from Pyro5's own (golden echo_<serializer>),
// over every serializer.
func TestInterop5PythonClientsEcho(t *testing.T) {
	pytest.Pyro5(t)
	d, _ := startGoDaemon(t, nil)
	uri := d.URIFor(echoserver.ObjectID).String()
	daemonURI := d.URIFor(pyro.DaemonObjectID).String()
	for _, ser := range pyrotest.Serializers {
		t.Run(ser, func(t *testing.T) {
			res := pytest.RunCalls5(t, ser, pytest.EchoSteps5(uri, daemonURI))
			pytest.CheckGolden5Sets(t, "echo_"+ser, res, []string{"daemon/get_metadata"})
		})
	}
}
