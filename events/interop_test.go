package events_test

import (
	"context"
	"fmt"
	"github.com/pyrogo/pyro/py"
	"os"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/pytest"
)

// goESStarter runs the Go Service in a Go daemon on 127.0.0.1 with the
// settings the shared scenarios give pyes.py (same defaults: block 5 s,
// 3 failures, 50 ms backoff, 5 s per delivery), registering it in the
// name server o.NameServer as Pyro.EventService when set. The daemon
// serves Pyro4 and Pyro5 clients on one port, so o.Pyro5 changes nothing.
func goESStarter(t testing.TB, o pytest.PyES, opts ...events.Option) (*events.Service, pytest.ESUnderTest) {
	t.Helper()
	cfg := pyro.BuiltinConfig()
	// as the Python peers' daemons (pytest's eventsEnv)
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	d, err := pyro.NewDaemon(cfg, pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	def := func(v, d time.Duration) time.Duration {
		if v <= 0 {
			return d
		}
		return v
	}
	size, failures := o.QueueSize, o.MaxFailures
	if size <= 0 {
		size = 1000
	}
	if failures <= 0 {
		failures = 3
	}
	scfg := cfg.Clone()
	scfg.CommTimeout = def(o.Timeout, 5*time.Second)
	all := []events.Option{
		events.WithQueue(size, !o.NoBlock, def(o.BlockTimeout, 5*time.Second)),
		events.WithRetry(failures, def(o.Backoff, 50*time.Millisecond), 5*time.Second),
	}
	if o.Serializer != "" {
		all = append(all, events.WithProxyOptions(pyro.WithSerializer(o.Serializer)))
	}
	svc := events.NewService(scfg, append(all, opts...)...)
	u, err := d.Register(svc, events.ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Serve(context.Background())
	}()
	t.Cleanup(func() {
		d.Close()
		<-done
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	})
	if o.NameServer != "" {
		ns, err := pyro.NewProxy(o.NameServer, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		if _, err := ns.Call(context.Background(), "register", events.ObjectID, u.String()); err != nil {
			t.Fatalf("registering in the name server: %v", err)
		}
	}
	return svc, pytest.ESUnderTest{
		URI: u.String(),
		Removed: func(sub string) bool {
			st := svc.Stats()
			_, present := st.Subs[sub]
			return st.Removed > 0 && !present
		},
		DroppedFor: func(sub string) int { return int(svc.Stats().Subs[sub].Dropped) },
	}
}

func goES(t testing.TB, o pytest.PyES) pytest.ESUnderTest {
	_, es := goESStarter(t, o)
	return es
}

// Python Pyro4 (and Pyro5) publishers and subscribers against the Go
// service: the scenarios the Python peers pass against pyes.py
// (internal/pytest/events_peers_internal_test.go), asserted alike.

func TestPyEventsFanoutGoES(t *testing.T) {
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		t.Run(ser, func(t *testing.T) { pytest.ESFanoutScenario(t, goES, ser) })
	}
}

func TestPyEventsUnsubscribeGoES(t *testing.T) {
	ns := pytest.StartNameServer(t, []string{"-n", "127.0.0.1", "-p", "0"})
	pytest.ESUnsubscribeScenario(t, goES, ns.Ready)
}

func TestPyEventsFullQueueDropsGoES(t *testing.T) { pytest.ESFullQueueDropScenario(t, goES) }

func TestPyEventsBlockingQueueGoES(t *testing.T) { pytest.ESBlockingQueueScenario(t, goES) }

func TestPyEventsPyro5GoES(t *testing.T) { pytest.ESPyro5Scenario(t, goES) }

// seqOf returns msg["seq"] of a publisher runner's message, or -1.
func seqOf(msg any) int {
	d, ok := msg.(*py.Dict)
	if !ok {
		return -1
	}
	switch v, _ := d.GetString("seq"); x := v.(type) {
	case int64:
		return int(x)
	case int:
		return x
	}
	return -1
}

// TestMixedGoPython: against the Go service and against pyes.py, a Go
// subscription receives a Python publisher's events (in order, both
// subjects of one publish with one time), and a Python subscriber
// receives a Go publisher's, over Pyro4 and Pyro5 peers.
func TestMixedGoPython(t *testing.T) {
	targets := map[string]pytest.ESStarter{"go": goES, "python": pytest.PyESStarter}
	for name, start := range targets {
		for _, pyro5 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/pyro5=%v", name, pyro5), func(t *testing.T) {
				const n = 30
				ctx := ctxT(t)
				es := start(t, pytest.PyES{Pyro5: pyro5})
				gsub, err := events.Subscribe(ctx, es.URI, []string{"Mixed.A"})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = gsub.Close(context.Background()) })
				// and a pattern, subscribed by its URI
				p, err := pyro.NewProxy(es.URI, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				if _, err := p.Call(ctx, "subscribeMatch", "MIXED\\.B", gsub.URI()); err != nil {
					t.Fatal(err)
				}
				psub := pytest.StartPySubscriber(t, pytest.PySub{ES: es.URI, Pyro5: pyro5, Subjects: []string{"go.pub"}})

				pytest.RunPyPublisher(t, pytest.PyPub{ES: es.URI, Pyro5: pyro5, Subjects: []string{"mixed.a", "mixed.b", "other"}, N: n})
				got := next(t, ctx, gsub, 2*n)
				next := map[string]int{}
				for i, ev := range got {
					if want := next[ev.Subject]; seqOf(ev.Msg) != want {
						t.Fatalf("event %d: %s seq %d, want %d (%+v)", i, ev.Subject, seqOf(ev.Msg), want, ev)
					}
					next[ev.Subject]++
					if i%2 == 1 && ev.Time != got[i-1].Time {
						t.Errorf("publish %d: times %v and %v", i/2, got[i-1].Time, ev.Time)
					}
				}
				if next["mixed.a"] != n || next["mixed.b"] != n {
					t.Fatalf("got %v", next)
				}

				for i := range n {
					if err := events.Publish(ctx, es.URI, []string{"GO.PUB"}, map[string]any{"seq": i, "from": "go"}); err != nil {
						t.Fatal(err)
					}
				}
				pytest.CheckStream(t, "python subscriber", psub.WaitEvents(t, n), "GO.PUB", n)
			})
		}
	}
}

