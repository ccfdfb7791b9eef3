package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
)

// startNSProcess runs the built `pyro ns` binary on a fixed port with the
// given storage and returns the process and the name server's URI.
func startNSProcess(t *testing.T, bin string, port int, storage string) (*exec.Cmd, <-chan struct{}, string) {
	t.Helper()
	cmd := exec.Command(bin, "ns", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-s", storage, "-x")
	cmd.Env = cleanEnviron()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the process has been waited for
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select { // never block: nobody may be reading after a failure
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	timeout := time.After(waitLimit)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("pyro ns ended before printing its URI; stderr:\n%s", stderr.String())
			}
			if u, found := strings.CutPrefix(line, "URI = "); found {
				return cmd, exited, u
			}
		case <-timeout:
			t.Fatal("pyro ns printed no URI")
		}
	}
}

// TestNameServerDurability registers N names in `pyro ns -s sql:FILE`,
// SIGKILLs it right after the last reply, restarts it on the same file and
// finds all N: a register call that returned is on disk.
func TestNameServerDurability(t *testing.T) {
	bin := pyroBinary(t)
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
