package main

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/naming"
)

// lostNS answers ping, then drops the connection of every other call
// (a method raising a CommunicationError makes the daemon close the
// connection without a reply): a name server lost mid-command.
type lostNS struct{ calls atomic.Int32 }

func (n *lostNS) Ping() {}
func (n *lostNS) List(kw pyro.Kwargs) (any, error) {
	n.calls.Add(1)
	return nil, pyro.NewError(pyro.ErrConnectionClosed, "lost")
}
func (n *lostNS) Register(name, uri string, kw pyro.Kwargs) error {
	n.calls.Add(1)
	return pyro.NewError(pyro.ErrConnectionClosed, "lost")
}

func startLostNS(t *testing.T) (*lostNS, string) {
	t.Helper()
	d := pyrotest.Start(t, pyro.BuiltinConfig(), pyro.WithHost("127.0.0.1"))
	n := &lostNS{}
	u := pyrotest.Register(t, d, naming.ObjectID, n)
	return n, u.Host + ":" + strconv.Itoa(u.Port)
}

// pyro nsc with several name servers: -n and PYRO_NS_HOST lists are
// tried in order; a read-only command whose name server is lost is asked
// of the next one once; a command that changes something is not
// repeated.
func TestNSCFailover(t *testing.T) {
	ns1 := startNSCmd(t, nil, "-n", "127.0.0.1", "-p", "0", "-x")
	ns2 := startNSCmd(t, nil, "-n", "127.0.0.1", "-p", "0", "-x")
	loc := func(r *nsRun) string { return "127.0.0.1:" + strconv.Itoa(r.uri.Port) }
	dead := "127.0.0.1:" + strconv.Itoa(testkit.FreeTCPPort(t))
	env := cleanEnviron()
	for _, c := range []struct {
		ns   *nsRun
		name string
	}{{ns1, "one"}, {ns2, "two"}} {
		if out := nscRun(t, env, "", "-n", loc(c.ns), "register", "only."+c.name, "PYRO:x@127.0.0.1:1"); out.Exit != 0 || !strings.Contains(out.Stdout, "Registered") {
			t.Fatalf("register: %+v", out)
		}
	}
	// -n list: the first alive wins
	out := nscRun(t, env, "", "-n", dead+","+loc(ns1)+","+loc(ns2), "--strict", "list")
	if out.Exit != 0 || !strings.Contains(out.Stdout, "only.one") || strings.Contains(out.Stdout, "only.two") {
		t.Errorf("-n list: %+v", out)
	}
	// PYRO_NS_HOST list, after the first name server stopped
	ns1.stop(t)
	out = nscRun(t, cleanEnviron("PYRO_NS_HOST="+loc(ns1)+","+loc(ns2), "PYRO_NS_BCPORT="+strconv.Itoa(testkit.FreeUDPPort(t)), "PYRO_BROADCAST_ADDRS=127.0.0.1"), "", "--strict", "-v", "lookup", "only.two")
	if out.Exit != 0 || !strings.Contains(out.Stdout, "PYRO:x@127.0.0.1:1") || !strings.Contains(out.Stdout, "Name server found: "+ns2.uri.String()) {
		t.Errorf("PYRO_NS_HOST list: %+v", out)
	}
	// pyro call resolves PYRONAME through the list too
	code, stdout, stderr := callCmd(t, cleanEnviron("PYRO_NS_HOST="+loc(ns1)+","+loc(ns2), "PYRO_NS_BCPORT="+strconv.Itoa(testkit.FreeUDPPort(t)), "PYRO_BROADCAST_ADDRS=127.0.0.1"),
		"PYRONAME:"+naming.ObjectID, "lookup", "'only.two'")
	if code != 0 || !strings.Contains(stdout, "('PYRO', 'x', None, '127.0.0.1', 1)") {
		t.Errorf("pyro call PYRONAME with PYRO_NS_HOST list: %d %q %q", code, stdout, stderr)
	}
	// lost during a read-only command: asked once of the next one
	lost, lostLoc := startLostNS(t)
	out = nscRun(t, env, "", "-n", lostLoc+","+loc(ns2), "--strict", "list")
	if out.Exit != 0 || !strings.Contains(out.Stdout, "only.two") || !strings.Contains(out.Stderr, "asking "+ns2.uri.String()) || lost.calls.Load() != 1 {
		t.Errorf("list with a lost name server (%d calls to it): %+v", lost.calls.Load(), out)
	}
	// lost during register: not repeated elsewhere
	lost.calls.Store(0)
	out = nscRun(t, env, "", "-n", lostLoc+","+loc(ns2), "--strict", "register", "new.name", "PYRO:y@127.0.0.1:1")
	if out.Exit != exitRemote || !strings.Contains(out.Stdout, "Error: ConnectionClosedError") || !strings.Contains(out.Stderr, "not repeated") || lost.calls.Load() != 1 {
		t.Errorf("register with a lost name server (%d calls to it): %+v", lost.calls.Load(), out)
	}
	if out := nscRun(t, env, "", "-n", loc(ns2), "lookup", "new.name"); !strings.Contains(out.Stdout, "Error: NamingError") {
		t.Errorf("the register was repeated on the other name server: %+v", out)
	}
	// a bad list is a usage problem the message explains
	out = nscRun(t, env, "", "-n", "a,,b", "ping")
	if !strings.Contains(out.Stdout, "Error: Failed to locate the nameserver: invalid name server list: item 2 is empty") {
		t.Errorf("bad list: %+v", out)
	}
}
