package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
)

// startNSProcess runs the built `pyro ns` binary on a fixed port with the
// given storage and returns the process and the name server's URI.
func startNSProcess(t *testing.T, bin string, port int, storage string) (*exec.Cmd, <-chan struct{}, string) {
	t.Helper()
	cmd := exec.Command(bin, "ns", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-s", storage, "-x")
	cmd.Env = cleanEnviron()
	p := testkit.StartProcess(t, cmd, testkit.Prefix("URI = "))
	return p.Cmd, p.Exited, p.Ready
}

// TestNameServerDurability registers N names in `pyro ns -s sql:FILE`,
// SIGKILLs it right after the last reply, restarts it on the same file and
// finds all N: a register call that returned is on disk.
func TestNameServerDurability(t *testing.T) {
	bin := testkit.PyroCommand(t)
	db := filepath.Join(t.TempDir(), "names.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	const n = 50
	ctx := context.Background()

	cmd, exited, nsURI := startNSProcess(t, bin, port, "sql:"+db)
	ns, err := pyro.NewProxy(nsURI, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("durable.%03d", i)
		if _, err := ns.Call(ctx, "register", name, fmt.Sprintf("PYRO:obj%d@127.0.0.1:%d", i, 40000+i)); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	// the last reply is in; kill without any chance to flush
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	ns.Close()

	_, _, nsURI = startNSProcess(t, bin, port, "sql:"+db)
	ns2, err := pyro.NewProxy(nsURI, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ns2.Close()
	count, err := ns2.Call(ctx, "count")
	if err != nil || count != int64(n+1) {
		t.Fatalf("after restart count() = %v, %v; want %d (N names + Pyro.NameServer)", count, err, n+1)
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("durable.%03d", i)
		v, err := ns2.Call(ctx, "lookup", name)
		if err != nil {
			t.Fatalf("lookup %s after restart: %v", name, err)
		}
		if u, ok := v.(pyro.URI); !ok || u.Object != fmt.Sprintf("obj%d", i) {
			t.Errorf("lookup %s = %v", name, v)
		}
	}
}
