package pytest

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
)

// bySub splits events by subscriber object, keeping arrival order.
func bySub(evs []Event) map[int][]Event {
	out := map[int][]Event{}
	for _, e := range evs {
		out[e.Sub] = append(out[e.Sub], e)
	}
	return out
}

// checkStream checks that evs are exactly the publisher's n events on
// subject, in publish order, each with its publish time.
func checkStream(t *testing.T, who string, evs []Event, subject string, n int) {
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

// TestPyEventsFanout proves the Python peers against each other over every
// Pyro4 serializer: a publisher publishes to two subjects at once; an exact
// subscriber (subjects in other case), a pattern subscriber, a slow one and
// one that dies all get what Pyro3's semantics promise.
func TestPyEventsFanout(t *testing.T) {
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		t.Run(ser, func(t *testing.T) {
			const n = 20
			es := StartPyEventService(t, PyES{Serializer: ser, MaxFailures: 2, Backoff: 20 * time.Millisecond})
			exact := StartPySubscriber(t, PySub{ES: es.URI, Serializer: ser, Subjects: []string{"temp.lab1", "OTHER", "temp.LAB1"}})
			match := StartPySubscriber(t, PySub{ES: es.URI, Serializer: ser, Patterns: []string{`temp\.`, `^nomatch`}, PassAs: "str"})
			slow := StartPySubscriber(t, PySub{ES: es.URI, Serializer: ser, Subjects: []string{"Temp.Lab1"}, Slow: 100 * time.Millisecond, PassAs: "uri"})
			dead := StartPySubscriber(t, PySub{ES: es.URI, Serializer: ser, Subjects: []string{"temp.lab1"}, DeadAfter: 2})
			pub := RunPyPublisher(t, PyPub{ES: es.URI, Serializer: ser, Subjects: []string{"TEMP.LAB1", "Other", "unheard"}, N: n})
			if pub.Published != n {
				t.Fatalf("publisher: %+v", pub)
			}

			ex := exact.WaitEvents(t, 2*n)
			checkStream(t, "exact", ex, "TEMP.LAB1", n)
			checkStream(t, "exact", ex, "Other", n)
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
			checkStream(t, "match", m, "TEMP.LAB1", n)
			sl := slow.WaitEvents(t, n)
			checkStream(t, "slow", sl, "TEMP.LAB1", n)
			// The slow subscriber never held the others up: the exact one had
			// everything before the slow one could have (19 × 100 ms of sleeps).
			if ex[len(ex)-1].Recv >= sl[len(sl)-1].Recv {
				t.Errorf("exact subscriber finished at %v, after the slow one (%v)", ex[len(ex)-1].Recv, sl[len(sl)-1].Recv)
			}
			// The dead one closed its daemon after 2 events; what is published
			// next cannot reach it, so the service retries and removes it.
			testkit.Eventually(t, "DEAD", func() bool { return len(dead.Lines("DEAD")) == 1 })
			RunPyPublisher(t, PyPub{ES: es.URI, Serializer: ser, Subjects: []string{"temp.lab1"}, N: 2, Name: "late"})
			testkit.Eventually(t, "dead subscriber removed", func() bool { return slices.Contains(es.Removed(), dead.URIs[0]) })
			if got := len(dead.Events(t)); got < 2 || got > n {
				t.Errorf("dead subscriber recorded %d events", got)
			}
			// Nothing more arrives than was published (subscribing twice
			// to a subject, in two cases, delivers once).
			time.Sleep(100 * time.Millisecond)
			if got := len(exact.Events(t)); got != 2*n+2 {
				t.Errorf("exact subscriber has %d events, want %d", got, 2*n+2)
			}
			if got := len(match.Events(t)); got != n+2 {
				t.Errorf("match subscriber has %d events, want %d", got, n)
			}
		})
	}
}

