package pytest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
)

// EventsDir returns testdata/events at the module root: the Python event
// service, subscriber and publisher runners (see their doc strings).
func EventsDir() string { return filepath.Join(ModuleRoot(), "testdata", "events") }

// eventsEnv returns the PYRO_* settings of an event peer: serializer as
// the serializer its proxies use ("" for the default) and, for Pyro4,
// every serializer accepted by its daemon (Pyro5 accepts all by itself).
func eventsEnv(pyro5 bool, serializer string, extra []string) []string {
	var env []string
	if serializer != "" {
		env = append(env, "PYRO_SERIALIZER="+serializer)
	}
	if !pyro5 {
		env = append(env, "PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack")
	}
	return append(env, extra...)
}

func eventsArgs(script string, pyro5 bool, args ...string) []string {
	out := []string{filepath.Join(EventsDir(), script)}
	if pyro5 {
		out = append(out, "--pyro5")
	}
	return append(out, args...)
}

// PyES configures StartPyEventService.
type PyES struct {
	// Pyro5 runs the service on Pyro5 (protocol 502) instead of Pyro4.
	Pyro5 bool
	// Serializer is PYRO_SERIALIZER for its calls to subscribers.
	Serializer string
	// QueueSize is the per-subscriber queue length (0: 1000, Pyro3's).
	QueueSize int
	// NoBlock drops events for a subscriber whose queue is full instead of
	// making the publisher wait up to BlockTimeout (0: 5 s).
	NoBlock      bool
	BlockTimeout time.Duration
	// MaxFailures (0: 3) failed deliveries in a row, retried after Backoff
	// (0: 50 ms) doubling, remove a subscriber; Timeout (0: 5 s) bounds
	// each call to a subscriber.
	MaxFailures int
	Backoff     time.Duration
	Timeout     time.Duration
	// NameServer, a name server URI, registers the service there as
	// Pyro.EventService.
	NameServer string
	// Env holds extra "KEY=value" settings.
	Env []string
}

// PyEventService is a running Python event service.
type PyEventService struct {
	*Server
	// URI is PYRO:Pyro.EventService@127.0.0.1:port.
	URI string
}

