package naming

import (
	"context"
	"net"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
)

type natThing struct{}

func (natThing) Where() string { return "behind the NAT" }

// TestNATEndToEnd: a daemon behind a simulated NAT (a TCP forwarder)
// advertises the NAT address (NATHOST/NATPORT), registers it in the name
// server, and a client that only knows the name reaches the object through
// the forwarder.
func TestNATEndToEnd(t *testing.T) {
	ns, err := Start(pyro.BuiltinConfig(), WithHost("127.0.0.1"), WithPort(0), WithBroadcast(false))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()

	// bind the daemon first to learn its internal port, then put the
	// forwarder ("the NAT") in front of it
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fwd := testkit.TCPRelay(t, ln.Addr().String()) // "the NAT"
	natHost, natPort := fwd.Host(), fwd.Port()
	cfg := pyro.BuiltinConfig()
	cfg.NATHost, cfg.NATPort = natHost, natPort
	d, err := pyro.NewDaemon(cfg, pyro.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve(context.Background())
	defer d.Close()
	u, err := d.Register(natThing{}, "nat.thing")
	if err != nil {
		t.Fatal(err)
	}
	if u.Port != natPort || u.Port == ln.Addr().(*net.TCPAddr).Port {
		t.Fatalf("URI %s does not carry the NAT port %d", u, natPort)
	}
	ctx := context.Background()
	nsp, err := pyro.NewProxyURI(ns.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nsp.Close()
	unregister, err := RegisterAll(ctx, nsp, d, map[string]string{"example.nat": "nat.thing"})
	if err != nil {
		t.Fatal(err)
	}
	defer unregister(ctx)

	looked, err := nsp.Call(ctx, "lookup", "example.nat")
	if err != nil {
		t.Fatal(err)
	}
	if lu := looked.(pyro.URI); lu.Port != natPort {
		t.Fatalf("name server holds %s, not the NAT address", lu)
	}
	p, err := pyro.NewProxy("PYRONAME:example.nat@"+ns.URI().Location(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	before := fwd.Accepted()
	if v, err := p.Call(ctx, "where"); err != nil || v != "behind the NAT" {
		t.Fatalf("call through the NAT: %v %v", v, err)
	}
	if fwd.Accepted() <= before {
		t.Error("the call did not go through the forwarder")
	}
}
