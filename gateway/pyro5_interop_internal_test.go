package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
)

// TestPyro5DaemonBehindGateway: a Pyro5 daemon (protocol 502; Pyro5's
// echo server) registered in the name server is called through the
// gateway like a Pyro4 one: results, $meta, a remote exception as 500,
// and the correlation id reaches it in the 502 header.
func TestPyro5DaemonBehindGateway(t *testing.T) {
	uri := pytest.StartEchoServer5(t, pytest.Echo5{})
	ns := startNS(t)
	u, err := pyro.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	if err := nsClientFor(t, ns).Register(context.Background(), "http.echo5", u, false, nil); err != nil {
		t.Fatal(err)
	}
	_, base := startGateway(t, ns)
	r := do(t, base, "GET", "/pyro/http.echo5/echo?message=hi+five", map[string]string{headerCorr: goodCorr}, "", "")
	if r.status != 200 || string(r.body) != `"hi five"` || r.ctype != contentJSON || r.corr != goodCorr {
		t.Errorf("echo: %d %q %q corr %q", r.status, r.ctype, r.body, r.corr)
	}
	r = do(t, base, "GET", "/pyro/http.echo5/$meta", nil, "", "")
	var meta struct{ Methods, Attributes []string }
	if err := json.Unmarshal(r.body, &meta); err != nil || r.status != 200 || !strings.Contains(strings.Join(meta.Methods, ","), "echo") {
		t.Errorf("$meta: %d %s (%v)", r.status, r.body, err)
	}
	r = do(t, base, "GET", "/pyro/http.echo5/error", nil, "", "")
	if r.status != 500 || r.ctype != contentJSON || !strings.Contains(string(r.body), `"builtins.ValueError"`) {
		t.Errorf("error: %d %q %s", r.status, r.ctype, r.body)
	}
	r = do(t, base, "GET", "/pyro/http.echo5/nosuch", nil, "", "")
	if r.status != 500 || !strings.Contains(string(r.body), `"builtins.AttributeError"`) {
		t.Errorf("unknown method: %d %s", r.status, r.body)
	}
}
