//go:build linux

package events_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/testkit"
)

// The attack campaign runs the event server as a child process
// (events/internal/eschild: the Service with default settings in a
// daemon, built without the race detector) and reads its resident memory
// from /proc while it is attacked; a watchdog kills it once it passes the
// attack's bound, so a regression fails fast instead of taking the
// machine's memory.

// esChild is a running event server process.
type esChild struct {
	pid    int
	uri    string
	exited <-chan struct{}
	output fmt.Stringer
	kill   func()
	killed atomic.Bool
	peak   atomic.Int64
	stop   chan struct{}
}

// startESChild runs the event server with default settings plus the
// PYRO_* items in env, and watches its memory against limit until the
// test ends.
func startESChild(t *testing.T, limit int64, env ...string) *esChild {
	t.Helper()
	bin := testkit.GoBuild(t, "github.com/pyrogo/pyro/events/internal/eschild", true)
	cmd := exec.Command(bin)
	cmd.Env = append(pyroFreeEnv(), env...)
	p := testkit.StartProcess(t, cmd, testkit.Prefix("URI = "))
	c := &esChild{pid: p.Pid(), uri: p.Ready, exited: p.Exited, output: p.Output,
		kill: func() { _ = p.Cmd.Process.Kill() }, stop: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.watch(limit)
	}()
	t.Cleanup(func() {
		close(c.stop)
		<-done
	})
	return c
}

// pyroFreeEnv is the environment without PYRO_* items, so that the
// child runs with the built-in defaults whatever the caller's shell says.
func pyroFreeEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYRO_") {
			out = append(out, kv)
		}
	}
	return out
}

func (c *esChild) watch(limit int64) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.exited:
			return
		case <-tick.C:
		}
		rss, err := testkit.RSS(c.pid)
		if err != nil {
			continue
		}
		if rss > c.peak.Load() {
			c.peak.Store(rss)
		}
		if rss > limit {
			c.killed.Store(true)
			c.kill()
			return
		}
	}
}

// check fails the test if the server passed limit (VmHWM, the kernel's
// own peak) or is gone, and returns the peak.
func (c *esChild) check(t *testing.T, what string, limit int64) int64 {
	t.Helper()
	if c.killed.Load() {
		t.Fatalf("%s: the event server passed %d MiB resident and was killed", what, limit>>20)
	}
	hwm, err := testkit.PeakRSS(c.pid)
	if err != nil {
		t.Fatalf("%s: the event server is gone: %v; output:\n%s", what, err, c.output)
	}
	t.Logf("%s: event server peak resident memory %.1f MiB", what, testkit.MiB(hwm))
	if hwm > limit {
		t.Errorf("%s: peak resident memory %d MiB, want under %d MiB", what, hwm>>20, limit>>20)
	}
	return hwm
}

// honestServed checks that the event server at uri still serves: a new
// Go subscription to a subject of its own receives what a Go publisher
// sends it, within the hang bound.
func honestServed(t *testing.T, uri, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()
	subject := fmt.Sprintf("honest.%d", time.Now().UnixNano())
	s, err := events.Subscribe(ctx, uri, []string{subject})
	if err != nil {
		t.Fatalf("%s: an honest subscriber is refused: %v", what, err)
	}
	defer s.Close(context.Background())
	start := time.Now()
	if err := events.Publish(ctx, uri, []string{subject}, "still here"); err != nil {
		t.Fatalf("%s: an honest publisher is refused: %v", what, err)
	}
	for ev, err := range s.Events(ctx) {
		if err != nil {
			t.Fatalf("%s: the honest subscriber got nothing: %v", what, err)
		}
		if ev.Msg != "still here" {
			t.Fatalf("%s: honest subscriber got %+v", what, ev)
		}
		break
	}
	t.Logf("%s: an honest publish reached an honest subscriber in %v", what, time.Since(start).Round(time.Millisecond))
}