// Removed returns the URIs of the subscribers the service has removed
// after failed deliveries, in order.
func (es *PyEventService) Removed() []string {
	var out []string
	for _, l := range strings.Split(es.Output(), "\n") {
		if rest, ok := strings.CutPrefix(l, "REMOVED "); ok {
			uri, _, _ := strings.Cut(rest, " ")
			out = append(out, uri)
		}
	}
	return out
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// StartPyEventService runs testdata/events/pyes.py, the minimal Python
// event service with Pyro3's API, on 127.0.0.1 and a free port. It stops
// with the test.
func StartPyEventService(t testing.TB, o PyES) *PyEventService {
	t.Helper()
	var args []string
	if o.QueueSize > 0 {
		args = append(args, "--queuesize", strconv.Itoa(o.QueueSize))
	}
	if o.NoBlock {
		args = append(args, "--noblock")
	}
	if o.BlockTimeout > 0 {
		args = append(args, "--block-timeout", secs(o.BlockTimeout))
	}
	if o.MaxFailures > 0 {
		args = append(args, "--max-failures", strconv.Itoa(o.MaxFailures))
	}
	if o.Backoff > 0 {
		args = append(args, "--backoff", secs(o.Backoff))
	}
	if o.Timeout > 0 {
		args = append(args, "--timeout", secs(o.Timeout))
	}
	env := eventsEnv(o.Pyro5, o.Serializer, o.Env)
	if o.NameServer != "" {
		host, port := nsHostPort(t, o.NameServer)
		args = append(args, "--ns")
		env = append([]string{"PYRO_NS_HOST=" + host, "PYRO_NS_PORT=" + port}, env...)
	}
	s := Cmd{Args: eventsArgs("pyes.py", o.Pyro5, args...), Env: env, Pyro5: o.Pyro5}.Start(t)
	return &PyEventService{Server: s, URI: s.Ready}
}

// PySub configures StartPySubscriber.
type PySub struct {
	// ES is the event service: a PYRO: URI, or PYRONAME:Pyro.EventService
	// with NameServer set.
	ES         string
	NameServer string
	Pyro5      bool
	Serializer string
	// Subjects are subscribed with subscribe, Patterns with subscribeMatch.
	Subjects, Patterns []string
	// Count subscriber objects (0: 1) share the process's daemon.
	Count int
	// Slow is spent in every event call; DeadAfter events in all close the
	// daemon; UnsubAfter events make each object unsubscribe.
	Slow                  time.Duration
	DeadAfter, UnsubAfter int
	// PassAs is how a subscriber is sent: "proxy" (default), "uri", "str".
	PassAs string
	// Expect with Quiet: no event log, only a DONE line per object when it
	// has Expect events (see Subscriber.Done).
	Expect int
	Quiet  bool
	Env    []string
}

// PySubscriber is a running subscriber process.
type PySubscriber struct {
	*Server
	// URIs are the subscriber objects' URIs, object k at index k.
	URIs []string
	out  string
}

// Event is one event as a Python subscriber recorded it.
type Event struct {
	Sub     int     `json:"sub"`
	N       int     `json:"n"` // arrival index within Sub, from 1
	Subject string  `json:"subject"`
	Msg     any     `json:"msg"`
	MsgLen  int     `json:"msglen"`
	Time    float64 `json:"time"`
	Recv    float64 `json:"recv"`
	// EvSeq is the event's "seq" (a durable or shared event store's), 0
	// when it had none.
	EvSeq uint64 `json:"evseq"`
}

// Seq returns the "seq" of a message sent by the publisher runner, or -1.
func (e Event) Seq() int {
	if m, ok := e.Msg.(map[string]any); ok {
		if f, ok := m["seq"].(float64); ok {
			return int(f)
		}
	}
	return -1
}

// StartPySubscriber runs testdata/events/pysub.py and returns once every
// object is subscribed. It stops with the test.
func StartPySubscriber(t testing.TB, o PySub) *PySubscriber {
	t.Helper()
	args := []string{"--es", o.ES}
	for _, s := range o.Subjects {
		args = append(args, "--subject", s)
	}
	for _, p := range o.Patterns {
		args = append(args, "--match", p)
	}
	if o.Count > 0 {
		args = append(args, "--count", strconv.Itoa(o.Count))
	}
	if o.Slow > 0 {
		args = append(args, "--slow", secs(o.Slow))
	}
	if o.DeadAfter > 0 {
		args = append(args, "--dead-after", strconv.Itoa(o.DeadAfter))
	}
	if o.UnsubAfter > 0 {
		args = append(args, "--unsub-after", strconv.Itoa(o.UnsubAfter))
	}
	if o.PassAs != "" {
		args = append(args, "--pass-as", o.PassAs)
	}
	if o.Expect > 0 {
		args = append(args, "--expect", strconv.Itoa(o.Expect))
	}
	var out string
	if o.Quiet {
		args = append(args, "--quiet")
	} else {
		f, err := os.CreateTemp(t.TempDir(), "events-*.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
		out = f.Name()
		args = append(args, "--out", out)
	}
	env := eventsEnv(o.Pyro5, o.Serializer, o.Env)
	if o.NameServer != "" {
		host, port := nsHostPort(t, o.NameServer)
		env = append([]string{"PYRO_NS_HOST=" + host, "PYRO_NS_PORT=" + port}, env...)
	}
	s := Cmd{Args: eventsArgs("pysub.py", o.Pyro5, args...), Env: env, Pyro5: o.Pyro5}.Start(t)
	return &PySubscriber{Server: s, URIs: strings.Fields(s.Ready), out: out}
}

// Events returns the events recorded so far, in arrival order; a line
// still being written is left out.
func (s *PySubscriber) Events(t testing.TB) []Event {
	t.Helper()
	if s.out == "" {
		t.Fatal("pytest: a quiet subscriber records no events")
	}
	data, err := os.ReadFile(s.out)
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			if !bytes.HasSuffix(data, []byte("\n")) && bytes.HasSuffix(data, line) {
				break // the last line is incomplete
			}
			t.Fatalf("pytest: bad event line %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// WaitEvents waits until the subscriber has recorded at least n events
// in all and returns them (failing the test after testkit.Bound).
func (s *PySubscriber) WaitEvents(t testing.TB, n int) []Event {
	t.Helper()
	var evs []Event
	testkit.Eventually(t, fmt.Sprintf("%d events at subscriber %v", n, s.URIs), func() bool {
		evs = s.Events(t)
		return len(evs) >= n
	})
	return evs
}

// Lines returns the stdout/stderr lines that start with prefix.
func (s *Server) Lines(prefix string) []string {
	var out []string
	for _, l := range strings.Split(s.Output(), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

var doneLine = regexp.MustCompile(`^DONE (\d+) (\S+) (\S+)$`)

// Done returns, for each object that has printed its DONE line (see
// PySub.Expect), the arrival times of its first and last event.
func (s *PySubscriber) Done() map[int][2]float64 {
	out := map[int][2]float64{}
	for _, l := range s.Lines("DONE ") {
		m := doneLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		k, _ := strconv.Atoi(m[1])
		a, _ := strconv.ParseFloat(m[2], 64)
		b, _ := strconv.ParseFloat(m[3], 64)
		out[k] = [2]float64{a, b}
	}
	return out
}

// PyPub configures RunPyPublisher.
type PyPub struct {
	ES, NameServer string
	Pyro5          bool
	Serializer     string
	// Subjects are published together (one publish, one time) or, with
	// Each, one at a time in turn.
	Subjects []string
	Each     bool
	// N events (0: 1) with Size bytes of padding; Gap after every Burst.
	N, Size, Burst int
	Gap            time.Duration
	Name           string
	Env            []string
}

// PubResult is what the publisher runner reports.
type PubResult struct {
	Published  int     `json:"published"`
	Calls      int     `json:"calls"`
	Start, End float64 // epoch seconds around the publish loop
}

// RunPyPublisher runs testdata/events/pypub.py to completion and returns
// its report; a failed run fails the test.
func RunPyPublisher(t testing.TB, o PyPub) PubResult {
	t.Helper()
	args := []string{"--es", o.ES}
	for _, s := range o.Subjects {
		args = append(args, "--subject", s)
	}
	if o.Each {
		args = append(args, "--each")
	}
	if o.N > 0 {
		args = append(args, "--n", strconv.Itoa(o.N))
	}
	if o.Size > 0 {
		args = append(args, "--size", strconv.Itoa(o.Size))
	}
	if o.Burst > 0 {
		args = append(args, "--burst", strconv.Itoa(o.Burst), "--gap", secs(o.Gap))
	}
	if o.Name != "" {
		args = append(args, "--name", o.Name)
	}
	env := eventsEnv(o.Pyro5, o.Serializer, o.Env)
	if o.NameServer != "" {
		host, port := nsHostPort(t, o.NameServer)
		env = append([]string{"PYRO_NS_HOST=" + host, "PYRO_NS_PORT=" + port}, env...)
	}
	res := Cmd{Args: eventsArgs("pypub.py", o.Pyro5, args...), Env: env, Pyro5: o.Pyro5}.Run(t)
	var r struct {
		PubResult
		Start float64 `json:"start"`
		End   float64 `json:"end"`
	}
	if res.ExitCode != 0 || json.Unmarshal([]byte(lastLine(res.Stdout)), &r) != nil {
		t.Fatalf("pypub.py failed (exit %d):\n%s\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	r.PubResult.Start, r.PubResult.End = r.Start, r.End
	return r.PubResult
}