// goFanoutTarget is the Go service in the fan-out benchmark.
var goFanoutTarget = pytest.FanoutTarget{Name: "go", Start: func(t testing.TB) string { return goES(t, pytest.PyES{}).URI }}

// TestFanoutBench measures the fan-out benchmark (one Python Pyro4
// publisher, 1, 10 and 100 Python Pyro4 subscribers), the Go service
// beside the Python one (pyes.py); then, in the same run, a Go publisher
// through the Go service to Go subscriptions (10 times the events), and
// a raw TCP fan-out of those events as the machine's ceiling. Only with
// PYROGO_PYBENCH=1:
//
//	PYROGO_PYBENCH=1 go test -run TestFanoutBench -v ./events
func TestFanoutBench(t *testing.T) {
	if os.Getenv("PYROGO_PYBENCH") == "" {
		t.Skip("set PYROGO_PYBENCH=1 to run the fan-out benchmark")
	}
	const n, size = 500, 100
	pytest.RunFanout(t, []pytest.FanoutTarget{pytest.PyFanoutTarget, goFanoutTarget}, n, size)
	// the Go service's own ceiling: a Go publisher and Go subscribers,
	// beside a raw TCP fan-out of the same events (no Pyro) on the same
	// machine
	for _, subs := range []int{1, 10, 100} {
		_, es := startES(t)
		g := goFanout(t, es, subs, 10*n, size)
		r := rawFanout(t, subs, 10*n, size)
		t.Log(g)
		t.Logf("%v (go-go at %.1f%% of raw)", r, 100*g.Rate()/r.Rate())
	}
}
