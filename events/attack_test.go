//go:build linux

package events_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
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

// TestAttackSubscriptionFlood: 1024 subscriber URIs (the default
// WithMaxSubscribers) each subscribe 1000 subjects of 1000 characters
// (1 MiB per call, within MaxSubjectsPerCall and MaxSubjectLen). Before
// the bound on exact subscriptions in all, the server kept every one, a
// gigabyte of subjects (killed above 384 MiB after some 300 calls); now
// calls past DefaultMaxSubscriptions are refused with a ValueError and
// the memory stays bounded, and a subscriber from before the flood is
// served; then 2400 new URIs churn (subscribeMatch, unsubscribe) from 8
// connections, and a new pattern subscriber is served after.
//
//	go test -run TestAttackSubscriptionFlood -v ./events
func TestAttackSubscriptionFlood(t *testing.T) {
	const limit = 384 << 20
	c := startESChild(t, limit)
	ctx := ctxT(t)
	p, err := pyro.NewProxy(c.uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// an honest subscriber from before the flood
	early, err := events.Subscribe(ctx, c.uri, []string{"early"})
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close(context.Background())
	subjects := make([]any, events.MaxSubjectsPerCall)
	accepted, refused := 0, 0
	for u := 0; u < events.DefaultMaxSubscribers && refused < 20; u++ {
		for i := range subjects {
			subjects[i] = fmt.Sprintf("%04d.%04d.%s", u, i, strings.Repeat("s", 990))
		}
		_, err := p.Call(ctx, "subscribe", subjects, fmt.Sprintf("PYRO:flood%d@127.0.0.1:1", u))
		var re *pyro.RemoteError
		switch {
		case err == nil:
			accepted++
		case errors.As(err, &re) && re.Class() == "builtins.ValueError" && strings.Contains(re.Message(), "too many subscriptions"):
			refused++
		case c.killed.Load():
			t.Fatalf("subscribe %d: the event server passed %d MiB resident and was killed", u, limit>>20)
		default:
			t.Fatalf("subscribe %d: %v", u, err)
		}
	}
	t.Logf("calls of 1000 subjects accepted %d, refused %d", accepted, refused)
	c.check(t, "subscription flood", limit)
	if refused == 0 {
		t.Errorf("no subscription refused")
	}
	// the subscriptions are a global resource: a new subscription is
	// refused while the flood holds them (SECURITY.md), but what was
	// subscribed is served
	if err := events.Publish(ctx, p, []string{"early"}, "still"); err != nil {
		t.Fatal(err)
	}
	for ev, err := range early.Events(ctx) {
		if err != nil || ev.Msg != "still" {
			t.Fatalf("the honest subscriber from before the flood got %+v, %v", ev, err)
		}
		break
	}

	// churn: subscribe and unsubscribe new URIs from 8 connections
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := pyro.NewProxy(c.uri, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer q.Close()
			for i := range 300 {
				u := fmt.Sprintf("PYRO:churn%d_%d@127.0.0.1:1", g, i)
				if _, err := q.Call(ctx, "subscribeMatch", []any{"churn.*", "x"}, u); err != nil {
					t.Error(err)
					return
				}
				if _, err := q.Call(ctx, "unsubscribe", []any{"churn.*", "x"}, u); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c.check(t, "subscription flood and churn", limit)
	// patterns are bounded apart from the subjects: a new pattern
	// subscriber is served
	hp, err := events.SubscribeMatch(ctx, c.uri, []string{"honest\\..*"})
	if err != nil {
		t.Fatalf("after the churn: %v", err)
	}
	defer hp.Close(context.Background())
	if err := events.Publish(ctx, p, []string{"honest.x"}, "hi"); err != nil {
		t.Fatal(err)
	}
	for ev, err := range hp.Events(ctx) {
		if err != nil || ev.Msg != "hi" {
			t.Fatalf("a pattern subscriber after the churn got %+v, %v", ev, err)
		}
		break
	}
}

// TestAttackUnreachableSubscribers: 500 subscriber URIs on a port where
// a listener never accepts (the connections wait in its backlog) and
// 500 on a closed port, all subscribed to one subject that is published
// 50 times. Each costs the server a goroutine, a connection attempt per
// try (the backlog ones until the delivery timeout) and retries until it
// is removed; an honest publisher and subscriber are served meanwhile and
// the memory stays bounded.
//
//	go test -run TestAttackUnreachableSubscribers -v ./events
func TestAttackUnreachableSubscribers(t *testing.T) {
	const limit = 256 << 20
	c := startESChild(t, limit)
	ctx := ctxT(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // never accepts
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	p, err := pyro.NewProxy(c.uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 500 {
		for _, addr := range []string{ln.Addr().String(), closedAddr} {
			if _, err := p.Call(ctx, "subscribe", "dead", fmt.Sprintf("PYRO:dead%d@%s", i, addr)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 50 {
		if err := events.Publish(ctx, p, []string{"dead"}, strings.Repeat("d", 1000)); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	honestServed(t, c.uri, "unreachable subscribers")
	time.Sleep(2 * time.Second)
	honestServed(t, c.uri, "unreachable subscribers, 2 s later")
	c.check(t, "unreachable subscribers", limit)
}

// TestAttackPublishFlood: 100 Python subscribers that stop reading (the
// server connected to each) and an honest Go subscriber share a subject
// that 16 connections flood with publishes of 64 KiB, half of them as
// oneway calls (the client sets the oneway flag: the daemon runs each in
// a goroutine of its own, up to ONEWAY_MAX, and stops reading the
// connection beyond ONEWAY_MAXCONN), with the default blocking queues.
// The frozen subscribers' queues fill (16 MiB each, 256 MiB in all, the
// events shared), the first publish to find them full waits
// ES_BLOCKTIMEOUT and the rest drop at once; the honest subscriber gets
// every event, each (two-way) publisher's in order; memory stays bounded.
//
//	go test -run TestAttackPublishFlood -v ./events
func TestAttackPublishFlood(t *testing.T) {
	const (
		limit = 768 << 20
		conns = 16
		each  = 200
	)
	c := startESChild(t, limit)
	frozenSubscribers(t, c.uri, 100, "flood")
	ctx := ctxT(t)
	honest, err := events.Subscribe(ctx, c.uri, []string{"flood"}, events.WithBuffer(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer honest.Close(context.Background())
	pad := strings.Repeat("p", 64<<10)
	var wg sync.WaitGroup
	for g := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := pyro.NewProxy(c.uri, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer q.Close()
			for i := range each {
				msg := map[string]any{"g": g, "i": i, "pad": pad}
				if g%2 == 0 {
					err = q.Oneway(ctx, "publish", "flood", msg)
				} else {
					_, err = q.Call(ctx, "publish", "flood", msg)
				}
				if err != nil {
					t.Errorf("publisher %d, publish %d: %v", g, i, err)
					return
				}
			}
		}()
	}
	// the honest subscriber gets every event, each publisher's in order
	last := map[int64]int64{}
	got := 0
	for ev, err := range honest.Events(ctx) {
		if err != nil {
			t.Fatalf("honest subscriber after %d events: %v", got, err)
		}
		d := ev.Msg.(*py.Dict)
		g, _ := d.GetString("g")
		i, _ := d.GetString("i")
		// a oneway publisher's calls run concurrently (ONEWAY_THREADED,
		// as in Pyro): only the others' are in order
		if g.(int64)%2 == 1 {
			if prev, ok := last[g.(int64)]; (ok && i.(int64) != prev+1) || (!ok && i.(int64) != 0) {
				t.Fatalf("publisher %v: event %v after %v", g, i, prev)
			}
			last[g.(int64)] = i.(int64)
		}
		if got++; got == conns*each {
			break
		}
	}
	wg.Wait()
	honestServed(t, c.uri, "publish flood")
	c.check(t, "publish flood", limit)
}
