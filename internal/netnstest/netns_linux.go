//go:build linux

package netnstest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// VethPair is two network namespaces joined by a veth pair: A has
// 10.231.X.1/24, B has 10.231.X.2/24 and a default route over the link,
// so that broadcasts to 255.255.255.255 from B reach A. Both have their
// loopback interface up. They are deleted in t.Cleanup.
type VethPair struct {
	A, B         string // namespace names (for "ip netns exec")
	AddrA, AddrB string
}

// New creates the namespaces, or skips the test when the machine does
// not allow it (not root, no iproute2, no netns support).
func New(t testing.TB) *VethPair {
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
	id := nextID()
	sub := 1 + id%250
	v := &VethPair{
		A: fmt.Sprintf("pyrogo-a%d", id), B: fmt.Sprintf("pyrogo-b%d", id),
		AddrA: fmt.Sprintf("10.231.%d.1", sub), AddrB: fmt.Sprintf("10.231.%d.2", sub),
	}
	ifA, ifB := fmt.Sprintf("pga%d", id), fmt.Sprintf("pgb%d", id)
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", v.A); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() { ip("netns", "del", v.A) })
	if err := ip("netns", "add", v.B); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() { ip("netns", "del", v.B) })
	for _, step := range [][]string{
		{"link", "add", ifA, "type", "veth", "peer", "name", ifB},
		{"link", "set", ifA, "netns", v.A},
		{"link", "set", ifB, "netns", v.B},
		{"-n", v.A, "addr", "add", v.AddrA + "/24", "brd", "+", "dev", ifA},
		{"-n", v.B, "addr", "add", v.AddrB + "/24", "brd", "+", "dev", ifB},
		{"-n", v.A, "link", "set", ifA, "up"},
		{"-n", v.B, "link", "set", ifB, "up"},
		{"-n", v.A, "link", "set", "lo", "up"},
		{"-n", v.B, "link", "set", "lo", "up"},
		{"-n", v.B, "route", "add", "default", "dev", ifB},
	} {
		if err := ip(step...); err != nil {
			t.Skipf("cannot set up the veth pair: %v", err)
		}
	}
	return v
}

var (
	idMu   sync.Mutex
	idNext int
)

// nextID numbers the pairs of one process (pid-based, so that parallel
// test processes differ).
func nextID() int {
	idMu.Lock()
	defer idMu.Unlock()
	idNext++
	return (os.Getpid()*7 + idNext) % 10000
}

// In runs f on a thread switched into namespace ns: sockets that f
// creates belong to ns (and keep belonging to it afterwards). The thread
// is switched back, or discarded if that fails.
func In(t testing.TB, ns string, f func()) {
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

// Run runs argv inside namespace ns with environment env (nil: the
// current one) and returns its stdout and stderr; a failure to run or a
// non-zero exit is a test error. It is killed after a minute.
func Run(t testing.TB, ns string, env []string, argv ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Errorf("%s in %s: %v\n%s", argv[0], ns, err, errb.String())
	}
	return out.String(), errb.String()
}

// Proc is a process started by Start.
type Proc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	errb  bytes.Buffer
	done  chan struct{}
}

// Lines returns the stdout lines read so far.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Stop sends SIGTERM, waits up to 20 s for the process to exit (then
// kills it) and returns its stdout lines.
func (p *Proc) Stop() []string {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	return p.Lines()
}

// Start starts argv inside namespace ns with environment env (nil: the
// current one) and waits up to 30 s for a stdout line starting with
// ready. The process is stopped in t.Cleanup.
func Start(t testing.TB, ns string, env []string, ready string, argv ...string) *Proc {
	t.Helper()
	// "ip netns exec" execs the command, so signals reach it
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Env = env
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedBuffer{mu: &p.mu, b: &p.errb}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	readyc := make(chan struct{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			if !signalled && strings.HasPrefix(sc.Text(), ready) {
				close(readyc)
				signalled = true
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() { p.Stop() })
	select {
	case <-readyc:
		return p
	case <-p.done:
		t.Fatalf("%s in %s exited before %q: stdout %q, stderr %s", argv[0], ns, ready, p.Lines(), p.stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s in %s: no %q line in 30 s: stdout %q, stderr %s", argv[0], ns, ready, p.Lines(), p.stderr())
	}
	return nil
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Proc) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stderr returns what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr() }

func (p *Proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}
