package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// TestESSQLKill9PythonSubscriber: the durability promise of pyro es -s
// sql:FILE, end to end with the built command and a Python Pyro4
// subscriber. The subscriber is frozen (SIGSTOP) so the published events
// stay undelivered; a Go publisher publishes until pyro es is killed
// with SIGKILL in the middle of the burst; pyro es is started again on
// the same file and port; the subscriber is thawed. Every publish that
// returned must reach it, in the order published; repeats (events sent
// before the kill and not yet confirmed) are allowed, only after the
// first copy, and bounded.
func TestESSQLKill9PythonSubscriber(t *testing.T) {
	bin := testkit.PyroCommand(t)
	file := filepath.Join(t.TempDir(), "es.db")
	port := strconv.Itoa(testkit.FreeTCPPort(t))
	start := func() *testkit.Process {
		cmd := exec.Command(bin, "es", "-N", "-n", "127.0.0.1", "-p", port, "-s", "sql:"+file)
		p := testkit.StartProcess(t, cmd, testkit.Prefix("URI = "))
		if _, ok := p.Output.WaitLine("Event Server started.", p.Exited); !ok {
			t.Fatalf("pyro es not started:\n%s", p.Output)
		}
		return p
	}
	es := start()
	uri := "PYRO:" + events.ObjectID + "@127.0.0.1:" + port
	sub := pytest.StartPySubscriber(t, pytest.PySub{ES: uri, Subjects: []string{"lab.burst"}})
	pub, err := pyro.NewProxy(uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// the first events are delivered while the subscriber runs: then the
	// service has a connection to it, and writes what follows into the
	// socket buffers of a subscriber that does not read them yet (sent,
	// not confirmed: they come again after the restart)
	const before = 10
	for i := range before {
		if err := events.Publish(ctx, pub, []string{"lab.burst"}, map[string]any{"seq": i}); err != nil {
			t.Fatal(err)
		}
	}
	sub.WaitEvents(t, before)
	if err := syscall.Kill(sub.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	t.Cleanup(func() {
		if !thawed {
			_ = syscall.Kill(sub.Pid(), syscall.SIGCONT)
		}
	})

	const killAfter = 150
	acked := before
	killed := false
	for i := before; ; i++ {
		if i == killAfter {
			// SIGKILL while the next publishes are on their way
			go func() { _ = es.Cmd.Process.Kill() }()
			killed = true
		}
		if err := events.Publish(ctx, pub, []string{"lab.burst"}, map[string]any{"seq": i}); err != nil {
			if !killed {
				t.Fatalf("publish %d before the kill: %v", i, err)
			}
			break
		}
		acked++
		if i > killAfter+10000 {
			t.Fatal("pyro es survived SIGKILL")
		}
	}
	<-es.Exited
	t.Logf("%d publishes acknowledged before SIGKILL", acked)

	start() // same file, same port
	if err := syscall.Kill(sub.Pid(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	thawed = true
	// every acknowledged seq, in order of first arrival
	var firsts []int
	repeats := 0
	testkit.Eventually(t, strconv.Itoa(acked)+" distinct events at the Python subscriber", func() bool {
		seen := map[int]bool{}
		firsts, repeats = firsts[:0], 0
		for _, ev := range sub.Events(t) {
			s := ev.Seq()
			if seen[s] {
				repeats++
				continue
			}
			seen[s] = true
			firsts = append(firsts, s)
		}
		for i := range acked {
			if !seen[i] {
				return false
			}
		}
		return true
	})
	for i := range acked {
		if firsts[i] != i {
			t.Fatalf("arrival %d is seq %d: acknowledged events out of order (%v)", i, firsts[i], firsts[:acked])
		}
	}
	// repeats: at most what was sent and not yet confirmed by the ping
	// that follows every events.AckBatch events (plus the one in flight)
	if repeats > 2*events.AckBatch+1 {
		t.Errorf("%d repeats", repeats)
	}
	t.Logf("all %d acknowledged events delivered after the restart, %d repeats, %d extra", acked, repeats, len(firsts)-acked)
}
