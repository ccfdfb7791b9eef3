package pytest

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
)

// ESUnderTest is an event service under the shared scenarios below (the
// Python pyes.py or the Go events.Service): its URI and what the
// scenarios ask of it besides the wire.
type ESUnderTest struct {
	// URI is PYRO:Pyro.EventService@host:port.
	URI string
	// Removed reports whether the service has removed the subscriber with
	// this URI after failed deliveries.
	Removed func(subscriber string) bool
	// DroppedFor returns how many events the service has dropped for the
	// subscriber with this URI because its queue was full.
	DroppedFor func(subscriber string) int
}

// ESStarter starts an event service with the settings of o (both
// services read the same PyES) for the test.
type ESStarter func(t testing.TB, o PyES) ESUnderTest

// PyESStarter starts the Python event service (pyes.py).
func PyESStarter(t testing.TB, o PyES) ESUnderTest {
	es := StartPyEventService(t, o)
	return ESUnderTest{
		URI:     es.URI,
		Removed: func(u string) bool { return slices.Contains(es.Removed(), u) },
		DroppedFor: func(u string) int {
			return PyESStats(t, es.URI, o.Pyro5).DroppedBy[u]
		},
	}
}

// PyStats holds the Python service's stats().
type PyStats struct {
	Published, Delivered, Dropped, Removed int
	DroppedBy                              map[string]int `json:"dropped_by"`
}

// PyESStats calls stats() on the Python event service at uri.
func PyESStats(t testing.TB, uri string, pyro5 bool) PyStats {
	t.Helper()
	mod := "Pyro4"
	if pyro5 {
		mod = "Pyro5.api"
	}
	res := Cmd{Args: []string{"-c", "import sys, json, " + mod + " as P; print(json.dumps(P.Proxy(sys.argv[1]).stats()))", uri}, Pyro5: pyro5}.Run(t)
	var st PyStats
	if err := json.Unmarshal([]byte(lastLine(res.Stdout)), &st); err != nil {
		t.Fatalf("stats: %v\n%s%s", err, res.Stdout, res.Stderr)
	}
	return st
}

// CheckStream checks that evs hold exactly the publisher runner's n events
// on subject, in publish order, times never going back.
func CheckStream(t testing.TB, who string, evs []Event, subject string, n int) {
	t.Helper()
	var got []Event
	for _, e := range evs {
		if e.Subject == subject {
			got = append(got, e)
		}
	}
	if len(got) != n {
		t.Fatalf("%s: %d events on %q, want %d: %+v", who, len(got), subject, n, evs)
	}
	for i, e := range got {
		if e.Seq() != i {
			t.Fatalf("%s: event %d on %q has seq %d (out of order): %+v", who, i, subject, e.Seq(), got)
		}
		if i > 0 && e.Time < got[i-1].Time {
			t.Errorf("%s: time goes back at seq %d: %v < %v", who, i, e.Time, got[i-1].Time)
		}
	}
}

