//go:build linux

package naming

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
)

// vethPair is two network namespaces joined by a veth pair:
// A has 10.231.X.1/24, B has 10.231.X.2/24 and a default route over the
// link, so broadcasts to 255.255.255.255 from B reach A.
type vethPair struct {
	a, b         string // namespace names
	addrA, addrB string
}

// newVethPair creates the namespaces, or skips the test when the machine
// does not allow it (not root, no iproute2, no netns support).
func newVethPair(t *testing.T) *vethPair {
	t.Helper()
	if _, ok := setnsCall[runtime.GOARCH]; !ok {
		t.Skipf("setns system call number unknown on %s", runtime.GOARCH)
	}
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2)")
	}
	id := os.Getpid() % 10000
	sub := 1 + os.Getpid()%250
	v := &vethPair{
		a: fmt.Sprintf("pyrogo-a%d", id), b: fmt.Sprintf("pyrogo-b%d", id),
		addrA: fmt.Sprintf("10.231.%d.1", sub), addrB: fmt.Sprintf("10.231.%d.2", sub),
	}
	ifA, ifB := fmt.Sprintf("pga%d", id), fmt.Sprintf("pgb%d", id)
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", v.a); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() { ip("netns", "del", v.a) })
	if err := ip("netns", "add", v.b); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() { ip("netns", "del", v.b) })
	for _, step := range [][]string{
		{"link", "add", ifA, "type", "veth", "peer", "name", ifB},
		{"link", "set", ifA, "netns", v.a},
		{"link", "set", ifB, "netns", v.b},
		{"-n", v.a, "addr", "add", v.addrA + "/24", "brd", "+", "dev", ifA},
		{"-n", v.b, "addr", "add", v.addrB + "/24", "brd", "+", "dev", ifB},
		{"-n", v.a, "link", "set", ifA, "up"},
		{"-n", v.b, "link", "set", ifB, "up"},
		{"-n", v.a, "link", "set", "lo", "up"},
		{"-n", v.b, "link", "set", "lo", "up"},
		{"-n", v.b, "route", "add", "default", "dev", ifB},
	} {
		if err := ip(step...); err != nil {
			t.Skipf("cannot set up the veth pair: %v", err)
		}
	}
	return v
}

// inNetns runs f on a thread switched into namespace ns: sockets that f
// creates belong to ns (and keep belonging to it afterwards). The thread
// is switched back, or discarded if that fails.
func inNetns(t *testing.T, ns string, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		func() {
			defer func() { errc <- nil }()
			f()
		}()
		if setns(orig) == nil {
			runtime.UnlockOSThread() // else the thread dies with the goroutine
		}
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// setnsCall is the setns system call number per architecture (package
// syscall does not define it).
var setnsCall = map[string]uintptr{"amd64": 308, "arm64": 268, "riscv64": 268, "386": 346, "arm": 375, "ppc64le": 350, "s390x": 339}

func setns(f *os.File) error {
	nr, ok := setnsCall[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("setns: unknown system call number on %s", runtime.GOARCH)
	}
	_, _, e := syscall.RawSyscall(nr, f.Fd(), syscall.CLONE_NEWNET, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Broadcast discovery over a real (virtual) link between two network
// namespaces: a Go name server in A is found from B by Python's locateNS
// and by Go's Locate; a Python name server in A is found by Go's Locate.
func TestBroadcastAcrossNamespaces(t *testing.T) {
	v := newVethPair(t)
	bcPort := 19091 // namespaces are private, any port is free
	var srv *Server
	var err error
	inNetns(t, v.a, func() {
		srv, err = Start(testConfig(), WithHost(v.addrA), WithPort(0), WithBroadcastPort(bcPort))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Responder() == nil {
		t.Fatalf("no responder: %s", srv.NoBroadcastReason())
	}
	// Python client in B, default BROADCAST_ADDRS (<broadcast>, 0.0.0.0)
	stdout, stderr := runInNetns(t, v.b, []string{"PYRO_NS_BCPORT=" + strconv.Itoa(bcPort), "PYRO_NS_HOST=10.231.255.254", "PYRO_COMMTIMEOUT=3"},
		"-c", "import Pyro4\nns = Pyro4.locateNS()\nns.ping()\nprint(ns._pyroUri)\nprint(ns.lookup('Pyro.NameServer'))")
	want := srv.URI().String() + "\n" + srv.URI().String() + "\n"
	if stdout != want {
		t.Errorf("python locateNS from B: %q, want %q\nstderr: %s", stdout, want, stderr)
	}
	// Go client in B
	cfg := testConfig()
	cfg.NSBcPort = bcPort
	cfg.NSHost = "10.231.255.254"
	locateIn := func() (pyro.URI, error) {
		var u pyro.URI
		var err error
		inNetns(t, v.b, func() {
			var p *pyro.Proxy
			if p, err = Locate(context.Background(), cfg, "", 0, nil); err != nil {
				return
			}
			defer p.Close()
			var got pyro.URI
			if got, err = NewClient(p).Lookup(context.Background(), ObjectID); err == nil {
				u = got
			}
		})
		return u, err
	}
	if u, err := locateIn(); err != nil || !u.Equal(srv.URI()) {
		t.Errorf("go Locate from B: %v %v", u, err)
	}
	srv.Close()

	// Python name server in A, Go client in B
	pyPort := 19090
	startInNetns(t, v.a, "URI = ", "-m", "Pyro4.naming", "-n", v.addrA, "-p", strconv.Itoa(pyPort), "--bcport", strconv.Itoa(bcPort))
	u, err := locateIn()
	if err != nil || u.String() != fmt.Sprintf("PYRO:Pyro.NameServer@%s:%d", v.addrA, pyPort) {
		t.Errorf("go Locate of pyro4-ns from B: %v %v", u, err)
	}
}

// runInNetns runs python with args inside namespace ns and returns its
// output.
func runInNetns(t *testing.T, ns string, env []string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, pytest.Python(t), "-u"}, args...)...)
	cmd.Env = pytest.Env(env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Errorf("python in %s: %v\n%s", ns, err, errb.String())
	}
	return out.String(), errb.String()
}

// startInNetns starts python with args inside namespace ns and waits for
// a stdout line starting with ready; the process is killed in t.Cleanup.
func startInNetns(t *testing.T, ns, ready string, args ...string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, pytest.Python(t), "-u"}, args...)...)
	cmd.Env = pytest.Env()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	readerDone, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		cmd.Process.Kill()
		<-readerDone
		cmd.Wait()
	})
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, ready) {
				return
			}
		case <-readerDone:
			t.Fatalf("python in %s exited: %s", ns, errb.String())
		case <-timeout:
			t.Fatalf("python in %s not ready", ns)
		}
	}
}
