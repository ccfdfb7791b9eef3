package pyro_test

import (
	"testing"

	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// TestEchoDatetimeLikePyro4: a Python client echoing datetimes and dates
// gets back what Pyro4's own echo server gives it, with every serializer;
// with msgpack that is the same datetime.datetime and datetime.date (Pyro4
// writes them as its ext types 0x32 and 0x33).
func TestEchoDatetimeLikePyro4(t *testing.T) {
	pytest.Python(t)
	pyEcho := startPyEchoServer(t)
	goEcho := pyrotest.Serve(t, pyrotest.Config(), echoserver.ObjectID, &echoserver.EchoServer{}).String()
	args := []string{
		"(datetime.datetime(2024, 1, 2, 3, 4, 5, 6),)",
		"(datetime.date(2024, 1, 2),)",
		"(datetime.date(1, 1, 1),)",
		"(datetime.datetime(1969, 7, 20, 20, 17, 40),)",
		"([datetime.date(2024, 2, 29), {'at': datetime.datetime(2000, 1, 1, 0, 0)}],)",
	}
	wantMsgpack := []string{"datetime.datetime", "datetime.date", "datetime.date", "datetime.datetime", "builtins.list"}
	var calls []pyCall
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		for _, a := range args {
			calls = append(calls, pyCall{URI: pyEcho, Method: "echo", Args: a, Serializer: ser},
				pyCall{URI: goEcho, Method: "echo", Args: a, Serializer: ser})
		}
	}
	res := runPyCalls(t, calls)
	for i := 0; i < len(calls); i += 2 {
		py, goRes := res[i], res[i+1]
		if py != goRes {
			t.Errorf("%s echo%s: Pyro4 gives %v, Go gives %v", calls[i].Serializer, calls[i].Args, py, goRes)
		}
		if calls[i].Serializer == "msgpack" {
			if w := wantMsgpack[(i/2)%len(args)]; !goRes.OK || goRes.Type != w {
				t.Errorf("msgpack echo%s: Go gives %v, want a %s", calls[i].Args, goRes, w)
			}
		}
	}
}
