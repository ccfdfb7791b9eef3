package naming

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/pyrogo/pyro"
)

// forwarder is a TCP port forwarder standing in for a NAT gateway: clients
// connect to its address, it relays to the daemon's real address.
type forwarder struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
	relays int
}

func newForwarder(t *testing.T, target string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, target: target}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, d)
			f.relays++
			f.mu.Unlock()
			f.wg.Add(2)
			go func() { defer f.wg.Done(); io.Copy(d, c); d.Close() }()
			go func() { defer f.wg.Done(); io.Copy(c, d); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *forwarder) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.relays
}

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
	fwd := newForwarder(t, ln.Addr().String())
	natHost, natPortText, _ := net.SplitHostPort(fwd.ln.Addr().String())
	natPort, _ := strconv.Atoi(natPortText)
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
	before := fwd.count()
	if v, err := p.Call(ctx, "where"); err != nil || v != "behind the NAT" {
		t.Fatalf("call through the NAT: %v %v", v, err)
	}
	if fwd.count() <= before {
		t.Error("the call did not go through the forwarder")
	}
}
