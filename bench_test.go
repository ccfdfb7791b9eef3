package pyro_test

// Benchmarks: Go proxy -> Go daemon echo of a 48-character string, each
// next to a raw TCP ping-pong baseline with the same message sizes,
// measured in the same run:
//
//	go test -run X -bench . -benchtime 2s
//
// Metrics: calls/s (Pyro calls per second), rawtcp-calls/s (round trips per
// second of the baseline) and x-rawtcp: how many times longer a Pyro call
// takes than a bare TCP round trip of the same size (1.0 would be free
// serialization and dispatch), as the median over interleaved phase pairs
// of Pyro phase time ÷ raw phase time. Without stalls it equals
// rawtcp-calls/s ÷ calls/s; the median keeps one stalled phase (seen often
// on a loaded machine, for raw TCP as much as for Pyro) from skewing it.
//
// BenchmarkEchoSequential interleaves the baseline with the Pyro calls
// (256 raw round trips, timer stopped, after every 256 calls), so that both
// see the same load on a shared machine.
//
// BenchmarkEchoParallel32 runs 32 goroutines sharing ONE Proxy with
// WithMaxConns(32), so the proxy's connection pool is part of what is
// measured; its baseline is 32 goroutines each doing ping-pong on its own
// TCP connection. Phases of 2048 Pyro calls alternate with phases of as
// many raw round trips (timer stopped). (b.RunParallel is not used because
// it cannot interleave the baseline: on a shared 2-core machine, baselines
// measured before or after the run differed by 10x from one second to the
// next.)
//
// The Python client figures (Python proxy -> Go daemon vs -> Python's own
// echo server) come from TestPythonClientThroughput, which runs only with
// PYROGO_PYBENCH=1:
//
//	PYROGO_PYBENCH=1 go test -run TestPythonClientThroughput -v
//
// Nothing here fails on timing.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

const benchPayload = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL" // 48 characters

// benchEcho is a bare echo object. The benchmarks use it rather than
// echoserver.EchoServer, whose Echo formats py.Repr(message) for its
// verbose log even when verbose is off, so that the figures are pyrogo's
// own cost.
type benchEcho struct{}

func (*benchEcho) Echo(message any) any { return message }

const benchObject = "bench.echo"

// benchDaemon serves a benchEcho until the benchmark ends.
func benchDaemon(b *testing.B) pyro.URI {
	b.Helper()
	return pyrotest.Serve(b, pyrotest.Config(), benchObject, &benchEcho{})
}

