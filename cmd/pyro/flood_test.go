//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
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
	good := newProxy(t, "PYRO:test.echoserver@"+addr)
	ctx := context.Background()
	if _, err := good.Call(ctx, "echo", "warm up"); err != nil {
		t.Fatal(err)
	}
	rss0 := rssOf(t, pid)

	// 1. streams: pipelined generator() calls, replies read and counted
	c := dialEcho(t, addr)
	var started, refused atomic.Int64
	readDone := make(chan error, 1)
	go func() {
		for i := 0; i < streams; i++ {
			m, err := wire.ReadMessage(c.br, nil)
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
	c.pipeline(t, invokeMsg("generator", 0), streams)
	if v, err := good.Call(ctx, "echo", "during streams"); err != nil || v != "during streams" {
		t.Errorf("other client during the stream flood: %v %v", v, err)
	}
	if err := waitChan(t, readDone); err != nil {
		t.Fatalf("reading replies: %v", err)
	}
	rss1 := rssOf(t, pid)
	t.Logf("%d stream requests: %d streams opened, %d refused; server RSS %.1f -> %.1f MB", streams, started.Load(), refused.Load(), mb(rss0), mb(rss1))
	if started.Load() > 64 || started.Load()+refused.Load() != int64(streams) {
		t.Errorf("%d streams opened, %d refused: ITER_STREAM_MAXCONN is 64", started.Load(), refused.Load())
	}
	c.nc.Close()

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
			if _, err := c2.nc.Write(buf); err != nil {
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
	rss2 := rssOf(t, pid)
	threads := threadsOf(t, pid)
	t.Logf("%d oneway calls pipelined: %d written before the server stopped reading; server RSS %.1f MB (%+.1f MB), %d threads",
		oneways, written.Load(), mb(rss2), mb(rss2-rss1), threads)
	if rss2-rss1 > 100<<20 {
		t.Errorf("server RSS grew by %.1f MB during the oneway flood", mb(rss2-rss1))
	}
	c2.nc.Close()
	select {
	case <-writeDone:
	case <-time.After(10 * time.Second):
		t.Error("attacker's writer still blocked after its connection closed")
	}

	// 3. what an idle connection costs (for CONNECTION_CAP's bound)
	const idle = 2000
	rss3 := rssOf(t, pid)
	for i := 0; i < idle; i++ {
		dialEcho(t, addr)
	}
	if v, err := good.Call(ctx, "echo", "during idle"); err != nil || v != "during idle" {
		t.Errorf("other client with %d idle connections open: %v %v", idle, v, err)
	}
	rss4 := rssOf(t, pid)
	t.Logf("%d idle connections: server RSS %.1f -> %.1f MB, %.1f KiB each", idle, mb(rss3), mb(rss4), float64(rss4-rss3)/idle/1024)
}

// startEchoProcess runs `pyro echoserver` in a process of its own and
// returns its address and pid.
func startEchoProcess(t *testing.T) (string, int) {
	t.Helper()
	cmd := exec.Command(pyroBinary(t), "echoserver", "-H", "127.0.0.1")
	cmd.Env = cleanEnviron()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("echoserver stderr:\n%s", stderr.String())
		}
	})
	timeout := time.After(waitLimit)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("echoserver ended; stderr:\n%s", stderr.String())
			}
			if s, found := strings.CutPrefix(line, "echo uri: "); found {
				u, err := uri.Parse(s)
				if err != nil {
					t.Fatal(err)
				}
				return u.Location(), cmd.Process.Pid
			}
		case <-timeout:
			t.Fatal("no URI printed")
		}
	}
}

type echoConn struct {
	nc net.Conn
	br *bufio.Reader
}

// dialEcho connects to the echo server and completes the handshake.
func dialEcho(t *testing.T, addr string) *echoConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &echoConn{nc: nc, br: bufio.NewReader(nc)}
	data, _ := codec.Default(codec.IDSerpent).Marshal(py.DictOf("handshake", "hello"))
	if err := wire.WriteMessage(nc, &wire.Message{Type: wire.MsgConnect, SerializerID: codec.IDSerpent, Data: data}, nil); err != nil {
		t.Fatal(err)
	}
	if m, err := wire.ReadMessage(c.br, nil); err != nil || m.Type != wire.MsgConnectOK {
		t.Fatalf("connect: %v %v", m, err)
	}
	return c
}

// invokeMsg encodes a call of a test.echoserver method without arguments.
func invokeMsg(method string, flags wire.Flags) []byte {
	data, _ := codec.Default(codec.IDSerpent).MarshalCall(&codec.Call{Object: "test.echoserver", Method: method, Kwargs: py.NewDict(0)})
	b, _ := wire.AppendMessage(nil, &wire.Message{Type: wire.MsgInvoke, Flags: flags, Seq: 1, SerializerID: codec.IDSerpent, Data: data}, nil)
	return b
}

// pipeline writes n copies of msg without waiting for replies.
func (c *echoConn) pipeline(t *testing.T, msg []byte, n int) {
	t.Helper()
	go func() {
		w := bufio.NewWriterSize(c.nc, 64<<10)
		for i := 0; i < n; i++ {
			if _, err := w.Write(msg); err != nil {
				return
			}
		}
		w.Flush()
	}()
}

func waitChan(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatal("no end")
	}
	return nil
}

// rssOf returns the resident set size of a process in bytes.
func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	return procStatus(t, pid, "VmRSS:") * 1024
}

func threadsOf(t *testing.T, pid int) int64 { return procStatus(t, pid, "Threads:") }

func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }
