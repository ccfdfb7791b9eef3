//go:build linux

package events_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// frozenSubscribers starts n Python subscriber objects (one process) on
// subjects, has the event server connect to each (one event delivered to
// all), then freezes the process (SIGSTOP, continued at cleanup): n
// connections the server has set up and that never read again.
func frozenSubscribers(t *testing.T, uri string, n int, subjects ...string) *pytest.PySubscriber {
	t.Helper()
	ctx := ctxT(t)
	warm := "warm." + subjects[0]
	s := pytest.StartPySubscriber(t, pytest.PySub{ES: uri, Subjects: append([]string{warm}, subjects...), Count: n, Expect: 1, Quiet: true})
	if err := events.Publish(ctx, uri, []string{warm}, "warm"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "every frozen-to-be subscriber connected", func() bool { return len(s.Done()) == n })
	if err := syscall.Kill(s.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(s.Pid(), syscall.SIGCONT) })
	return s
}

// TestAttackHugeMessageFanout: one publish of a 60 MiB message (under
// the default MAX_MESSAGE_SIZE of 64 MiB) to 200 subscribers that the
// server has connected to and that then stop reading. Every delivery
// encodes the message for its subscriber and holds the encoding until it
// is written (up to the delivery timeout for a subscriber that does not
// read), so without a bound on the bytes being sent the server would
// hold 200 × 60 MiB = 12 GB; a second publish doubles it. The server's
// resident memory must stay under 512 MiB (the watchdog kills it above; it passed 1 GiB within 8 s before the send budget),
// and an honest publisher and subscriber are served meanwhile.
//
//	go test -run TestAttackHugeMessageFanout -v ./events
func TestAttackHugeMessageFanout(t *testing.T) {
	const (
		subs  = 200
		size  = 60 << 20
		limit = 512 << 20
	)
	c := startESChild(t, limit)
	frozenSubscribers(t, c.uri, subs, "big")
	ctx := ctxT(t)
	pub, err := pyro.NewProxy(c.uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	msg := strings.Repeat("x", size)
	for i := range 2 {
		if err := events.Publish(ctx, pub, []string{"big"}, msg); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		// let the deliveries start and pile up
		time.Sleep(3 * time.Second)
		c.check(t, "huge message fan-out", limit)
		honestServed(t, c.uri, "huge message fan-out")
	}
	c.check(t, "huge message fan-out", limit)
}
