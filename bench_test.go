package pyro_test

// Benchmarks: Go proxy -> Go daemon echo of a 48-character string, each
// next to a raw TCP ping-pong baseline with the same message sizes,
// measured in the same run:
//
//	go test -run X -bench . -benchtime 2s
//
// Metrics: calls/s (Pyro calls per second), rawtcp-calls/s (round trips per
// second of the baseline) and x-rawtcp = rawtcp-calls/s ÷ calls/s, i.e.
// how many times longer a Pyro call takes than a bare TCP round trip of the
// same size (1.0 would be free serialization and dispatch).
//
// BenchmarkEchoSequential interleaves the baseline with the Pyro calls
// (256 raw round trips, timer stopped, after every 256 calls), so that both
// see the same load on a shared machine.
//
// BenchmarkEchoParallel32 runs 32 goroutines (b.SetParallelism) sharing ONE
// Proxy with WithMaxConns(32), so the proxy's connection pool is part of
// what is measured; its baseline is 32 goroutines each doing ping-pong on
// its own TCP connection, measured for 0.3 s right before and right after
// the Pyro run and averaged.
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
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

const benchPayload = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL" // 48 characters

// benchDaemon serves a Go echo server until the benchmark ends.
func benchDaemon(b *testing.B) pyro.URI {
	b.Helper()
	cfg := pyro.BuiltinConfig()
	cfg.SerializersAccepted = allSerializers
	d, err := pyro.NewDaemon(cfg)
	if err != nil {
		b.Fatal(err)
	}
	u, err := d.Register(&echoserver.EchoServer{}, echoserver.ObjectID)
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	b.Cleanup(func() {
		d.Close()
		<-served
	})
	return u
}

// wireSizes returns the payload sizes of the echo request and reply as
// pyrogo puts them on the wire (the reply's CORR annotation included).
func wireSizes(b *testing.B, ser string) (req, resp int) {
	b.Helper()
	cd, err := codec.ForName(ser, codec.Options{})
	if err != nil {
		b.Fatal(err)
	}
	call, err := cd.MarshalCall(&codec.Call{Object: echoserver.ObjectID, Method: "echo", Args: []any{benchPayload}, Kwargs: py.NewDict(0)})
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
			var rawTime time.Duration
			rawOps := 0
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				v, err := p.Call(ctx, "echo", benchPayload)
				if err != nil || v != benchPayload {
					b.Fatal(v, err)
				}
				if i++; i%rawChunk == 0 {
					b.StopTimer()
					rawTime += raw.run(b, rawChunk)
					rawOps += rawChunk
					b.StartTimer()
				}
			}
			if rawOps == 0 {
				rawTime, rawOps = raw.run(b, rawChunk), rawChunk
			}
			reportRates(b, float64(rawOps)/rawTime.Seconds())
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
			if v, err := p.Call(ctx, "echo", benchPayload); err != nil || v != benchPayload {
				b.Fatal(v, err)
			}
			re := newRawEcho(b)
			req, resp := wireSizes(b, ser)
			// baseline: measured right before and right after the Pyro run
			// (not for the framework's 1-iteration probe) and averaged
			var before float64
			if b.N > 1 {
				before = re.parallel(b, goroutines, req, resp, 300*time.Millisecond)
			}
			par := (goroutines + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					v, err := p.Call(ctx, "echo", benchPayload)
					if err != nil || v != benchPayload {
						b.Error(v, err)
						return
					}
				}
			})
			b.StopTimer()
			if b.N > 1 {
				after := re.parallel(b, goroutines, req, resp, 300*time.Millisecond)
				reportRates(b, (before+after)/2)
			}
			b.ReportMetric(float64(par*runtime.GOMAXPROCS(0)), "goroutines")
		})
	}
}

func reportRates(b *testing.B, raw float64) {
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "calls/s")
	b.ReportMetric(raw, "rawtcp-calls/s")
	b.ReportMetric(raw/rate, "x-rawtcp")
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

// parallel runs conc ping-pong loops, one connection each, for about dur
// (after a short warm-up) and returns round trips per second.
func (r *rawEcho) parallel(b *testing.B, conc, req, resp int, dur time.Duration) float64 {
	b.Helper()
	clients := make([]*rawClient, conc)
	for i := range clients {
		clients[i] = r.dial(b, req, resp)
	}
	var (
		ops      atomic.Int64
		counting atomic.Bool
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for _, rc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if rc.roundTrip() != nil {
					return
				}
				if counting.Load() {
					ops.Add(1)
				}
			}
		}()
	}
	time.Sleep(dur / 5)
	counting.Store(true)
	start := time.Now()
	time.Sleep(dur)
	counting.Store(false)
	elapsed := time.Since(start)
	stop.Store(true)
	wg.Wait()
	for _, rc := range clients {
		rc.c.Close()
	}
	return float64(ops.Load()) / elapsed.Seconds()
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
	for _, ser := range allSerializers {
		g, p := run(ser, goEcho), run(ser, pyEcho)
		t.Logf("%-8s Python client, %d calls: Go daemon %8.0f calls/s, Python echo server %8.0f calls/s, Go/Python %.2fx",
			ser, n, g, p, g/p)
	}
}
