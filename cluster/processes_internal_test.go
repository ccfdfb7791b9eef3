package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// nsProcess is a `pyro ns -s nats://...` process.
type nsProcess struct {
	p    *testkit.Process
	uri  string
	port int
}

// startNSProcess runs the built pyro command's name server on port with
// the storage spec.
func startNSProcess(t *testing.T, port int, spec string) *nsProcess {
	t.Helper()
	cmd := exec.Command(testkit.PyroCommand(t), "ns", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-s", spec, "-x")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	p := testkit.StartProcess(t, cmd, testkit.Prefix("URI = "))
	return &nsProcess{p: p, uri: p.Ready, port: port}
}

// TestNameServerProcesses: three `pyro ns -s nats://...` processes on a
// cluster of three nats-server processes. Registrations acknowledged by
// one name server survive its SIGKILL (the others have them all); with a
// NATS node SIGKILLed as well, the surviving name servers keep resolving
// at once and take registrations again, for Go and Python clients; the
// killed name server, restarted, serves everything.
func TestNameServerProcesses(t *testing.T) {
	c := natstest.StartProcesses(t, 3)
	const bucket = "procs"
	var nss []*nsProcess
	for i := range 3 {
		nss = append(nss, startNSProcess(t, testkit.FreeTCPPort(t), rotated(c, i, bucket)))
	}
	ctx := context.Background()
	p0 := nsProxy(t, nss[0].uri)
	const n = 50
	for i := range n {
		if _, err := p0.Call(ctx, "register", fmt.Sprintf("acked.%02d", i), fmt.Sprintf("PYRO:o%d@127.0.0.1:%d", i, 10000+i)); err != nil {
			t.Fatalf("register %d: %v", i, err)
		}
	}
	// The last reply is in: SIGKILL the name server that acknowledged them.
	if err := nss[0].p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-nss[0].p.Exited
	p0.Close()
	others := []*nsProcess{nss[1], nss[2]}
	var px []*pyro.Proxy
	for _, ns := range others {
		px = append(px, nsProxy(t, ns.uri))
	}
	allThere := func(p *pyro.Proxy) bool {
		for i := range n {
			if u, err := lookupURI(ctx, p, fmt.Sprintf("acked.%02d", i)); err != nil || u != fmt.Sprintf("PYRO:o%d@127.0.0.1:%d", i, 10000+i) {
				return false
			}
		}
		return true
	}
	for j, p := range px {
		testkit.Eventually(t, fmt.Sprintf("surviving name server %d has every acknowledged registration", j), func() bool { return allThere(p) })
	}

	// SIGKILL a NATS node too.
	killed := time.Now()
	c.Nodes[1].Kill()
	for j, p := range px {
		if !allThere(p) {
			t.Fatalf("name server %d stopped resolving when a NATS node was killed", j)
		}
	}
	for j, p := range px {
		testkit.Eventually(t, "registering with a NATS node SIGKILLed", func() bool {
			_, err := p.Call(ctx, "register", fmt.Sprint("later.", j), "PYRO:later@127.0.0.1:1", true)
			return err == nil
		})
	}
	t.Logf("both surviving name servers registered again %v after the NATS node's SIGKILL", time.Since(killed))
	for j, p := range px {
		testkit.Eventually(t, fmt.Sprintf("name server %d sees both new registrations", j), func() bool {
			_, err1 := lookupURI(ctx, p, "later.0")
			_, err2 := lookupURI(ctx, p, "later.1")
			return err1 == nil && err2 == nil
		})
	}
	for _, ns := range others {
		got := runPy(t, false, pyLookup4, ns.uri, "acked.00", "acked.49", "later.0", "later.1")
		if len(got.Lookup) != 4 || got.Lookup["acked.49"] != "PYRO:o49@127.0.0.1:10049" {
			t.Fatalf("Pyro4 client on %s: %+v", ns.uri, got)
		}
	}

	// The killed name server comes back on its port and has it all.
	back := startNSProcess(t, nss[0].port, rotated(c, 0, bucket))
	pb := nsProxy(t, back.uri)
	testkit.Eventually(t, "restarted name server has everything", func() bool {
		if !allThere(pb) {
			return false
		}
		_, err1 := lookupURI(ctx, pb, "later.0")
		_, err2 := lookupURI(ctx, pb, "later.1")
		return err1 == nil && err2 == nil
	})
}