// wireSizes returns the payload sizes of the echo request and reply as
// pyrogo puts them on the wire (the reply's CORR annotation included).
func wireSizes(b *testing.B, ser string) (req, resp int) {
	b.Helper()
	cd, err := codec.ForName(ser, codec.Options{})
	if err != nil {
		b.Fatal(err)
	}
	call, err := cd.MarshalCall(&codec.Call{Object: benchObject, Method: "echo", Args: []any{benchPayload}, Kwargs: py.NewDict(0)})
	if err != nil {
		b.Fatal(err)
	}
	res, err := cd.Marshal(benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	return len(call), len(res) + 4 + 2 + 16
}

func BenchmarkEchoSequential(b *testing.B) {
	for _, ser := range []string{"serpent", "msgpack", "marshal", "json"} {
		b.Run(ser, func(b *testing.B) {
			ctx := context.Background()
			p, err := pyro.NewProxyURI(benchDaemon(b), nil, pyro.WithSerializer(ser))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			if v, err := p.Call(ctx, "echo", benchPayload); err != nil || v != benchPayload {
				b.Fatal(v, err)
			}
			// The baseline runs interleaved with the Pyro calls (chunks of
			// rawChunk round trips with the timer stopped), so that both see
			// the same machine load.
			req, resp := wireSizes(b, ser)
			raw := newRawEcho(b).dial(b, req, resp)
			const rawChunk = 256
			var st phaseStats
			b.ReportAllocs()
			i := 0
			chunkStart := time.Now()
			for b.Loop() {
				v, err := p.Call(ctx, "echo", benchPayload)
				if err != nil || v != benchPayload {
					b.Fatal(v, err)
				}
				if i++; i%rawChunk == 0 {
					pyroTime := time.Since(chunkStart)
					b.StopTimer()
					st.add(rawChunk, pyroTime, raw.run(b, rawChunk))
					b.StartTimer()
					chunkStart = time.Now()
				}
			}
			if st.rawOps == 0 { // fewer calls than one chunk (the framework's probe)
				st.add(i, time.Since(chunkStart), raw.run(b, i))
			}
			st.report(b)
		})
	}
}

func BenchmarkEchoParallel32(b *testing.B) {
	const goroutines = 32
	for _, ser := range []string{"serpent", "msgpack"} {
		b.Run(ser, func(b *testing.B) {
			ctx := context.Background()
			p, err := pyro.NewProxyURI(benchDaemon(b), nil, pyro.WithSerializer(ser), pyro.WithMaxConns(goroutines))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			call := func(int) error {
				v, err := p.Call(ctx, "echo", benchPayload)
				if err == nil && v != benchPayload {
					err = fmt.Errorf("echo returned %v", v)
				}
				return err
			}
			req, resp := wireSizes(b, ser)
			re := newRawEcho(b)
			raws := make([]*rawClient, goroutines)
			for i := range raws {
				raws[i] = re.dial(b, req, resp)
			}
			rawCall := func(w int) error { return raws[w].roundTrip() }
			// open all pool connections before timing
			if err := runPhase(goroutines, goroutines*4, call); err != nil {
				b.Fatal(err)
			}
			// Phases of phaseCalls Pyro calls (timed) alternate with phases
			// of as many raw round trips (timer stopped), both on 32
			// goroutines, so both see the same machine load.
			const phaseCalls = goroutines * 64
			var st phaseStats
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(phaseCalls, b.N-done)
				start := time.Now()
				if err := runPhase(goroutines, n, call); err != nil {
					b.Fatal(err)
				}
				pyroTime := time.Since(start)
				done += n
				b.StopTimer()
				start = time.Now()
				if err := runPhase(goroutines, n, rawCall); err != nil {
					b.Fatal(err)
				}
				st.add(n, pyroTime, time.Since(start))
				b.StartTimer()
			}
			b.StopTimer()
			st.report(b)
			b.ReportMetric(goroutines, "goroutines")
		})
	}
}

// runPhase makes n calls of fn spread over the given number of goroutines
// (fn gets the goroutine's index) and returns the first error.
func runPhase(goroutines, n int, fn func(w int) error) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	for w := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := fn(w); err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// phaseStats pairs each phase of Pyro calls with the raw phase of the same
// size that followed it.
type phaseStats struct {
	rawOps  int
	rawTime time.Duration
	ratios  []float64 // Pyro phase time / raw phase time
}

func (s *phaseStats) add(n int, pyroTime, rawTime time.Duration) {
	s.rawOps += n
	s.rawTime += rawTime
	s.ratios = append(s.ratios, float64(pyroTime)/float64(rawTime))
}

// report adds calls/s (b.N over the timed duration), rawtcp-calls/s (all
// raw round trips over their total time) and x-rawtcp: the median over the
// phase pairs of Pyro time ÷ raw time, which a stall of the shared machine
// in a single phase cannot skew.
func (s *phaseStats) report(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(float64(s.rawOps)/s.rawTime.Seconds(), "rawtcp-calls/s")
	slices.Sort(s.ratios)
	m := s.ratios[len(s.ratios)/2]
	if len(s.ratios)%2 == 0 {
		m = (m + s.ratios[len(s.ratios)/2-1]) / 2
	}
	b.ReportMetric(m, "x-rawtcp")
}

// ---------------------------------------------------------------------------
// Raw TCP baseline: a Go echo server over loopback that reads a 24-byte
// header plus payload and answers with a 24-byte header plus the reply
// payload in one write, like a Pyro daemon; the client sends its request in
// one write and reads the whole reply through a bufio.Reader, like a proxy.
// The request and reply sizes are those of the Pyro messages compared with.

type rawEcho struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newRawEcho(b *testing.B) *rawEcho {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	r := &rawEcho{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				rawEchoServe(c)
			}()
		}
	}()
	b.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
		r.wg.Wait()
	})
	return r
}