// TestPyEventsUnsubscribe: a subscriber found and reached through
// PYRONAME:Pyro.EventService unsubscribes after 3 events; what is published
// after its unsubscribe returned never reaches it, while another still
// gets everything.
func TestPyEventsUnsubscribe(t *testing.T) {
	ns := StartNameServer(t, []string{"-n", "127.0.0.1", "-p", "0"})
	es := StartPyEventService(t, PyES{NameServer: ns.Ready})
	const name = "PYRONAME:Pyro.EventService"
	quitter := StartPySubscriber(t, PySub{ES: name, NameServer: ns.Ready, Subjects: []string{"a"}, Patterns: []string{"b.*"}, UnsubAfter: 3})
	stayer := StartPySubscriber(t, PySub{ES: name, NameServer: ns.Ready, Subjects: []string{"A", "B1"}})
	RunPyPublisher(t, PyPub{ES: name, NameServer: ns.Ready, Subjects: []string{"a", "b1"}, Each: true, N: 3})
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

// pyStats holds the Python service's stats().
type pyStats struct {
	Published, Delivered, Dropped, Removed int
	DroppedBy                              map[string]int `json:"dropped_by"`
}

func getPyStats(t *testing.T, uri string) pyStats {
	t.Helper()
	res := Cmd{Args: []string{"-c", "import sys, json, Pyro4; print(json.dumps(Pyro4.Proxy(sys.argv[1]).stats()))", uri}}.Run(t)
	var st pyStats
	if err := json.Unmarshal([]byte(lastLine(res.Stdout)), &st); err != nil {
		t.Fatalf("stats: %v\n%s%s", err, res.Stdout, res.Stderr)
	}
	return st
}

// TestPyEventsFullQueueDrops: with a queue of 4 and --noblock, a frozen
// subscriber loses events (counted for it); for every subscriber each
// event is either delivered, in order, or counted as dropped for it.
func TestPyEventsFullQueueDrops(t *testing.T) {
	const n = 200
	es := StartPyEventService(t, PyES{QueueSize: 4, NoBlock: true, Timeout: 60 * time.Second})
	frozen := StartPySubscriber(t, PySub{ES: es.URI, Subjects: []string{"s"}})
	active := StartPySubscriber(t, PySub{ES: es.URI, Subjects: []string{"s"}})
	if err := syscall.Kill(frozen.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	RunPyPublisher(t, PyPub{ES: es.URI, Subjects: []string{"s"}, N: n, Size: 64 << 10})
	st := getPyStats(t, es.URI)
	if st.DroppedBy[frozen.URIs[0]] == 0 {
		t.Fatalf("nothing dropped for a frozen subscriber with a queue of 4: %+v", st)
	}
	if err := syscall.Kill(frozen.Pid(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*PySubscriber{frozen, active} {
		want := n - st.DroppedBy[s.URIs[0]]
		evs := s.WaitEvents(t, want)
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq() <= evs[i-1].Seq() {
				t.Fatalf("%s: out of order after drops: %+v", s.URIs[0], evs)
			}
		}
		time.Sleep(100 * time.Millisecond)
		if got := len(s.Events(t)); got != want {
			t.Errorf("%s: %d delivered + %d dropped != %d published", s.URIs[0], got, st.DroppedBy[s.URIs[0]], n)
		}
	}
}

// TestPyEventsPyro5: the same service on Pyro5 with Pyro5 peers (the Go
// event server serves both; these are its Pyro5 counterparts).
func TestPyEventsPyro5(t *testing.T) {
	es := StartPyEventService(t, PyES{Pyro5: true})
	sub := StartPySubscriber(t, PySub{ES: es.URI, Pyro5: true, Subjects: []string{"X"}, Patterns: []string{"y"}, PassAs: "str"})
	RunPyPublisher(t, PyPub{ES: es.URI, Pyro5: true, Subjects: []string{"x", "YES", "no"}, N: 10})
	evs := sub.WaitEvents(t, 20)
	checkStream(t, "pyro5", evs, "x", 10)
	checkStream(t, "pyro5", evs, "YES", 10)
	if !strings.HasPrefix(es.URI, "PYRO:Pyro.EventService@127.0.0.1:") {
		t.Errorf("URI %q", es.URI)
	}
	_ = bySub
}

// TestPyFanoutBench measures the Python baseline of the fan-out benchmark.
// Only with PYROGO_PYBENCH=1:
//
//	PYROGO_PYBENCH=1 go test -run TestPyFanoutBench -v ./internal/pytest
func TestPyFanoutBench(t *testing.T) {
	if os.Getenv("PYROGO_PYBENCH") == "" {
		t.Skip("set PYROGO_PYBENCH=1 to run the fan-out benchmark")
	}
	RunFanout(t, []FanoutTarget{PyFanoutTarget}, 500, 100)
}
