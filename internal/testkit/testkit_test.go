package testkit_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pyrogo/pyro/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) { testkit.RemoveBuilds(); os.Exit(code) }))
}

// echoServer answers every line with the same line, upper-cased, on ln.
func echoServer(t *testing.T, ln net.Listener) {
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					io.WriteString(c, strings.ToUpper(sc.Text())+"\n")
				}
			}()
		}
	}()
}

func roundTrip(t *testing.T, network, addr, line string) string {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testkit.Bound()))
	io.WriteString(c, line+"\n")
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(got, "\n")
}

// A relay forwards both ways, records each direction, counts its
// connections, forgets on Reset, and closes open connections on Close.
func TestRelay(t *testing.T) {
	target := testkit.Listen(t)
	echoServer(t, target)
	r := testkit.TCPRelay(t, target.Addr().String())
	if got := roundTrip(t, "tcp", r.HostPort(), "hello"); got != "HELLO" {
		t.Fatalf("through the relay: %q", got)
	}
	if got := roundTrip(t, "tcp", net.JoinHostPort(r.Host(), itoa(r.Port())), "again"); got != "AGAIN" {
		t.Fatalf("by host and port: %q", got)
	}
	testkit.Eventually(t, "both directions recorded", func() bool {
		return string(r.Sent()) == "hello\nagain\n" && string(r.Received()) == "HELLO\nAGAIN\n"
	})
	if r.Accepted() != 2 {
		t.Errorf("Accepted = %d, want 2", r.Accepted())
	}
	r.Reset()
	if len(r.Sent())+len(r.Received()) != 0 {
		t.Error("Reset kept bytes")
	}
	// Close ends a connection that is still open
	c, err := net.Dial("tcp", r.HostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testkit.Eventually(t, "third connection relayed", func() bool { return r.Accepted() == 3 })
	r.Close()
	c.SetReadDeadline(time.Now().Add(testkit.Bound()))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after Close")
	}
}

func TestUnixRelay(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "target.sock"))
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, ln)
	r := testkit.UnixRelay(t, filepath.Join(dir, "relay.sock"), filepath.Join(dir, "target.sock"))
	if got := roundTrip(t, "unix", r.HostPort(), "unix"); got != "UNIX" {
		t.Fatalf("through the unix relay: %q", got)
	}
}

// WaitLine returns a complete line at once, an unfinished one only when
// the writer has stopped.
func TestBufferWaitLine(t *testing.T) {
	var b testkit.Buffer
	go func() {
		io.WriteString(&b, "first li")
		time.Sleep(10 * time.Millisecond)
		io.WriteString(&b, "ne\nsecond")
	}()
	if line, ok := b.WaitLine("first", nil); !ok || line != "first line" {
		t.Errorf("WaitLine = %q, %v", line, ok)
	}
	stop := make(chan struct{})
	close(stop)
	testkit.Eventually(t, "second written", func() bool { return strings.HasSuffix(b.String(), "second") })
	if line, ok := b.WaitLine("second", stop); !ok || line != "second" {
		t.Errorf("unfinished line after stop = %q, %v", line, ok)
	}
	if _, ok := b.WaitLine("never", stop); ok {
		t.Error("found a line never written")
	}
}

func TestLogs(t *testing.T) {
	logger, buf := testkit.TextLogger(slog.LevelInfo)
	logger.Debug("hidden")
	logger.Info("shown", "k", 1)
	testkit.WaitLog(t, buf, `msg=shown k=1`)
	if strings.Contains(buf.String(), "hidden") {
		t.Errorf("a debug line at info level:\n%s", buf)
	}
	var rec testkit.LogRecorder
	rec.Logger().With("ignored", true).Warn("refused client", "reason", "too many", "n", 3)
	rec.Logger().Debug("other")
	got := rec.Find("refused")
	if len(got) != 1 || got[0]["reason"] != "too many" || got[0]["n"] != "3" || got[0]["level"] != "WARN" || got[0]["msg"] != "refused client" {
		t.Errorf("Find = %v", got)
	}
	if m := rec.Messages(); len(m) != 2 || m[0] != "WARN refused client" || m[1] != "DEBUG other" {
		t.Errorf("Messages = %q", m)
	}
	if len(rec.Find("")) != 2 {
		t.Errorf("every record: %v", rec.Find(""))
	}
}

func TestProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	pid := os.Getpid()
	rss, err := testkit.RSS(pid)
	if err != nil || rss < 1<<20 {
		t.Errorf("RSS = %d, %v", rss, err)
	}
	if peak, err := testkit.PeakRSS(pid); err != nil || peak < rss {
		t.Errorf("PeakRSS = %d (RSS %d), %v", peak, rss, err)
	}
	if n, err := testkit.Threads(pid); err != nil || n < 1 {
		t.Errorf("Threads = %d, %v", n, err)
	}
	if _, err := testkit.CPUSeconds(pid); err != nil {
		t.Errorf("CPUSeconds: %v", err)
	}
	if _, err := testkit.ProcStatus(pid, "NoSuchField"); err == nil {
		t.Error("a missing field read")
	}
}

// StartProcess returns the rest of the ready line; what the process
// writes otherwise is kept; the process is gone after the test.
func TestStartProcess(t *testing.T) {
	var p *testkit.Process
	t.Run("child", func(t *testing.T) {
		cmd := exec.Command("sh", "-c", `echo noise; echo "to stderr" >&2; echo "URI = PYRO:x@127.0.0.1:1"; echo after; exec sleep 600`)
		p = testkit.StartProcess(t, cmd, testkit.Prefix("URI = "))
		if p.Ready != "PYRO:x@127.0.0.1:1" {
			t.Errorf("Ready = %q", p.Ready)
		}
		if line, ok := p.Output.WaitLine("after", nil); !ok || line != "after" {
			t.Errorf("stdout after the ready line: %q %v", line, ok)
		}
		// stderr is copied by its own goroutine, so it may come later
		// than stdout's lines: wait for each
		for _, want := range []string{"noise", "to stderr"} {
			if line, ok := p.Output.WaitLine(want, nil); !ok || line != want {
				t.Errorf("output lacks %q: %q", want, p.Output)
			}
		}
	})
	select {
	case <-p.Exited:
	default:
		t.Error("the process outlived its test")
	}
}

func TestPortsAndWaits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(testkit.FreeTCPPort(t)))
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:"+itoa(testkit.FreeUDPPort(t)))
	if err != nil {
		t.Fatal(err)
	}
	pc.Close()
	ch := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case ch <- 42:
		case <-ctx.Done():
		}
	}()
	if v := testkit.Receive(t, ch, "the answer"); v != 42 {
		t.Errorf("Receive = %d", v)
	}
	n := 0
	testkit.Eventually(t, "three polls", func() bool { n++; return n == 3 })
}

func itoa(n int) string { return strconv.Itoa(n) }