// ESFanoutScenario: over serializer ser, a Python publisher publishes to
// two subjects at once; an exact subscriber (subjects in other case,
// twice), a pattern subscriber, a slow one and one that dies all get what
// Pyro3's semantics promise: order, the same-time rule, delivery once,
// the slow one delaying nobody, the dead one removed while the others
// keep receiving.
func ESFanoutScenario(t *testing.T, start ESStarter, ser string) {
	const n = 20
	es := start(t, PyES{Serializer: ser, MaxFailures: 2, Backoff: 20 * time.Millisecond})
	exact := StartPySubscriber(t, PySub{ES: es.URI, Serializer: ser, Subjects: []string{"temp.lab1", "OTHER", "temp.LAB1"}})
	match := StartPySubscriber(t, PySub{ES: es.URI, Serializer: ser, Patterns: []string{`temp\.`, `^nomatch`}, PassAs: "str"})
	slow := StartPySubscriber(t, PySub{ES: es.URI, Serializer: ser, Subjects: []string{"Temp.Lab1"}, Slow: 100 * time.Millisecond, PassAs: "uri"})
	dead := StartPySubscriber(t, PySub{ES: es.URI, Serializer: ser, Subjects: []string{"temp.lab1"}, DeadAfter: 2})
	pub := RunPyPublisher(t, PyPub{ES: es.URI, Serializer: ser, Subjects: []string{"TEMP.LAB1", "Other", "unheard"}, N: n})
	if pub.Published != n {
		t.Fatalf("publisher: %+v", pub)
	}

	ex := exact.WaitEvents(t, 2*n)
	CheckStream(t, "exact", ex, "TEMP.LAB1", n)
	CheckStream(t, "exact", ex, "Other", n)
	// The same-time rule: both subjects of one publish carry one time.
	times := map[int][]float64{}
	for _, e := range ex {
		times[e.Seq()] = append(times[e.Seq()], e.Time)
	}
	for seq, ts := range times {
		if len(ts) != 2 || ts[0] != ts[1] {
			t.Errorf("publish %d: times %v, want two equal", seq, ts)
		}
	}
	m := match.WaitEvents(t, n)
	CheckStream(t, "match", m, "TEMP.LAB1", n)
	sl := slow.WaitEvents(t, n)
	CheckStream(t, "slow", sl, "TEMP.LAB1", n)
	// The slow subscriber never held the others up: the exact one had
	// everything before the slow one could have (19 × 100 ms of sleeps).
	if ex[len(ex)-1].Recv >= sl[len(sl)-1].Recv {
		t.Errorf("exact subscriber finished at %v, after the slow one (%v)", ex[len(ex)-1].Recv, sl[len(sl)-1].Recv)
	}
	// The dead one closed its daemon after 2 events; what is published
	// next cannot reach it, so the service retries and removes it.
	testkit.Eventually(t, "DEAD", func() bool { return len(dead.Lines("DEAD")) == 1 })
	RunPyPublisher(t, PyPub{ES: es.URI, Serializer: ser, Subjects: []string{"temp.lab1"}, N: 2, Name: "late"})
	testkit.Eventually(t, "dead subscriber removed", func() bool { return es.Removed(dead.URIs[0]) })
	if got := len(dead.Events(t)); got < 2 || got > n {
		t.Errorf("dead subscriber recorded %d events", got)
	}
	// The others kept receiving: the late events reach them.
	exact.WaitEvents(t, 2*n+2)
	match.WaitEvents(t, n+2)
	// Nothing more arrives than was published (subscribing twice
	// to a subject, in two cases, delivers once).
	time.Sleep(100 * time.Millisecond)
	if got := len(exact.Events(t)); got != 2*n+2 {
		t.Errorf("exact subscriber has %d events, want %d", got, 2*n+2)
	}
	if got := len(match.Events(t)); got != n+2 {
		t.Errorf("match subscriber has %d events, want %d", got, n+2)
	}
}

// ESUnsubscribeScenario: a subscriber that found the service through
// PYRONAME:Pyro.EventService (a Pyro4 name server at nsURI, where start
// registered it) unsubscribes after 3 events; what is published after
// its unsubscribe returned never reaches it, while another still gets
// everything.
func ESUnsubscribeScenario(t *testing.T, start ESStarter, nsURI string) {
	es := start(t, PyES{NameServer: nsURI})
	const name = "PYRONAME:Pyro.EventService"
	quitter := StartPySubscriber(t, PySub{ES: name, NameServer: nsURI, Subjects: []string{"a"}, Patterns: []string{"b.*"}, UnsubAfter: 3})
	stayer := StartPySubscriber(t, PySub{ES: name, NameServer: nsURI, Subjects: []string{"A", "B1"}})
	RunPyPublisher(t, PyPub{ES: name, NameServer: nsURI, Subjects: []string{"a", "b1"}, Each: true, N: 3})
	testkit.Eventually(t, "UNSUBSCRIBED", func() bool { return len(quitter.Lines("UNSUBSCRIBED 0")) == 1 })
	RunPyPublisher(t, PyPub{ES: es.URI, Subjects: []string{"a", "b1"}, Each: true, N: 6})
	st := stayer.WaitEvents(t, 9)
	if len(st) != 9 {
		t.Errorf("stayer: %d events", len(st))
	}
	// Every event published after the unsubscribe reached the stayer; the
	// quitter's stream ends with its third.
	if q := quitter.Events(t); len(q) != 3 {
		t.Errorf("quitter got %d events after unsubscribing at its 3rd: %+v", len(q), q)
	}
}

