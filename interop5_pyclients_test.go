package pyro_test

// Interop A for protocol 502: Python Pyro5 clients
// (testdata/interop5/pycall5.py) against Go daemons, compared step by step
// with what Pyro5's own servers answered (testdata/interop5/golden).

import (
	"strings"
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
			pytest.CheckGolden5With(t, "echo_"+ser, res, pytest.Golden5Options{Sets: []string{"daemon/get_metadata"}})
		})
	}
}

// TestInterop5PythonClientsTyped: a Python Pyro5 client calling the Go
// interop suite's typed object gets what it gets from the Pyro5 test
// server's twin of it (golden typed_<serializer>): values, exceptions,
// kwargs, attributes, oneway, batches, autoproxies, URIs, annotations and
// correlation ids, streams and metadata. The texts of the TypeErrors and
// of the panic are pyrogo's own, so for those steps only the class and
// that it came from the server are compared.
func TestInterop5PythonClientsTyped(t *testing.T) {
	pytest.Pyro5(t)
	for _, ser := range pyrotest.Serializers {
		t.Run(ser, func(t *testing.T) {
			d, _ := startGoDaemon(t, nil) // a fresh typed object: the steps count its oneway calls
			res := pytest.RunCalls5(t, ser, pytest.TypedSteps5(d.URIFor("typed").String(), d.URIFor(pyro.DaemonObjectID).String()))
			opts := pytest.Golden5Options{Sets: []string{"daemon/get_metadata"}, Loose: typedLoose5}
			if ser == "marshal" {
				// Pyro5's daemon cannot send a proxy with marshal
				// ("unmarshallable object"); pyrogo's marshal sends the
				// proxy's class dict, which a Pyro5 client restores
				opts.Own = []string{"typed/autoproxy", "typed/autoproxy_list", "typed/autoproxy_nested"}
				byName := map[string]pytest.Result5{}
				for _, r := range res {
					byName[r.Name] = r
				}
				for name, kids := range map[string]string{"typed/autoproxy": "kid", "typed/autoproxy_list": "kid kid2", "typed/autoproxy_nested": "kid kid2 kid kid kid2"} {
					r := byName[name]
					var got []string
					for _, f := range r.Followed {
						got = append(got, strings.Trim(mustJSON(f.Value), `[]"`))
					}
					if !r.OK || strings.Join(got, " ") != strings.ReplaceAll(kids, "kid", "str\",\"kid") {
						t.Errorf("%s: %v, followed %v", name, r, got)
					}
				}
			}
			pytest.CheckGolden5With(t, "typed_"+ser, res, opts)
		})
	}
}

// typedLoose5 are the typed steps whose exception texts are pyrogo's own
// wording (argument conversion, arity, the panic).
var typedLoose5 = []string{
	"typed/ints_overflow", "typed/arity_missing", "typed/arity_too_many", "typed/floats_overflow",
	"typed/sum_list_bad_element", "typed/greet_bogus_keyword", "typed/greet_multiple_values", "typed/panic",
	"typed/size_bad",
}
