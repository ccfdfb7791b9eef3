package cluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
)

// attackSubjects returns n distinct subjects of size characters.
func attackSubjects(tag string, n, size int) []any {
	out := make([]any, n)
	for i := range out {
		s := fmt.Sprintf("%s.%d.", tag, i)
		out[i] = s + strings.Repeat("x", size-len(s))
	}
	return out
}

// TestAttackSubscriberBucketFill: a client of one instance subscribes
// subscriber URIs with long subject lists until refused, within that
// instance's limits, then grows its last record byte by byte, to fill
// the subscriber bucket every instance shares (and writes its heartbeats
// and cursors to). A full bucket refuses every write that is not a
// replacement by one no larger, and a larger replacement needs room for
// all of its new size: before, the bucket filled to within 172 bytes,
// and an honest subscriber's cursor (a record of some 300 bytes whose
// number grew) could no longer be written, so the log was never trimmed
// past it again and a takeover would send it everything again; a
// heartbeat whose counter grows a digit, and a new instance's first one,
// fail the same way once less is left. Now subscribes stop at three
// quarters of max_bytes: a new instance starts, and the honest
// subscriber of the other instance, subscribed before, is served leases
// later and its cursor follows.
func TestAttackSubscriberBucketFill(t *testing.T) {
	c := natstest.Start(t, 1)
	const limit = 4 << 20
	name := fmt.Sprintf("fill?max_bytes=%d&timeout=2s", limit) // the bucket and the log
	a := startEventServer(t, c, 0, name)
	b := startEventServer(t, c, 0, name)
	ctx, cancel := context.WithTimeout(context.Background(), 3*testkit.Bound())
	defer cancel()
	honest, err := events.Subscribe(ctx, b.srv.URI(), []string{"honest"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { honest.Close(context.Background()) })

	p, err := pyro.NewProxyURI(a.srv.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	used := func() int64 {
		st, err := b.st.kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int64(st.Bytes())
	}
	// large records first, then smaller ones to fill what is left
	accepted, refused := 0, ""
	k := 0
	var victim, old string // the last record accepted, and its first subject
	for _, size := range [][2]int{{700, 1000}, {100, 1000}, {10, 1000}, {1, 1000}, {1, 100}, {1, 10}} {
		for range 1000 {
			k++
			uri, subjects := fmt.Sprintf("PYRO:attack%d@127.0.0.1:1", k), attackSubjects(fmt.Sprint(k), size[0], size[1])
			if _, err := p.Call(ctx, "subscribe", subjects, uri); err != nil {
				refused = err.Error()
				break
			}
			accepted++
			victim, old = uri, subjects[0].(string)
		}
	}
	t.Logf("attacker: %d subscribers accepted, then %q; bucket %d bytes of %d", accepted, refused, used(), limit)
	if refused == "" {
		t.Fatal("the attacker was never refused")
	}
	// then to the byte: a subject of the last (small) record replaced by
	// a longer one (a record replaced needs room for all of its new
	// size)
	for step := 512; step > 0; {
		longer := old + strings.Repeat("y", step)
		if _, err := p.Call(ctx, "unsubscribe", []any{old}, victim); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Call(ctx, "subscribe", []any{longer}, victim); err == nil {
			old = longer
			continue
		}
		_, _ = p.Call(ctx, "subscribe", []any{old}, victim) // back (refused once past the bound)
		step /= 2
	}
	t.Logf("bucket after filling to the byte: %d bytes of %d", used(), limit)

	// a new instance writes its first heartbeat
	st, err := OpenEvents(rotated(c, 0, name), WithLease(testLease))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := events.Start(nil, events.WithStore(st), events.WithServerHost("127.0.0.1"))
	if err != nil {
		t.Fatalf("a new instance did not start: %v", err)
	}
	srv.Close()

	// two leases: instances that cannot write their heartbeats fence
	// themselves within half of one
	time.Sleep(2 * testLease)
	for i, es := range []*esInstance{a, b} {
		es.st.mu.Lock()
		last := es.st.lastBeat
		es.st.mu.Unlock()
		if since := time.Since(last); since > es.st.fence {
			t.Errorf("instance %d: no heartbeat written for %v", i, since)
		}
	}
	r := collect(ctx, honest, 10)
	for i := range 10 {
		if err := events.Publish(ctx, a.srv.URI(), []string{"honest"}, fmt.Sprintf("0:%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	<-r.done
	checkAll(t, "honest subscriber", r.snapshot(), 1, 10)
	key := subKey(honest.URI().String())
	eventually(t, "the honest subscriber's cursor at its last event", func() bool {
		rec, _, err := b.st.get(ctx, key)
		return err == nil && rec.Cursor == r.seqs[len(r.seqs)-1]
	})
}

// TestAttackConcurrentSubscribesPassLimits: subscribes at one instance
// at the same time (many connections of one client) all pass the
// instance's limits, which count the subscribers the instance delivers
// to: before, each was checked before any of the others was applied, so
// that many together passed the limit. Now an instance takes its
// subscribes one at a time.
func TestAttackConcurrentSubscribesPassLimits(t *testing.T) {
	c := natstest.Start(t, 1)
	st, err := OpenEvents(c.Spec("concurrent"), WithLease(testLease))
	if err != nil {
		t.Fatal(err)
	}
	const limit = 2
	svc := events.NewService(nil, events.WithStore(st), events.WithMaxSubscribers(limit))
	defer svc.Close()
	ctx := context.Background()
	const n = 24
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			errs <- svc.Subscribe(ctx, "a", fmt.Sprintf("PYRO:s%d@127.0.0.1:1", i))
		}()
	}
	close(start)
	ok := 0
	for range n {
		if err := <-errs; err == nil {
			ok++
		}
	}
	if got := svc.Counters().Subscribers; ok > limit || got > limit {
		t.Fatalf("%d concurrent subscribes accepted, %d subscribers delivered to; the limit is %d", ok, got, limit)
	}
}

// TestAttackNATSSpecialSubjects: subjects and patterns that mean
// something to NATS (">", "*", spaces, NUL, dots) are data in the shared
// store (the log has one NATS subject, the bucket keys are hashes): a
// subscription of ">" or "*" at one instance gets the events of exactly
// that subject published at another, no others; a pattern matches as a
// regular expression.
func TestAttackNATSSpecialSubjects(t *testing.T) {
	c := natstest.Start(t, 1)
	a := startEventServer(t, c, 0, "special")
	b := startEventServer(t, c, 0, "special")
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()
	special := []string{">", "*", "a b", "x\x00y", "pyroes.special.events", "$KV.PYROES_special_subs.>"}
	var subs []*events.Subscription
	var recs []*received
	for _, subj := range special {
		s, err := events.Subscribe(ctx, a.srv.URI(), []string{subj})
		if err != nil {
			t.Fatalf("subscribe %q: %v", subj, err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		subs = append(subs, s)
		recs = append(recs, collect(ctx, s, 1))
	}
	pat, err := events.SubscribeMatch(ctx, a.srv.URI(), []string{`^>$`})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pat.Close(context.Background()) })
	prec := collect(ctx, pat, 1)
	// each subject once, plus subjects the special ones would match in NATS
	for _, subj := range append([]string{"a.b", "x", "a", "pyroes.special"}, special...) {
		if err := events.Publish(ctx, b.srv.URI(), []string{subj}, "0:0"); err != nil {
			t.Fatalf("publish %q: %v", subj, err)
		}
	}
	for i, r := range recs {
		<-r.done
		checkAll(t, fmt.Sprintf("subscriber of %q", special[i]), r.snapshot(), 1, 1)
	}
	<-prec.done
	checkAll(t, "pattern ^>$", prec.snapshot(), 1, 1)
	// nothing else arrives: one more event on every subject, each
	// subscriber gets exactly its own next
	for _, subj := range special {
		if err := events.Publish(ctx, b.srv.URI(), []string{subj}, "0:1"); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range subs {
		for ev, err := range s.Events(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.Subject != special[i] || ev.Msg != "0:1" {
				t.Fatalf("subscriber of %q got %q %v", special[i], ev.Subject, ev.Msg)
			}
			break
		}
	}
}

// TestAttackSubscribeUnsubscribeRace: one subscriber URI subscribed at
// instance A and unsubscribed at instance B over and over, from two
// connections at once. Afterwards the shared record decides alone: once
// subscribed at A (last), exactly A delivers to it, each event once and
// in order; once unsubscribed at B (last), no instance delivers to it
// any more (no ghost subscriber left behind at either).
func TestAttackSubscribeUnsubscribeRace(t *testing.T) {
	c := natstest.Start(t, 1)
	a := startEventServer(t, c, 0, "race")
	b := startEventServer(t, c, 0, "race")
	ctx, cancel := context.WithTimeout(context.Background(), 3*testkit.Bound())
	defer cancel()
	sub, err := events.Subscribe(ctx, a.srv.URI(), []string{"race"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close(context.Background()) })
	u := sub.URI().String()
	pa, err := pyro.NewProxyURI(a.srv.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	pb, err := pyro.NewProxyURI(b.srv.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	const rounds = 40
	done := make(chan error, 2)
	go func() {
		for range rounds {
			if _, err := pa.Call(ctx, "subscribe", []any{"race"}, u); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	go func() {
		for range rounds {
			if _, err := pb.Call(ctx, "unsubscribe", []any{"race"}, u); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	delivering := func() (int, int) {
		na, nb := 0, 0
		if _, ok := a.srv.Service().Stats().Subs[u]; ok {
			na = 1
		}
		if _, ok := b.srv.Service().Stats().Subs[u]; ok {
			nb = 1
		}
		return na, nb
	}
	// subscribed last at A
	if _, err := pa.Call(ctx, "subscribe", []any{"race"}, u); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A alone delivers", func() bool { na, nb := delivering(); return na == 1 && nb == 0 })
	// nothing was published during the race: every event once, in order
	r := collect(ctx, sub, 20)
	for i := range 20 {
		if err := events.Publish(ctx, b.srv.URI(), []string{"race"}, fmt.Sprintf("0:%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	<-r.done
	checkAll(t, "subscriber after the race", r.snapshot(), 1, 20)
	// unsubscribed last at B
	if _, err := pb.Call(ctx, "unsubscribe", []any{"race"}, u); err != nil {
		t.Fatal(err)
	}
	eventually(t, "no instance delivers", func() bool { na, nb := delivering(); return na == 0 && nb == 0 })
}

// TestAttackSubscriberIsAnotherInstance: a client subscribes, at
// instance A, instance B's own event service (and B's daemon object) as
// the subscriber of a subject, then publishes on it. B takes A's
// deliveries as calls of a method it does not have: nothing is
// published or subscribed at B by them, and both instances go on
// serving an honest subscriber.
func TestAttackSubscriberIsAnotherInstance(t *testing.T) {
	c := natstest.Start(t, 1)
	a := startEventServer(t, c, 0, "loop")
	b := startEventServer(t, c, 0, "loop")
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()
	pa, err := pyro.NewProxyURI(a.srv.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	bURI := b.srv.URI()
	daemonURI := bURI
	daemonURI.Object = pyro.DaemonObjectID
	for _, u := range []pyro.URI{bURI, daemonURI} {
		if _, err := pa.Call(ctx, "subscribe", []any{"loop"}, u.String()); err != nil {
			t.Fatalf("subscribe %s: %v", u, err)
		}
	}
	honest, err := events.Subscribe(ctx, b.srv.URI(), []string{"honest"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { honest.Close(context.Background()) })
	before := b.srv.Service().Counters()
	for i := range 50 {
		if err := events.Publish(ctx, a.srv.URI(), []string{"loop"}, i); err != nil {
			t.Fatal(err)
		}
	}
	r := collect(ctx, honest, 5)
	for i := range 5 {
		if err := events.Publish(ctx, a.srv.URI(), []string{"honest"}, fmt.Sprintf("0:%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	<-r.done
	checkAll(t, "honest subscriber", r.snapshot(), 1, 5)
	after := b.srv.Service().Counters()
	if after.Published != before.Published || after.Subscribers != before.Subscribers {
		t.Fatalf("B's counters moved by A's deliveries: %+v, then %+v", before, after)
	}
	t.Logf("A: %+v", a.srv.Service().Counters())
}

// TestAttackHugePublishThroughLog: a publish larger than NATS's
// max_payload (1 MiB by default; Pyro's MAX_MESSAGE_SIZE is 64 MiB) is
// refused with an error naming the limit, nothing of it reaches the log,
// and the instances go on serving; one just under the limit is
// delivered whole.
func TestAttackHugePublishThroughLog(t *testing.T) {
	c := natstest.Start(t, 1)
	a := startEventServer(t, c, 0, "huge")
	b := startEventServer(t, c, 0, "huge")
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
	defer cancel()
	sub, err := events.Subscribe(ctx, b.srv.URI(), []string{"huge"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close(context.Background()) })
	last := func() uint64 {
		s, err := a.st.lastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := last()
	for _, size := range []int{2 << 20, 40 << 20} {
		err := events.Publish(ctx, a.srv.URI(), []string{"huge"}, make([]byte, size))
		if err == nil || !strings.Contains(err.Error(), "maximum payload") {
			t.Fatalf("a publish of %d bytes: %v, want an error naming the maximum payload", size, err)
		}
	}
	if got := last(); got != before {
		t.Fatalf("the log grew from %d to %d messages", before, got)
	}
	big := strings.Repeat("x", 900<<10)
	if err := events.Publish(ctx, a.srv.URI(), []string{"huge"}, big); err != nil {
		t.Fatal(err)
	}
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := ev.Msg.(string); !ok || m != big {
			t.Fatalf("got a %T, want the string of %d bytes", ev.Msg, len(big))
		}
		break
	}
}

// TestAttackIdleSubscribersReadLog: a client subscribes many subscriber
// URIs at one instance to a subject nobody publishes, then 20 events of
// 256 KiB are published on another subject. Before, every subscriber the
// instance delivers to read the whole log through a consumer of its own,
// matching or not: with 100 idle subscribers the instance took 519 MiB
// from NATS for a log of 5 MiB, a publish timed out and its heartbeats
// were late. Now the subscribers that have caught up share the
// instance's one tail reader: the bytes the instance takes from NATS
// (its connection's InBytes) stay within three times the log, whatever
// the number of subscribers, and a subscriber of the published subject
// gets every event, once, in order. PYROGO_ESATTACK_IDLE sets the number
// of idle subscribers (default 100; at most the instance's limit, 1024):
//
//	PYROGO_ESATTACK_IDLE=1000 go test -run TestAttackIdleSubscribersReadLog -v ./cluster
func TestAttackIdleSubscribersReadLog(t *testing.T) {
	many := 100
	if n, err := strconv.Atoi(os.Getenv("PYROGO_ESATTACK_IDLE")); err == nil && n > 0 {
		many = n
	}
	c := natstest.Start(t, 1)
	const events_, size = 20, 256 << 10
	for _, idle := range []int{0, many} {
		a := startEventServer(t, c, 0, fmt.Sprintf("idle%d", idle))
		svc := a.srv.Service()
		ctx, cancel := context.WithTimeout(context.Background(), 3*testkit.Bound())
		for i := range idle {
			if err := svc.Subscribe(ctx, "never", fmt.Sprintf("PYRO:idle%d@127.0.0.1:1", i)); err != nil {
				t.Fatal(err)
			}
		}
		honest, err := events.Subscribe(ctx, a.srv.URI(), []string{"other"}, events.WithBuffer(events_+1))
		if err != nil {
			t.Fatal(err)
		}
		got := collect(ctx, honest, events_)
		in0 := a.st.nc.Stats().InBytes
		var ru0, ru1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		failed := 0
		var gap time.Duration // longest time without a heartbeat written
		stop := make(chan struct{})
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				a.st.mu.Lock()
				gap = max(gap, time.Since(a.st.lastBeat))
				a.st.mu.Unlock()
			}
		}()
		start := time.Now()
		pad := strings.Repeat("x", size)
		for i := range events_ {
			if err := svc.Publish(ctx, "other", fmt.Sprintf("0:%d:%s", i, pad)); err != nil {
				failed++
				t.Logf("publish: %v", err)
			}
		}
		took := time.Since(start)
		msgs := got.waitUnpadded(ctx)
		// until every reader of this instance has read the log: what the
		// instance takes from NATS settles (less than 64 KiB a second:
		// the pull requests of idle readers)
		for prev := a.st.nc.Stats().InBytes; ctx.Err() == nil; {
			time.Sleep(time.Second)
			cur := a.st.nc.Stats().InBytes
			if cur-prev < 64<<10 {
				break
			}
			prev = cur
		}
		close(stop)
		<-watched
		in := a.st.nc.Stats().InBytes - in0
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
		t.Logf("%d idle subscribers, %d events of %d KiB published in %v (%d failed): the instance took %.1f MiB from NATS; process CPU %v; longest heartbeat gap %v (fenced past %v); consumers of Reads %d",
			idle, events_, size>>10, took.Round(time.Millisecond), failed, float64(in)/(1<<20), cpu.Round(time.Millisecond), gap.Round(time.Millisecond), a.st.fence, a.st.readConsumers.Load())
		honest.Close(context.Background())
		a.srv.Close()
		cancel()
		checkAll(t, "the subscriber of the published subject", msgs, 1, events_)
		if log := int64(events_ * size); int64(in) > 3*log {
			t.Fatalf("with %d idle subscribers the instance took %d bytes from NATS for a log of %d: its subscribers each read the log", idle, in, log)
		}
	}
}
