package sqlstore

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/py"
)

// esChild is an event server in a child process (the test binary in
// helper mode).
type esChild struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
}

func startChild(t *testing.T, file string, port int) *esChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+file+" "+strconv.Itoa(port))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &esChild{cmd: cmd, stdin: stdin}
	t.Cleanup(c.kill)
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := sc.Scan() && sc.Text() == "READY"
		ready <- ok
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("event server child did not start")
		}
	case <-time.After(testbound.Scale(60 * time.Second)):
		t.Fatal("event server child did not start in time")
	}
	return c
}

// kill SIGKILLs the child and reaps it (idempotent).
func (c *esChild) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	c.stdin.Close()
	_ = c.cmd.Wait()
}

// rawSink records every event delivered to it, repeats included.
type rawSink struct {
	hold    atomic.Bool   // while set, a delivery waits for release
	release chan struct{} // closed to let held deliveries go on
	mu      sync.Mutex
	got     []rawEvent
	notify  chan struct{}
}

type rawEvent struct {
	seq int64
	n   int64 // the message: the publish number
}

func (k *rawSink) PyroExpose() pyro.Exposure { return pyro.Exposure{Oneway: []string{"event"}} }

func (k *rawSink) Event(ctx context.Context, ev *py.Dict) error {
	if k.hold.Load() {
		select {
		case <-k.release:
		case <-ctx.Done():
		}
	}
	seq, _ := ev.GetString("seq")
	msg, _ := ev.GetString("msg")
	s, _ := seq.(int64)
	var n int64
	if tup, ok := msg.(py.Tuple); ok && len(tup) == 2 {
		n, _ = tup[0].(int64)
	}
	k.mu.Lock()
	k.got = append(k.got, rawEvent{s, n})
	k.mu.Unlock()
	select {
	case k.notify <- struct{}{}:
	default:
	}
	return nil
}

func (k *rawSink) snapshot() []rawEvent {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]rawEvent(nil), k.got...)
}

// padSize pads each published message, so that the events the held
// subscriber does not read fill the socket buffers between the service
// and it, and the rest stays in the service (and its store).
const padSize = 32 << 10

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSIGKILLDuringBurst is the durability guarantee of sql:FILE: an
// event server in a child process is SIGKILLed while a publisher in this
// process publishes as fast as it can; restarted on the same file and
// port, it resumes, and the subscriber (which stopped taking events half
// way, so that the service holds a backlog at the kill) (a raw Pyro object here, that
// sees every delivery, repeats included) receives every event whose
// publish returned, in order; the only repeats are events delivered
// before the kill and not yet acknowledged in the store, at most
// events.AckBatch+1 of them, each carrying the "seq" it had before, so
// that dropping seqs already seen leaves every event once, in order.
//
//	go test -run TestSIGKILLDuringBurst -count=5 ./events/sqlstore
func TestSIGKILLDuringBurst(t *testing.T) {
	file := filepath.Join(t.TempDir(), "es.db")
	port := freePort(t)
	esURI := "PYRO:" + events.ObjectID + "@127.0.0.1:" + strconv.Itoa(port)
	child := startChild(t, file, port)

	cfg := pyro.BuiltinConfig()
	cfg.OnewayThreaded = false // one event at a time, in order
	d, err := pyro.NewDaemon(cfg, pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	sink := &rawSink{notify: make(chan struct{}, 1), release: make(chan struct{})}
	sinkURI, err := d.Register(sink, "")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = d.Serve(context.Background())
	}()
	t.Cleanup(func() {
		d.Close()
		<-served
	})

	ctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(3*time.Minute))
	defer cancel()
	es, err := pyro.NewProxy(esURI, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	if _, err := es.Call(ctx, "subscribe", "burst", sinkURI); err != nil {
		t.Fatal(err)
	}

	// the burst: publish 0, 1, 2, ... until a publish fails (the kill)
	killAfter := int64(150 + rand.IntN(150)) // below the 16 MiB queue bound (no drops)
	pad := make([]byte, padSize)
	var acked atomic.Int64 // publishes 0..acked-1 returned without error
	burstDone := make(chan struct{})
	go func() {
		defer close(burstDone)
		for n := int64(0); ; n++ {
			if _, err := es.Call(ctx, "publish", "burst", py.Tuple{n, pad}); err != nil {
				return
			}
			acked.Store(n + 1)
		}
	}()
	// after a few events the subscriber stops taking them: the socket
	// buffers fill, and the service's queue and the stored stream hold
	// the rest at the kill
	for acked.Load() < killAfter {
		if acked.Load() >= 10 {
			sink.hold.Store(true)
		}
		select {
		case <-burstDone:
			t.Fatalf("the burst stopped after %d publishes before the kill", acked.Load())
		case <-time.After(time.Millisecond):
		}
	}
	child.kill()
	<-burstDone
	close(sink.release)
	nAcked := acked.Load()
	before := len(sink.snapshot())
	t.Logf("killed after %d acknowledged publishes; %d events delivered before the kill", nAcked, before)

	// what the store holds for the subscriber at the kill (not yet
	// delivered, or delivered and not acknowledged)
	st, err := Open(file)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Pending(sinkURI.String())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) == 0 {
		t.Fatal("the store held no event for the subscriber at the kill: the test did not test resuming")
	}
	t.Logf("the store held %d events for the subscriber (publishes %v..%v)", len(stored),
		stored[0].Event.Msg.(py.Tuple)[0], stored[len(stored)-1].Event.Msg.(py.Tuple)[0])

	startChild(t, file, port)
	// one more event after the restart, through a new connection: once
	// it arrived, everything before it was delivered
	es2, err := pyro.NewProxy(esURI, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer es2.Close()
	const marker = -1
	if _, err := es2.Call(ctx, "publish", "burst", py.Tuple{int64(marker), []byte{}}); err != nil {
		t.Fatal(err)
	}
	for {
		got := sink.snapshot()
		if len(got) > 0 && got[len(got)-1].n == marker {
			break
		}
		select {
		case <-sink.notify:
		case <-ctx.Done():
			t.Fatalf("the marker event did not arrive: %d events received", len(got))
		}
	}
	got := sink.snapshot()

	// dedupe by seq; every seq above the last one seen is new
	var last int64
	var unique []rawEvent
	repeats := 0
	for _, e := range got {
		if e.seq <= 0 {
			t.Fatalf("event without a seq: %+v", e)
		}
		if e.seq <= last {
			repeats++
			continue
		}
		last = e.seq
		unique = append(unique, e)
	}
	// every acknowledged publish arrived once, in order, then perhaps
	// the one in flight at the kill, then the marker
	if len(unique) < int(nAcked)+1 {
		seen := map[int64]bool{}
		for _, e := range unique {
			seen[e.n] = true
		}
		var missing []int64
		for i := range nAcked {
			if !seen[i] {
				missing = append(missing, i)
			}
		}
		t.Logf("missing publishes: %v", missing)
		t.Fatalf("%d distinct events received, want at least the %d acknowledged ones and the marker", len(unique), nAcked)
	}
	for i := range nAcked {
		if unique[i].n != i {
			t.Fatalf("distinct event %d is publish %d, want %d (lost or out of order)", i, unique[i].n, i)
		}
	}
	rest := unique[nAcked:]
	if len(rest) == 2 && rest[0].n == nAcked {
		rest = rest[1:] // the publish in flight was stored before the kill
	}
	if len(rest) != 1 || rest[0].n != marker {
		t.Fatalf("after the acknowledged events: %+v, want [the in-flight publish] and the marker", rest)
	}
	if repeats > events.AckBatch+1 {
		t.Fatalf("%d events delivered twice, at most AckBatch+1 = %d allowed", repeats, events.AckBatch+1)
	}
	t.Logf("%d deliveries in all, %d repeats after the restart", len(got), repeats)
	if _, err := es2.Call(ctx, "unsubscribe", "burst", sinkURI); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
