package pytest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
)

// FanoutTarget is one event server under the fan-out benchmark: Start
// runs it for the test and returns its URI (PYRO:Pyro.EventService@...).
// The Go event server joins by adding its own target beside PyFanoutTarget.
type FanoutTarget struct {
	Name  string
	Start func(t testing.TB) string
}

// PyFanoutTarget is the minimal Python Pyro4 event service (pyes.py).
var PyFanoutTarget = FanoutTarget{Name: "python-pyro4", Start: func(t testing.TB) string {
	return StartPyEventService(t, PyES{}).URI
}}

// FanoutResult is one measurement: Events published once, delivered to
// each of Subs subscribers, in Elapsed (from the first publish to the last
// arrival anywhere).
type FanoutResult struct {
	Target       string
	Subs, Events int
	Elapsed      time.Duration
}

// Rate is deliveries per second (events × subscribers / elapsed).
func (r FanoutResult) Rate() float64 { return float64(r.Events*r.Subs) / r.Elapsed.Seconds() }

func (r FanoutResult) String() string {
	return fmt.Sprintf("%-14s subs=%-4d events=%-5d %8.3fs %10.0f deliveries/s %8.0f events/s",
		r.Target, r.Subs, r.Events, r.Elapsed.Seconds(), r.Rate(), float64(r.Events)/r.Elapsed.Seconds())
}

// Fanout measures one Python Pyro4 publisher sending events (msg of size
// bytes) through the event server at uri to subs Python subscribers (all
// in one process, quiet) and waits until each has every event. It never
// fails on time, only on a hang (testkit.Bound per wait).
func Fanout(t testing.TB, target string, uri string, subs, events, size int) FanoutResult {
	t.Helper()
	s := StartPySubscriber(t, PySub{ES: uri, Subjects: []string{"bench"}, Count: subs, Expect: events, Quiet: true})
	defer s.Stop()
	pub := RunPyPublisher(t, PyPub{ES: uri, Subjects: []string{"bench"}, N: events, Size: size})
	var done map[int][2]float64
	testkit.Eventually(t, fmt.Sprintf("%d subscribers done", subs), func() bool {
		done = s.Done()
		return len(done) == subs
	})
	last := pub.End
	for _, d := range done {
		last = max(last, d[1])
	}
	return FanoutResult{Target: target, Subs: subs, Events: events, Elapsed: time.Duration((last - pub.Start) * float64(time.Second))}
}

// RunFanout runs Fanout for every target with 1, 10 and 100 subscribers
// and logs the results side by side.
func RunFanout(t *testing.T, targets []FanoutTarget, events, size int) []FanoutResult {
	var out []FanoutResult
	for _, subs := range []int{1, 10, 100} {
		for _, tg := range targets {
			uri := tg.Start(t)
			r := Fanout(t, tg.Name, uri, subs, events, size)
			t.Log(r)
			out = append(out, r)
		}
	}
	return out
}