func rawEchoServe(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 8192)
	hdr := make([]byte, wire.HeaderSize)
	var in, out []byte
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return
		}
		req := int(binary.BigEndian.Uint32(hdr[12:]))
		resp := int(binary.BigEndian.Uint32(hdr[16:]))
		if cap(in) < req {
			in = make([]byte, req)
		}
		if _, err := io.ReadFull(br, in[:req]); err != nil {
			return
		}
		if cap(out) < wire.HeaderSize+resp {
			out = make([]byte, wire.HeaderSize+resp)
		}
		out = out[:wire.HeaderSize+resp]
		copy(out, hdr)
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// rawClient is one ping-pong connection to a rawEcho.
type rawClient struct {
	c   net.Conn
	br  *bufio.Reader
	msg []byte
	in  []byte
}

func (r *rawEcho) dial(b *testing.B, req, resp int) *rawClient {
	b.Helper()
	c, err := net.Dial("tcp", r.ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	msg := make([]byte, wire.HeaderSize+req)
	copy(msg, "PYRO")
	binary.BigEndian.PutUint32(msg[12:], uint32(req))
	binary.BigEndian.PutUint32(msg[16:], uint32(resp))
	return &rawClient{c: c, br: bufio.NewReaderSize(c, 8192), msg: msg, in: make([]byte, wire.HeaderSize+resp)}
}

func (rc *rawClient) roundTrip() error {
	if _, err := rc.c.Write(rc.msg); err != nil {
		return err
	}
	_, err := io.ReadFull(rc.br, rc.in)
	return err
}

// run makes n round trips and returns how long they took.
func (rc *rawClient) run(b *testing.B, n int) time.Duration {
	start := time.Now()
	for range n {
		if err := rc.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// ---------------------------------------------------------------------------
// Python client throughput (opt-in)

// TestPythonClientThroughput runs testdata/interop/pybench.py, a Python
// Pyro4 client making N echo calls, against the Go echo server and against
// Python's own (python -m Pyro4.test.echoserver), for every serializer, and
// logs calls/s. Only with PYROGO_PYBENCH=1 (N from PYROGO_PYBENCH_N,
// default 5000); it never fails on the figures.
func TestPythonClientThroughput(t *testing.T) {
	if os.Getenv("PYROGO_PYBENCH") == "" {
		t.Skip("set PYROGO_PYBENCH=1 to run the Python client benchmark")
	}
	n := 5000
	if s := os.Getenv("PYROGO_PYBENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("PYROGO_PYBENCH_N=%q", s)
		}
	}
	pytest.Python(t)
	pyEcho := startPyEchoServer(t)
	goD, _ := startGoDaemon(t, nil)
	goEcho := goD.URIFor(echoserver.ObjectID).String()
	run := func(ser, uri string) float64 {
		res := pytest.Cmd{Args: []string{"testdata/interop/pybench.py", uri, strconv.Itoa(n)}, Env: []string{"PYRO_SERIALIZER=" + ser}}.Run(t)
		var out struct {
			Rate float64 `json:"calls_per_sec"`
		}
		if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil {
			t.Fatalf("pybench.py: exit %d\n%s\n%s", res.ExitCode, res.Stdout, res.Stderr)
		}
		return out.Rate
	}
	for _, ser := range pyrotest.Serializers {
		g, p := run(ser, goEcho), run(ser, pyEcho)
		t.Logf("%-8s Python client, %d calls: Go daemon %8.0f calls/s, Python echo server %8.0f calls/s, Go/Python %.2fx",
			ser, n, g, p, g/p)
	}
}

// TestPython5ClientThroughput is TestPythonClientThroughput for Python
// Pyro5 clients (protocol 502, testdata/interop5/pybench5.py): the Go echo
// server against Pyro5's own (python -m Pyro5.utils.echoserver), one
// client, sequential calls. Only with PYROGO_PYBENCH=1:
//
//	PYROGO_PYBENCH=1 go test -run TestPython5ClientThroughput -v
func TestPython5ClientThroughput(t *testing.T) {
	if os.Getenv("PYROGO_PYBENCH") == "" {
		t.Skip("set PYROGO_PYBENCH=1 to run the Python Pyro5 client benchmark")
	}
	n := 5000
	if s := os.Getenv("PYROGO_PYBENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("PYROGO_PYBENCH_N=%q", s)
		}
	}
	pytest.Pyro5(t)
	pyEcho := pytest.StartEchoServer5(t, pytest.Echo5{})
	goD, _ := startGoDaemon(t, nil)
	goEcho := goD.URIFor(echoserver.ObjectID).String()
	run := func(ser, uri string) float64 {
		res := pytest.Cmd{Args: []string{"testdata/interop5/pybench5.py", uri, strconv.Itoa(n)}, Env: []string{"PYRO_SERIALIZER=" + ser}, Pyro5: true}.Run(t)
		var out struct {
			Rate float64 `json:"calls_per_sec"`
		}
		if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil {
			t.Fatalf("pybench5.py: exit %d\n%s\n%s", res.ExitCode, res.Stdout, res.Stderr)
		}
		return out.Rate
	}
	for _, ser := range pyrotest.Serializers {
		g, p := run(ser, goEcho), run(ser, pyEcho)
		t.Logf("%-8s Python Pyro5 client, %d calls: Go daemon %8.0f calls/s, Pyro5 echo server %8.0f calls/s, Go/Python %.2fx",
			ser, n, g, p, g/p)
	}
}

// TestServerThroughput compares the Go echo server with Python's own
// (python -m Pyro4.test.echoserver) as separate processes driven by the
// same 32 concurrent Go clients: calls per second, and calls per second of
// server CPU time (user+system, from /proc), which is what a server costs
// independently of the client sharing the machine. Only with
// PYROGO_PYBENCH=1 (seconds per measurement from PYROGO_PYBENCH_SECONDS,
// default 3); it never fails on the figures.
func TestServerThroughput(t *testing.T) {
	if os.Getenv("PYROGO_PYBENCH") == "" {
		t.Skip("set PYROGO_PYBENCH=1 to run the server throughput comparison")
	}
	secs := 3.0
	if s := os.Getenv("PYROGO_PYBENCH_SECONDS"); s != "" {
		var err error
		if secs, err = strconv.ParseFloat(s, 64); err != nil || secs <= 0 {
			t.Fatalf("PYROGO_PYBENCH_SECONDS=%q", s)
		}
	}
	pytest.Python(t)
	py := pytest.Cmd{
		Args:  []string{"-m", "Pyro4.test.echoserver", "-H", "127.0.0.1"},
		Env:   []string{pyServerEnv},
		Ready: regexp.MustCompile(`^echo uri: (\S+)`),
	}.Start(t)
	goEcho := testkit.StartProcess(t, exec.Command(testkit.PyroCommand(t), "echoserver", "-H", "127.0.0.1"), testkit.Prefix("echo uri: "))
	msg := strings.Repeat("x", 48)
	measure := func(ser, uri string, pid int) (rate, perCPU float64) {
		const clients = 32
		p, err := pyro.NewProxy(uri, nil, pyro.WithSerializer(ser), pyro.WithMaxConns(clients))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		ctx := context.Background()
		if _, err := p.Call(ctx, "echo", msg); err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int64
		cpu0 := cpuSeconds(t, pid)
		start := time.Now()
		deadline := start.Add(time.Duration(secs * float64(time.Second)))
		var wg sync.WaitGroup
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					if _, err := p.Call(ctx, "echo", msg); err != nil {
						t.Error(err)
						return
					}
					calls.Add(1)
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start).Seconds()
		cpu := cpuSeconds(t, pid) - cpu0
		n := float64(calls.Load())
		return n / elapsed, n / cpu
	}
	for _, ser := range []string{"serpent", "marshal", "json"} {
		g, gc := measure(ser, goEcho.Ready, goEcho.Pid())
		p, pc := measure(ser, py.Ready, py.Pid())
		t.Logf("%-8s 32 Go clients: Go server %6.0f calls/s (%6.0f per CPU-second), Python server %6.0f calls/s (%6.0f per CPU-second); Go/Python %.1fx calls/s, %.1fx per CPU-second",
			ser, g, gc, p, pc, g/p, gc/pc)
	}
}

// cpuSeconds returns the CPU time a process has used; the test is
// skipped where /proc cannot tell.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	s, err := testkit.CPUSeconds(pid)
	if err != nil {
		t.Skip("no CPU time from /proc:", err)
	}
	return s
}
