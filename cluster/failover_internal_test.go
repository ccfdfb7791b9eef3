package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/naming"
)

// who is a remote object that says who it is.
type who struct{ name string }

func (w *who) Whoami() string { return w.name }

// TestFailoverNATSProcesses: three `pyro ns -s nats://...` processes on
// one bucket. A Go client whose NS_HOST lists them resolves PYRONAMEs
// without a pause while the name server it uses is SIGKILLed: no
// resolution fails (the resolver asks the next name server once when the
// one it used is lost), and names registered at a survivor afterwards
// resolve too; `pyro nsc -n LIST` answers from the survivors.
func TestFailoverNATSProcesses(t *testing.T) {
	start := time.Now()
	c := natstest.Start(t, 1) // one NATS node: name servers die here, not NATS
	const bucket = "failover"
	var nss []*nsProcess
	for range 3 {
		nss = append(nss, startNSProcess(t, testkit.FreeTCPPort(t), c.Spec(bucket)))
	}
	d := pyrotest.Start(t, pyro.BuiltinConfig(), pyro.WithHost("127.0.0.1"))
	svc := pyrotest.Register(t, d, "svc", &who{"svc"})
	ctx := context.Background()
	if _, err := nsProxy(t, nss[0].uri).Call(ctx, "register", "svc", svc.String()); err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, ns := range nss {
		hosts = append(hosts, "127.0.0.1:"+strconv.Itoa(ns.port))
	}
	cfg := pyro.BuiltinConfig()
	cfg.NSHost = strings.Join(hosts, ",")
	cfg.NSBcPort = testkit.FreeUDPPort(t) // broadcast finds nothing
	cfg.BroadcastAddrs = []string{"127.0.0.1"}
	for i := range nss {
		ns := nsProxy(t, nss[i].uri)
		testkit.Eventually(t, fmt.Sprintf("name server %d has svc", i), func() bool {
			u, err := lookupURI(ctx, ns, "svc")
			return err == nil && u == svc.String()
		})
	}

	// Which name server does the client use? The first of the list that
	// answers; kill that one while resolving.
	r := naming.NewResolver(naming.WithResolveTTL(0), naming.WithoutBroadcast())
	cfgProxy, err := pyro.NewProxy("PYRO:x@127.0.0.1:1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cfgProxy.Close()
	var resolved, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			u, err := r.Resolve(ctx, pyro.URI{Protocol: "PYRONAME", Object: "svc"}, cfgProxy)
			if err != nil || !u.Equal(svc) {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("%v %v", u, err))
				continue
			}
			resolved.Add(1)
		}
	})
	waitCount := func(n int64) {
		testkit.Eventually(t, fmt.Sprintf("%d resolutions", n), func() bool { return resolved.Load()+failed.Load() >= n })
	}
	waitCount(50)
	killedAt := resolved.Load()
	if err := nss[0].p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-nss[0].p.Exited
	waitCount(killedAt + 200)
	// A registration at a survivor reaches the other one too.
	if _, err := nsProxy(t, nss[2].uri).Call(ctx, "register", "svc.later", svc.String()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "svc.later resolves through the list", func() bool {
		u, err := r.Resolve(ctx, pyro.URI{Protocol: "PYRONAME", Object: "svc.later"}, cfgProxy)
		return err == nil && u.Equal(svc)
	})
	close(stop)
	wg.Wait()
	t.Logf("%d resolutions, %d before the SIGKILL", resolved.Load(), killedAt)
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d resolutions failed around the SIGKILL; first: %v", n, firstErr.Load())
	}
	// A PYRONAME proxy through the list calls the object.
	p, err := pyro.NewProxy("PYRONAME:svc", cfg, pyro.WithResolver(r))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got, err := pyro.CallT[string](ctx, p, "whoami"); err != nil || got != "svc" {
		t.Fatalf("PYRONAME proxy after the SIGKILL: %q %v", got, err)
	}

	// pyro nsc with the list: the dead one first.
	cmd := exec.Command(testkit.PyroCommand(t), "nsc", "-n", strings.Join(hosts, ","), "lookup", "svc.later")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PYRO_NS_BCPORT=" + strconv.Itoa(cfg.NSBcPort), "PYRO_BROADCAST_ADDRS=127.0.0.1"}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), svc.String()) {
		t.Fatalf("pyro nsc -n %s lookup svc.later: %v\n%s", strings.Join(hosts, ","), err, out)
	}
	t.Logf("test took %v", time.Since(start).Round(time.Millisecond))
}
