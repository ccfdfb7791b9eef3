//go:build linux

package pyro

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/wire"
)

const (
	fdChildEnv   = "PYROGO_TEST_FD_CHILD"
	fdChildLimit = 1200 // the open-file limit of the child daemon
	idleAttack   = 1190 // idle connections the attacker opens
)

// TestIdleConnectionLockout: 1,190 idle connections to a daemon whose
// process may open 1,200 files used to lock every other client out (the
// daemon sat in accept's EMFILE back-off). Now a legitimate client is
// served: by default the daemon stays under its CONNECTION_CAP (derived
// from RLIMIT_NOFILE) and evicts the longest-idle connection for a new
// one; with the cap off it evicts one when accept fails with EMFILE. The
// daemon runs in a child process (this test binary re-executed) whose
// RLIMIT_NOFILE is lowered.
func TestIdleConnectionLockout(t *testing.T) {
	if os.Getenv(fdChildEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("opens 1,190 connections")
	}
	for _, mode := range []string{"cap", "emfile"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFDLimitChild$")
			cmd.Env = append(os.Environ(), fdChildEnv+"="+mode)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				stdin.Close()
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(testbound.Scale(10 * time.Second)):
					cmd.Process.Kill()
					<-done
				}
				if t.Failed() {
					t.Logf("child stderr:\n%s", stderr.String())
				}
			})
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			var addr string
			for addr == "" {
				l, ok := <-lines
				if !ok {
					t.Fatal("child exited before it was ready")
				}
				addr, _ = strings.CutPrefix(l, "READY ")
			}
			// the attack: idle connections that completed (or at least
			// sent) their CONNECT, never read, never closed
			conns := make([]net.Conn, 0, idleAttack)
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			connect, _ := wire.AppendMessage(nil, rawpyro.ConnectMessage("lc"), nil)
			for len(conns) < idleAttack {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatalf("attacker connection %d: %v", len(conns), err)
				}
				conns = append(conns, c)
				c.Write(connect)
			}
			time.Sleep(500 * time.Millisecond) // let the daemon take them in
			fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
			// a legitimate client is served
			u, _ := ParseURI("PYRO:lc@" + addr)
			p := newProxy(t, u, nil)
			ctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(20*time.Second))
			defer cancel()
			start := time.Now()
			v, err := p.Call(ctx, "echo", "legitimate")
			if err != nil || v != "legitimate" {
				t.Fatalf("legitimate client locked out: %v %v", v, err)
			}
			t.Logf("%s: child holds %d open files (limit %d) with %d idle connections made; legitimate call took %v",
				mode, len(fds), fdChildLimit, idleAttack, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestFDLimitChild is the daemon of TestIdleConnectionLockout; it runs
// only in the re-executed child.
func TestFDLimitChild(t *testing.T) {
	mode := os.Getenv(fdChildEnv)
	if mode == "" {
		t.Skip("runs as the child of TestIdleConnectionLockout")
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	rl.Cur = fdChildLimit
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	cfg := BuiltinConfig()
	if mode == "emfile" {
		cfg.ConnectionCap = -1
	}
	d, err := NewDaemon(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(newLCObj(), "lc"); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	fmt.Printf("READY %s\n", d.Addr())
	io.Copy(io.Discard, os.Stdin) // until the parent is done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.Shutdown(ctx)
	<-served
}
