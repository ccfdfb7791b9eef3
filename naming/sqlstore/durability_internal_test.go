package sqlstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/naming"
)

// The durability tests re-run the test binary as a child process that
// writes and is then killed with SIGKILL. These variables tell it what to
// do.
const (
	envChild = "SQLSTORE_TEST_CHILD" // "put" or "ns"
	envDB    = "SQLSTORE_TEST_DB"    // the database file
	envN     = "SQLSTORE_TEST_N"     // "put": how many names to report
)

// runChild runs the child's part when the environment asks for it and
// then exits; it returns false in a normal test run.
func runChild() bool {
	mode := os.Getenv(envChild)
	if mode == "" {
		return false
	}
	var err error
	switch mode {
	case "put":
		err = childPut(os.Getenv(envDB), os.Getenv(envN))
	case "ns":
		err = childNS(os.Getenv(envDB))
	default:
		err = fmt.Errorf("unknown child mode %q", mode)
	}
	fmt.Fprintln(os.Stderr, "child:", err)
	os.Exit(3)
	return true
}

// childPut puts n names, printing "put I" after each Put returns, then
// goes on writing other names until it is killed.
func childPut(path, nText string) error {
	n, err := strconv.Atoi(nText)
	if err != nil {
		return err
	}
	s, err := Open(path)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		name := fmt.Sprintf("durable.%d", i)
		if i >= n {
			name = fmt.Sprintf("extra.%d", i)
		}
		if err := s.Put(naming.Entry{Name: name, URI: fmt.Sprintf("PYRO:obj%d@localhost:%d", i, 1000+i), Metadata: []string{"durable", "n:" + strconv.Itoa(i)}}); err != nil {
			return err
		}
		if i < n {
			fmt.Printf("put %d\n", i) // os.Stdout is unbuffered
		}
	}
}

// childNS runs a Go name server on the file (as "pyro ns -s sql:FILE"
// does), prints "URI = ..." and serves until it is killed.
func childNS(path string) error {
	st, err := naming.OpenStorage("sql:" + path)
	if err != nil {
		return err
	}
	srv, err := naming.Start(pyro.BuiltinConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0),
		naming.WithStorage(st), naming.WithBroadcast(false))
	if err != nil {
		return err
	}
	fmt.Printf("URI = %s\n", srv.URI())
	<-srv.Done()
	return srv.Err()
}

// child is a running child process.
type child struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
	err   *strings.Builder
}

// startChild starts the test binary as a child in mode on the file path;
// it is killed in t.Cleanup if still running.
func startChild(t *testing.T, mode, path string, extraEnv ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+mode, envDB+"="+path)
	cmd.Env = append(cmd.Env, extraEnv...)
	c := &child{cmd: cmd, err: &strings.Builder{}}
	cmd.Stderr = c.err
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.kill() })
	c.lines = bufio.NewScanner(out)
	return c
}

// next returns the child's next stdout line; it fails the test if the
// child has ended.
func (c *child) next(t *testing.T) string {
	t.Helper()
	if !c.lines.Scan() {
		c.kill()
		t.Fatalf("child ended early: %v\n%s", c.cmd.ProcessState, c.err)
	}
	return c.lines.Text()
}

// kill sends SIGKILL and reaps the child.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// checkIntegrity runs SQLite's integrity check on the store's file.
func checkIntegrity(t *testing.T, s *Store) {
	t.Helper()
	var res string
	if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q, %v", res, err)
	}
	var fk int
	if err := s.db.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fk); err != nil || fk != 0 {
		t.Fatalf("foreign_key_check: %d rows, %v", fk, err)
	}
}

// A child Puts N names, printing a line after each Put returns, and is
// SIGKILLed as soon as the last line arrives (while it is already in the
// middle of further writes). All N names are in the file afterwards.
func TestDurabilitySIGKILLAfterPut(t *testing.T) {
	const n = 50
	path := filepath.Join(t.TempDir(), "ns.db")
	c := startChild(t, "put", path, envN+"="+strconv.Itoa(n))
	for i := range n {
		if got, want := c.next(t), fmt.Sprintf("put %d", i); got != want {
			t.Fatalf("child said %q, want %q", got, want)
		}
	}
	c.kill()
	if ws := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v\n%s", c.cmd.ProcessState, c.err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Logf("no -wal file after the kill (%v): everything was checkpointed", err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkIntegrity(t, s)
	for i := range n {
		name := fmt.Sprintf("durable.%d", i)
		e, ok, err := s.Get(name)
		want := []string{"durable", "n:" + strconv.Itoa(i)}
		slices.Sort(want)
		if err != nil || !ok || e.URI != fmt.Sprintf("PYRO:obj%d@localhost:%d", i, 1000+i) || !slices.Equal(e.Metadata, want) {
			t.Errorf("after SIGKILL: Get(%s) = %v, %v, %v", name, e, ok, err)
		}
	}
	extra, _ := s.ListPrefix("extra.")
	t.Logf("all %d names present after SIGKILL; the child had also committed %d more", n, len(extra))
}

// The same through the name server: a Go name server on sql:FILE in a
// child process, a Go client registers N names, the server is SIGKILLed
// right after the last reply, restarted on the same file, and has them
// all.
func TestDurabilityNameServerSIGKILL(t *testing.T) {
	const n = 40
	path := filepath.Join(t.TempDir(), "ns.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := func(c *child) *naming.Client {
		line := c.next(t)
		uri, ok := strings.CutPrefix(line, "URI = ")
		if !ok {
			t.Fatalf("child said %q", line)
		}
		cfg := pyro.BuiltinConfig()
		cfg.CommTimeout = 10 * time.Second
		p, err := pyro.NewProxy(uri, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return naming.NewClient(p)
	}
	c := startChild(t, "ns", path)
	ns := client(c)
	for i := range n {
		name := fmt.Sprintf("durable.ns.%d", i)
		if err := ns.Register(ctx, name, fmt.Sprintf("PYRO:obj%d@localhost:%d", i, 2000+i), false, []string{"tag" + strconv.Itoa(i%3)}); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	c.kill() // right after the last reply
	ns.P.Close()

	c2 := startChild(t, "ns", path)
	ns2 := client(c2)
	if cnt, err := ns2.Count(ctx); err != nil || cnt != n+1 {
		t.Errorf("count after restart = %d, %v; want %d", cnt, err, n+1)
	}
	for i := range n {
		name := fmt.Sprintf("durable.ns.%d", i)
		u, tags, err := ns2.LookupMetadata(ctx, name)
		if err != nil || u.String() != fmt.Sprintf("PYRO:obj%d@localhost:%d", i, 2000+i) || !slices.Equal(tags, []string{"tag" + strconv.Itoa(i%3)}) {
			t.Errorf("after restart: lookup(%s) = %v %v %v", name, u, tags, err)
		}
	}
	c2.kill()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkIntegrity(t, s)
	if got, _ := s.ListPrefix("durable.ns."); len(got) != n {
		t.Errorf("file has %d names, want %d", len(got), n)
	}
}
