package main

import (
	"os"
	"strings"
	"testing"
)

// invokeModule builds testdata/mods/invoke, an agent module; it skips
// the test while guest.Invoke (issue 13, agents) is missing.
func invokeModule(t *testing.T) string {
	t.Helper()
	p, err := buildWasm("cmd/pyro/testdata/mods/invoke")
	if err != nil {
		if strings.Contains(err.Error(), "undefined: guest.Invoke") {
			t.Skipf("needs guest.Invoke (issue 13 item 4, agents), not in this checkout: %v", err)
		}
		t.Fatal(err)
	}
	return p
}

// pyro mobile serve --echo --grant test.echoserver.echo: a module may
// call the granted method and is refused any other; without --grant a
// module that imports pyro.invoke is refused at load.
func TestMobileServeGrant(t *testing.T) {
	mod := invokeModule(t)
	module, _ := os.ReadFile(mod)
	id := hexID(module)
	srv := startMobileServe(t, "--allow-hash", id, "--echo", "--grant", "test.echoserver.echo")
	if out := srv.p.Output.String(); !strings.Contains(out, "Granted to modules: test.echoserver: echo") {
		t.Errorf("start-up message:\n%s", out)
	}
	if code, out, errs := srv.pyro(t, "mobile", "load", srv.uri, mod); code != 0 || out != id+"\n" {
		t.Fatalf("load: exit %d %q %q", code, out, errs)
	}
	if code, out, errs := srv.pyro(t, "mobile", "call", srv.uri, id, "invoke", "'test.echoserver'", "'echo'", "[1, 'two']"); code != 0 || out != "[1, 'two']\n" {
		t.Errorf("granted echo: exit %d %q %q", code, out, errs)
	}
	code, out, errs := srv.pyro(t, "mobile", "call", srv.uri, id, "invoke", "'test.echoserver'", "'error'")
	if code != exitRemote || !strings.Contains(errs, "may not call test.echoserver.error") {
		t.Errorf("ungranted error(): exit %d %q %q", code, out, errs)
	}

	srv = startMobileServe(t, "--allow-hash", id)
	code, _, errs = srv.pyro(t, "mobile", "load", srv.uri, mod)
	if code != exitRemote || !strings.Contains(errs, "pyro.invoke") {
		t.Errorf("load without grants: exit %d %q", code, errs)
	}
}
