//go:build linux

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
	"github.com/pyrogo/pyro/wire"
)

// TestEchoserverFloods: one client of `pyro echoserver` (default
// settings) opens item streams without end, then pipelines oneway calls
// of the slow method as fast as it can write. The server keeps at most
// ITER_STREAM_MAXCONN streams and ONEWAY_MAXCONN running oneway calls for
// it (the rest wait unread in the socket), its resident memory stays
// flat, and another client is served during each attack. Before the
// limits, 100,000 streams cost 330 MB and 300,000 oneway calls 1.5 GB.
// PYROGO_FULL_ATTACK=1 runs those counts (default: 20,000 and 100,000).
func TestEchoserverFloods(t *testing.T) {
	if testing.Short() {
		t.Skip("floods a server")
	}
	streams, oneways := 20_000, 100_000
	if os.Getenv("PYROGO_FULL_ATTACK") != "" {
		streams, oneways = 100_000, 300_000
	}
	addr, pid := startEchoProcess(t)
	good := pyrotest.Proxy(t, "PYRO:test.echoserver@"+addr, nil)
	ctx := context.Background()
	if _, err := good.Call(ctx, "echo", "warm up"); err != nil {
		t.Fatal(err)
	}
	rss0 := procField(t, pid, "VmRSS")

	// 1. streams: pipelined generator() calls, replies read and counted
	c := dialEcho(t, addr)
	var started, refused atomic.Int64
	readDone := make(chan error, 1)
	go func() {
		for i := 0; i < streams; i++ {
			m, err := wire.ReadMessage(c.BR, nil)
			if err != nil {
				readDone <- err
				return
			}
			switch {
			case m.Flags&wire.FlagItemStreamResult != 0:
				started.Add(1)
			case m.Flags&wire.FlagException != 0:
				v, _ := codec.Default(int(m.SerializerID)).Unmarshal(m.Data)
				if e, ok := v.(*py.Exception); ok && e.Class == "Pyro4.errors.DaemonError" && strings.Contains(e.Message(), "ITER_STREAM_MAXCONN") {
					refused.Add(1)
				}
			}
		}
		readDone <- nil
	}()
	pipeline(c, invokeMsg("generator", 0), streams)
	if v, err := good.Call(ctx, "echo", "during streams"); err != nil || v != "during streams" {
		t.Errorf("other client during the stream flood: %v %v", v, err)
	}
	if err := testkit.Receive(t, readDone, "replies read"); err != nil {
		t.Fatalf("reading replies: %v", err)
	}
	rss1 := procField(t, pid, "VmRSS")
	t.Logf("%d stream requests: %d streams opened, %d refused; server RSS %.1f -> %.1f MB", streams, started.Load(), refused.Load(), testkit.MiB(rss0), testkit.MiB(rss1))
	if started.Load() > 64 || started.Load()+refused.Load() != int64(streams) {
		t.Errorf("%d streams opened, %d refused: ITER_STREAM_MAXCONN is 64", started.Load(), refused.Load())
	}
	c.NC.Close()

	// 2. oneway: pipelined oneway_slow() calls (5 s each), never a reply
	c2 := dialEcho(t, addr)
	var written atomic.Int64
	writeDone := make(chan error, 1)
	go func() {
		msg := invokeMsg("oneway_slow", wire.FlagOneway)
		const batch = 1000
		buf := make([]byte, 0, len(msg)*batch)
		for range batch {
			buf = append(buf, msg...)
		}
		for n := 0; n < oneways; n += batch {
			if _, err := c2.NC.Write(buf); err != nil {
				writeDone <- err
				return
			}
			written.Add(batch)
		}
		writeDone <- nil
	}()
	// until the writer is done or has made no progress for a second
	for last := int64(-1); ; {
		time.Sleep(time.Second)
		if w := written.Load(); w == last || w >= int64(oneways) {
			break
		} else {
			last = w
		}
	}
	if v, err := good.Call(ctx, "echo", "during oneway"); err != nil || v != "during oneway" {
		t.Errorf("other client during the oneway flood: %v %v", v, err)
	}
	rss2 := procField(t, pid, "VmRSS")
	threads := procField(t, pid, "Threads")
	t.Logf("%d oneway calls pipelined: %d written before the server stopped reading; server RSS %.1f MB (%+.1f MB), %d threads",
		oneways, written.Load(), testkit.MiB(rss2), testkit.MiB(rss2-rss1), threads)
	if rss2-rss1 > 100<<20 {
		t.Errorf("server RSS grew by %.1f MB during the oneway flood", testkit.MiB(rss2-rss1))
	}
	c2.NC.Close()
	select {
	case <-writeDone:
	case <-time.After(10 * time.Second):
		t.Error("attacker's writer still blocked after its connection closed")
	}

	// 3. what an idle connection costs (for CONNECTION_CAP's bound)
	const idle = 2000
	rss3 := procField(t, pid, "VmRSS")
	for i := 0; i < idle; i++ {
		dialEcho(t, addr)
	}
	if v, err := good.Call(ctx, "echo", "during idle"); err != nil || v != "during idle" {
		t.Errorf("other client with %d idle connections open: %v %v", idle, v, err)
	}
	rss4 := procField(t, pid, "VmRSS")
	t.Logf("%d idle connections: server RSS %.1f -> %.1f MB, %.1f KiB each", idle, testkit.MiB(rss3), testkit.MiB(rss4), float64(rss4-rss3)/idle/1024)
}

// startEchoProcess runs `pyro echoserver` in a process of its own and
// returns its address and pid.
func startEchoProcess(t *testing.T) (string, int) {
	t.Helper()
	cmd := exec.Command(testkit.PyroCommand(t), "echoserver", "-H", "127.0.0.1")
	cmd.Env = cleanEnviron()
	p := testkit.StartProcess(t, cmd, testkit.Prefix("echo uri: "))
	u, err := uri.Parse(p.Ready)
	if err != nil {
		t.Fatal(err)
	}
	return u.Location(), p.Pid()
}

// dialEcho connects to the echo server and completes the handshake of a
// proxy that asks for no metadata; the connection has no deadline.
func dialEcho(t *testing.T, addr string) *rawpyro.Conn {
	t.Helper()
	c := rawpyro.Dial(t, "tcp", addr)
	c.Connect("")
	c.NC.SetDeadline(time.Time{})
	return c
}

// invokeMsg encodes a call of a test.echoserver method without arguments.
func invokeMsg(method string, flags wire.Flags) []byte {
	m := rawpyro.Invoke(codec.IDSerpent, 1, "test.echoserver", method)
	m.Flags = flags
	b, _ := wire.AppendMessage(nil, m, nil)
	return b
}

// pipeline writes n copies of msg to c without waiting for replies.
func pipeline(c *rawpyro.Conn, msg []byte, n int) {
	go func() {
		w := bufio.NewWriterSize(c.NC, 64<<10)
		for i := 0; i < n; i++ {
			if _, err := w.Write(msg); err != nil {
				return
			}
		}
		w.Flush()
	}()
}

// procField reads a field of /proc/PID/status (bytes for kB fields).
func procField(t *testing.T, pid int, field string) int64 {
	t.Helper()
	n, err := testkit.ProcStatus(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
