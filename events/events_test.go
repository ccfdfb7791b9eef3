package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// startES runs a Service in a loopback daemon; everything stops at the
// test's end.
func startES(t *testing.T, opts ...events.Option) (*events.Service, pyro.URI) {
	t.Helper()
	return serveES(t, opts, pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
}

// serveES runs a Service with opts in a daemon with dopts until the test
// ends; the service closes after the daemon stopped.
func serveES(t *testing.T, opts []events.Option, dopts ...pyro.DaemonOption) (*events.Service, pyro.URI) {
	t.Helper()
	cfg := pyro.BuiltinConfig()
	svc := events.NewService(cfg, opts...)
	t.Cleanup(func() {
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	})
	return svc, pyrotest.Serve(t, cfg, events.ObjectID, svc, dopts...)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(60*time.Second))
	t.Cleanup(cancel)
	return ctx
}

func sub(t *testing.T, ctx context.Context, es pyro.URI, match bool, names ...string) *events.Subscription {
	t.Helper()
	var s *events.Subscription
	var err error
	if match {
		s, err = events.SubscribeMatch(ctx, es, names)
	} else {
		s, err = events.Subscribe(ctx, es, names)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// next reads n events from s.
func next(t *testing.T, ctx context.Context, s *events.Subscription, n int) []events.Event {
	t.Helper()
	var out []events.Event
	for ev, err := range s.Events(ctx) {
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		out = append(out, ev)
		if len(out) == n {
			break
		}
	}
	return out
}

func TestSubscribePublishCaseAndOnce(t *testing.T) {
	ctx := ctxT(t)
	_, es := startES(t)
	s := sub(t, ctx, es, false, "Lab.Temp", "lab.temp")
	// subscribing again, exact and by pattern: still one delivery
	sub(t, ctx, es, true, "nothing")
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	if _, err := p.Call(ctx, "subscribeMatch", "LAB\\.t", s.URI()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(ctx, "publish", []any{"LAB.TEMP", "other", "lab.temp"}, 21.5); err != nil {
		t.Fatal(err)
	}
	if err := events.Publish(ctx, es, []string{"end"}, nil); err != nil {
		t.Fatal(err)
	}
	got := next(t, ctx, s, 2)
	if got[0].Subject != "LAB.TEMP" || got[1].Subject != "lab.temp" || got[0].Msg != 21.5 {
		t.Fatalf("got %+v", got)
	}
	if got[0].Time != got[1].Time || got[0].Time < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Fatalf("times %v %v: want one publish time", got[0].Time, got[1].Time)
	}
	// nothing more: a marker published after proves no duplicate queued
	_, _ = p.Call(ctx, "subscribe", "marker", s.URI())
	_ = events.Publish(ctx, es, []string{"marker"}, "m")
	if ev := next(t, ctx, s, 1)[0]; ev.Subject != "marker" {
		t.Fatalf("duplicate delivery: %+v", ev)
	}
}

func TestSubscribeMatchAndUnsubscribe(t *testing.T) {
	ctx := ctxT(t)
	svc, es := startES(t)
	s := sub(t, ctx, es, true, "sensor\\.[0-9]+")
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	_, _ = p.Call(ctx, "subscribe", "marker", s.URI())
	for _, subj := range []string{"SENSOR.12", "xsensor.1", "sensor.x", "sensor.7.extra"} {
		_ = events.Publish(ctx, es, []string{subj}, subj)
	}
	got := next(t, ctx, s, 2)
	if got[0].Subject != "SENSOR.12" || got[1].Subject != "sensor.7.extra" {
		t.Fatalf("got %+v", got)
	}
	if _, err := p.Call(ctx, "unsubscribe", []any{"sensor\\.[0-9]+"}, s.URI()); err != nil {
		t.Fatal(err)
	}
	_ = events.Publish(ctx, es, []string{"sensor.1", "marker"}, nil)
	if ev := next(t, ctx, s, 1)[0]; ev.Subject != "marker" {
		t.Fatalf("after unsubscribe got %+v", ev)
	}
	// unsubscribing the last subject stops the subscriber
	_, _ = p.Call(ctx, "unsubscribe", "MARKER", s.URI())
	if n := svc.Stats().Subscribers; n != 0 {
		t.Fatalf("subscribers = %d after the last unsubscribe", n)
	}
}

func TestOrderPerPublisher(t *testing.T) {
	ctx := ctxT(t)
	_, es := startES(t)
	s := sub(t, ctx, es, false, "a", "b")
	const n = 300
	var wg sync.WaitGroup
	for _, subj := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _ := pyro.NewProxyURI(es, nil)
			defer p.Close()
			for i := range n {
				if _, err := p.Call(ctx, "publish", subj, i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	got := next(t, ctx, s, 2*n)
	wg.Wait()
	last := map[string]int{"a": -1, "b": -1}
	for _, ev := range got {
		i := int(ev.Msg.(int64))
		if i != last[ev.Subject]+1 {
			t.Fatalf("%s: %d after %d", ev.Subject, i, last[ev.Subject])
		}
		last[ev.Subject] = i
	}
}

// A dead subscriber is removed after its retries while a live one
// receives everything; a stuck one (never reads) gets its events dropped
// and counted without holding the others back.
func TestDeadAndStuckSubscribers(t *testing.T) {
	ctx := ctxT(t)
	svc, es := startES(t, events.WithQueue(10, false, 0), events.WithRetry(3, time.Millisecond, 5*time.Millisecond))
	live := sub(t, ctx, es, false, "x")
	stuck, err := events.Subscribe(ctx, es, []string{"x"}, events.WithBuffer(1))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close(context.Background())
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	// a subscriber URI where nothing listens
	if _, err := p.Call(ctx, "subscribe", "x", "PYRO:dead@127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	// 500 × 64 KiB: more than the socket buffers between the service and
	// the stuck subscriber can take, so its queue fills whatever the timing
	const n = 500
	pad := strings.Repeat("x", 64<<10)
	for i := range n {
		if err := events.Publish(ctx, p, []string{"x"}, []any{i, pad}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			// the live one keeps up: read as we go (its queue is 10)
			for range next(t, ctx, live, 1) {
			}
		}
	}
	_ = svc
	t.Logf("stats %+v", svc.Stats())
	st := svc.Stats()
	if st.Dropped == 0 {
		t.Errorf("no drops counted for the stuck subscriber: %+v", st)
	}
	if st.Removed != 1 {
		t.Errorf("removed = %d, want the dead subscriber", st.Removed)
	}
}

func TestHostileArguments(t *testing.T) {
	ctx := ctxT(t)
	_, es := startES(t, events.WithMaxPatterns(2, 3))
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	me := "PYRO:me@127.0.0.1:1"
	many := make([]any, events.MaxSubjectsPerCall+1)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	cases := []struct {
		method string
		args   []any
		want   string
	}{
		{"subscribeMatch", []any{"(a", me}, "ValueError: invalid regex"},
		{"subscribeMatch", []any{strings.Repeat("(a*)*", 3000), me}, "ValueError: patterns too long"},
		{"subscribeMatch", []any{"(?:a{1000}){1000}", me}, "ValueError: invalid regex"},
		{"subscribeMatch", []any{[]any{"a", "b", "c"}, me}, "ValueError: too many pattern subscriptions for this subscriber"},
		{"subscribe", []any{many, me}, "ValueError: too many subjects"},
		{"publish", []any{many, 1}, "ValueError: too many subjects"},
		{"publish", []any{strings.Repeat("s", events.MaxSubjectLen+1), 1}, "ValueError: subjects too long"},
		{"publish", []any{[]any{"a", 3}, 1}, "TypeError: subjects must be str"},
		{"publish", []any{42, 1}, "TypeError: subjects must be a str or a list of str"},
		{"subscribe", []any{"a", 42}, "TypeError: subscriber must be a Pyro proxy or URI"},
		{"subscribe", []any{"a", "not a uri"}, "TypeError: subscriber must be a Pyro proxy or URI"},
	}
	for _, c := range cases {
		_, err := p.Call(ctx, c.method, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.method, err, c.want)
		}
	}
	// still serving
	if _, err := p.Call(ctx, "publish", "a", 1); err != nil {
		t.Fatal(err)
	}
	var re *pyro.RemoteError
	_, err := p.Call(ctx, "subscribe", "a", 1)
	if !errors.As(err, &re) || re.Class() != "builtins.TypeError" {
		t.Fatalf("got %v", err)
	}
}

// A publish pays for its pattern matches from one budget: with the
// patterns a client may subscribe, a publish of many long subjects would
// cost a lot of matching under the service's lock; past the budget it is
// refused before anything is delivered, and the service keeps serving.
func TestPublishRegexBudget(t *testing.T) {
	ctx := ctxT(t)
	svc, es := startES(t, events.WithRegexBudget(1_000_000))
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	sub, err := events.SubscribeMatch(ctx, es, []string{"(a|b)*c", ".*x.*y"})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(ctx)
	long := make([]any, 200)
	for i := range long {
		long[i] = strings.Repeat("ab", events.MaxSubjectLen/2)
	}
	_, err = p.Call(ctx, "publish", long, 1)
	var re *pyro.RemoteError
	if !errors.As(err, &re) || re.Class() != "builtins.ValueError" || !strings.Contains(re.Message(), "work budget") {
		t.Fatalf("costly publish: %v", err)
	}
	if n := svc.Stats().Subs; len(n) != 1 {
		t.Fatalf("subscribers %v", n)
	}
	// a cheap publish is served and delivered
	if _, err := p.Call(ctx, "publish", "abc", "hi"); err != nil {
		t.Fatal(err)
	}
	for ev, err := range sub.Events(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Subject != "abc" || ev.Msg != "hi" {
			t.Fatalf("event %+v (the refused publish must deliver nothing)", ev)
		}
		break
	}
}