// freeze stops a subscriber process (SIGSTOP) until the returned func
// (also run at cleanup) continues it.
func freeze(t testing.TB, s *PySubscriber) (thaw func()) {
	t.Helper()
	if err := stopProcess(s.Pid()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			if err := continueProcess(s.Pid()); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(thaw)
	return thaw
}

// checkDeliveredOrDropped checks that each of n events published on one
// subject is, for s, either delivered (in order) or counted as dropped.
func checkDeliveredOrDropped(t testing.TB, es ESUnderTest, s *PySubscriber, n int) {
	t.Helper()
	dropped := es.DroppedFor(s.URIs[0])
	want := n - dropped
	evs := s.WaitEvents(t, want)
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq() <= evs[i-1].Seq() {
			t.Fatalf("%s: out of order after drops: %+v", s.URIs[0], evs)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if got := len(s.Events(t)); got != want {
		t.Errorf("%s: %d delivered + %d dropped != %d published", s.URIs[0], got, dropped, n)
	}
}

// ESFullQueueDropScenario: with a queue of 4 and no blocking, a frozen
// subscriber loses events (counted for it); for every subscriber each
// event is either delivered, in order, or counted as dropped for it.
func ESFullQueueDropScenario(t *testing.T, start ESStarter) {
	const n = 200
	es := start(t, PyES{QueueSize: 4, NoBlock: true, Timeout: 60 * time.Second})
	frozen := StartPySubscriber(t, PySub{ES: es.URI, Subjects: []string{"s"}})
	active := StartPySubscriber(t, PySub{ES: es.URI, Subjects: []string{"s"}})
	thaw := freeze(t, frozen)
	RunPyPublisher(t, PyPub{ES: es.URI, Subjects: []string{"s"}, N: n, Size: 64 << 10})
	if es.DroppedFor(frozen.URIs[0]) == 0 {
		t.Fatalf("nothing dropped for a frozen subscriber with a queue of 4")
	}
	thaw()
	for _, s := range []*PySubscriber{frozen, active} {
		checkDeliveredOrDropped(t, es, s, n)
	}
}

// ESBlockingQueueScenario: with a queue of 4 and blocking (Pyro3's
// default) with a short timeout, a publisher facing a frozen subscriber
// waits the block timeout for each event that does not fit, then drops
// it for that subscriber only (counted); the active subscriber gets all.
// Then, with a block timeout longer than the freeze, nothing is dropped:
// the publisher waits and every event arrives in order once thawed.
func ESBlockingQueueScenario(t *testing.T, start ESStarter) {
	const n, size = 60, 256 << 10
	const timeout = 100 * time.Millisecond
	t.Run("timeout", func(t *testing.T) {
		es := start(t, PyES{QueueSize: 4, BlockTimeout: timeout, Timeout: 60 * time.Second})
		frozen := StartPySubscriber(t, PySub{ES: es.URI, Subjects: []string{"s"}})
		active := StartPySubscriber(t, PySub{ES: es.URI, Subjects: []string{"s"}})
		thaw := freeze(t, frozen)
		pub := RunPyPublisher(t, PyPub{ES: es.URI, Subjects: []string{"s"}, N: n, Size: size})
		dropped := es.DroppedFor(frozen.URIs[0])
		if dropped == 0 {
			t.Fatalf("nothing dropped for a frozen subscriber with a queue of 4 (%d events of %d bytes)", n, size)
		}
		// The first dropped event cost its publish call the whole block
		// timeout (a lower bound: a slow machine only makes it longer).
		// pyes.py, as Pyro3, waits again for every later event; the Go
		// service drops them at once while the subscriber stays stalled
		// (it delivered nothing since), so that a frozen subscriber cannot
		// make every publish wait.
		if took := time.Duration((pub.End - pub.Start) * float64(time.Second)); took < timeout {
			t.Errorf("publishing took %v with %d events dropped: no publish waited the block timeout %v", took, dropped, timeout)
		}
		thaw()
		for _, s := range []*PySubscriber{frozen, active} {
			checkDeliveredOrDropped(t, es, s, n)
		}
	})
	t.Run("wait", func(t *testing.T) {
		es := start(t, PyES{QueueSize: 4, BlockTimeout: 10 * time.Minute, Timeout: 10 * time.Minute})
		frozen := StartPySubscriber(t, PySub{ES: es.URI, Subjects: []string{"s"}})
		thaw := freeze(t, frozen)
		// The frozen subscriber's queue and socket buffers fill up within
		// the first events (the "timeout" case shows they do); then the
		// publisher waits. Thaw it a second later, while it waits.
		timer := time.AfterFunc(time.Second, thaw)
		defer timer.Stop()
		RunPyPublisher(t, PyPub{ES: es.URI, Subjects: []string{"s"}, N: n, Size: size})
		if d := es.DroppedFor(frozen.URIs[0]); d != 0 {
			t.Errorf("%d events dropped with a blocking queue and a long timeout", d)
		}
		CheckStream(t, "thawed", frozen.WaitEvents(t, n), "s", n)
	})
}

// ESPyro5Scenario: Pyro5 peers (subscriber passed as a URI string,
// exact and pattern subscriptions, case-insensitive subjects).
func ESPyro5Scenario(t *testing.T, start ESStarter) {
	es := start(t, PyES{Pyro5: true})
	sub := StartPySubscriber(t, PySub{ES: es.URI, Pyro5: true, Subjects: []string{"X"}, Patterns: []string{"y"}, PassAs: "str"})
	RunPyPublisher(t, PyPub{ES: es.URI, Pyro5: true, Subjects: []string{"x", "YES", "no"}, N: 10})
	evs := sub.WaitEvents(t, 20)
	CheckStream(t, "pyro5", evs, "x", 10)
	CheckStream(t, "pyro5", evs, "YES", 10)
	if !strings.HasPrefix(es.URI, "PYRO:Pyro.EventService@127.0.0.1:") {
		t.Errorf("URI %q", es.URI)
	}
}
