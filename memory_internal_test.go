//go:build linux

package pyro

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/wire"
)

// Maker makes large results from small requests.
type Maker struct{}

// Make returns n bytes of text.
func (Maker) Make(n int) string { return strings.Repeat("m", n) }

// Fail raises an exception whose message is n bytes long.
func (Maker) Fail(n int) error { return &PythonError{Class: "ValueError", Msg: strings.Repeat("e", n)} }

// Size returns the length of its argument.
func (Maker) Size(s string) int { return len(s) }

// Sink takes anything (a oneway target).
func (Maker) Sink(s string) {}

func (Maker) PyroExpose() Exposure { return Exposure{Oneway: []string{"sink"}} }

// startMaker serves a Maker as "maker" with cfg.
func startMaker(t *testing.T, cfg *Config) (*Daemon, URI) {
	t.Helper()
	d, u, _ := startDaemon(t, cfg)
	mu, err := d.Register(Maker{}, "maker")
	if err != nil {
		t.Fatal(err)
	}
	_ = u
	return d, mu
}

// dialSmallWindow connects with a 4 KiB receive buffer, so that a reply
// it does not read blocks the daemon's write after a few hundred KiB.
func dialSmallWindow(t *testing.T, u URI) *rawClient {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c := &rawClient{rawpyro.DialWith(t, &d, "tcp", u.Location())}
	c.BR = bufio.NewReaderSize(c.NC, 4096)
	c.Connect(u.Object)
	c.NC.SetDeadline(time.Time{})
	return c
}

// TestWriteDeadline: with COMMTIMEOUT 0 (the default), a client that
// never reads its 16 MB reply is dropped after WRITE_TIMEOUT without
// progress and the reply's memory is given back, while a client that
// reads the same reply slowly, pausing for less than the timeout each
// time but taking longer than it in all, gets all of it. Before, the
// daemon's write blocked forever and held the reply.
func TestWriteDeadline(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.WriteTimeout = 500 * time.Millisecond
	d, u := startMaker(t, cfg)
	const size = 16 << 20
	stalled := dialSmallWindow(t, u)
	stalled.Send(rawpyro.Invoke(codec.IDSerpent, 1, "maker", "make", size))
	testkit.Eventually(t, "the reply is held", func() bool { return d.mem.used.Load() >= size })
	start := time.Now()
	testkit.Eventually(t, "the non-reader is dropped", func() bool { return d.mem.used.Load() == 0 })
	if held := time.Since(start); held < 300*time.Millisecond {
		t.Errorf("dropped after %v, before the write timeout", held)
	}
	// what arrives is a truncated reply, then the end of the connection
	stalled.NC.SetReadDeadline(time.Now().Add(testbound.Scale(20 * time.Second)))
	if _, err := stalled.Recv(); !errors.Is(err, wire.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the dropped client read %v", err)
	}
	// a slow reader: at most 1 MiB at a time, a 200 ms pause in between
	slow := dialRaw(t, u)
	slow.Connect("thing")
	slow.Send(rawpyro.Invoke(codec.IDSerpent, 1, "maker", "make", size))
	var got []byte
	buf := make([]byte, 1<<20)
	slow.NC.SetReadDeadline(time.Now().Add(testbound.Scale(60 * time.Second)))
	start = time.Now()
	for {
		time.Sleep(200 * time.Millisecond)
		n, err := io.ReadAtLeast(slow.BR, buf, 1)
		got = append(got, buf[:n]...)
		if len(got) >= wire.HeaderSize {
			hd, _ := wire.ParseHeader(got[:wire.HeaderSize])
			if len(got) == wire.HeaderSize+hd.AnnotationsLen+hd.PayloadLen {
				break
			}
		}
		if err != nil {
			t.Fatalf("slow reader after %d bytes: %v", len(got), err)
		}
	}
	m, err := wire.ReadMessage(strings.NewReader(string(got)), nil)
	if err != nil || m.Type != wire.MsgResult || len(m.Data) < size {
		t.Fatalf("slow reader's reply: %v", err)
	}
	took := time.Since(start)
	t.Logf("the slow reader took %v for %d bytes", took, len(got))
	if took < time.Second {
		t.Errorf("the slow reader took only %v: not slow enough to show the deadline's renewal", took)
	}
	// and the daemon serves others throughout
	p := newProxy(t, u, nil)
	if n, err := CallT[int](context.Background(), p, "size", "ok"); err != nil || n != 2 {
		t.Errorf("size: %v %v", n, err)
	}
}

// TestMemoryBudget: replies and requests are charged to MEMORY_BUDGET; a
// reply that does not fit is a MemoryError (the connection goes on), a
// request that does not fit drops its connection, a quarter of the budget
// serves small calls when large ones hold the rest, and every path gives
// back what it took.
func TestMemoryBudget(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.MemoryBudget = 64 << 20         // 48 MiB for large messages
	cfg.WriteTimeout = 60 * time.Second // the held replies stay held for the test
	d, u := startMaker(t, cfg)
	ctx := context.Background()
	p := newProxy(t, u, nil)
	if s, err := CallT[string](ctx, p, "make", 10<<20); err != nil || len(s) != 10<<20 {
		t.Fatalf("10 MiB reply: %v", err)
	}
	// two clients hold 20 MiB replies each without reading them
	var holders []*rawClient
	for i := 0; i < 2; i++ {
		c := dialSmallWindow(t, u)
		c.Send(rawpyro.Invoke(codec.IDSerpent, 1, "maker", "make", 20<<20))
		holders = append(holders, c)
	}
	testkit.Eventually(t, "the replies are held", func() bool { return d.mem.used.Load() >= 40<<20 })
	// a third large reply does not fit: MemoryError, connection kept
	_, err := p.Call(ctx, "make", 20<<20)
	var re *RemoteError
	if !errors.As(err, &re) || re.Class() != "builtins.MemoryError" || !strings.Contains(re.Message(), "memory budget") {
		t.Fatalf("reply over the budget: %v", err)
	}
	if n, err := CallT[int](ctx, p, "size", "same connection"); err != nil || n != 15 {
		t.Errorf("after the MemoryError: %v %v", n, err)
	}
	// a large request does not fit: its connection is dropped unanswered
	_, err = newProxy(t, u, nil).Call(ctx, "size", strings.Repeat("r", 12<<20))
	if !errors.Is(err, ErrConnectionClosed) {
		t.Errorf("request over the budget: %v", err)
	}
	// small calls and moderate ones within the reserve still work
	for i := 0; i < 20; i++ {
		if s, err := CallT[string](ctx, newProxy(t, u, nil), "make", 100<<10); err != nil || len(s) != 100<<10 {
			t.Fatalf("small call during the squeeze: %v", err)
		}
	}
	for _, c := range holders {
		c.NC.Close()
	}
	testkit.Eventually(t, "the held replies are released", func() bool { return d.mem.used.Load() == 0 })

	// every path gives back what it took
	big := strings.Repeat("b", 1<<20)
	for _, ser := range []string{"serpent", "marshal", "json"} {
		q := newProxy(t, u, nil, WithSerializer(ser))
		for i := 0; i < 3; i++ {
			if _, err := q.Call(ctx, "size", big); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Call(ctx, "fail", 1<<20); err == nil {
				t.Fatal("fail did not fail")
			}
			if err := q.Oneway(ctx, "sink", big); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Call(ctx, "nosuch", big); err == nil {
				t.Fatal("nosuch succeeded")
			}
		}
		b := q.Batch()
		b.Call("size", big)
		b.Call("make", 1<<20)
		if _, err := b.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// a request that cannot be decoded
	bad := dialSmallWindow(t, u)
	bad.Send(&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: codec.IDSerpent, Data: []byte("(" + strings.Repeat("1,", 1<<19))})
	if m, err := bad.Recv(); err != nil || rawpyro.ExceptionOf(t, m).Class != "Pyro4.errors.SerializeError" {
		t.Errorf("undecodable call: %v %v", m, err)
	}
	testkit.Eventually(t, "everything is released", func() bool { return d.mem.used.Load() == 0 })
}

// TestReplyOverMaxMessageSize: a result larger than MAX_MESSAGE_SIZE is
// stopped while it is encoded and answered with a MessageTooLargeError;
// so is an exception. The connection goes on.
func TestReplyOverMaxMessageSize(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.MaxMessageSize = 1 << 20
	d, u := startMaker(t, cfg)
	p := newProxy(t, u, nil)
	ctx := context.Background()
	for _, method := range []string{"make", "fail"} {
		_, err := p.Call(ctx, method, 2<<20)
		var re *RemoteError
		if !errors.As(err, &re) || !errors.Is(err, ErrMessageTooLarge) || !strings.Contains(re.Message(), "max message size exceeded") {
			t.Errorf("%s: %v", method, err)
		}
	}
	if s, err := CallT[string](ctx, p, "make", 1000); err != nil || len(s) != 1000 {
		t.Errorf("after: %v", err)
	}
	testkit.Eventually(t, "released", func() bool { return d.mem.used.Load() == 0 })
}

// TestMemoryErrorPython: a Python Pyro4 client gets a reply over the
// budget as a MemoryError it can catch, and one over MAX_MESSAGE_SIZE as
// Pyro4.errors.MessageTooLargeError, and goes on using the connection.
func TestMemoryErrorPython(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.MemoryBudget = 8 << 20
	cfg.MaxMessageSize = 32 << 20
	_, u := startMaker(t, cfg)
	script := `
import sys, Pyro4, Pyro4.errors
p = Pyro4.Proxy(sys.argv[1])
p._pyroTimeout = 20
try:
    p.make(7 << 20)
    print("no error")
except MemoryError as e:
    print("MemoryError", "memory budget" in str(e))
try:
    p.make(40 << 20)
    print("no error")
except Pyro4.errors.MessageTooLargeError as e:
    print("MessageTooLargeError", "max message size exceeded" in str(e))
print("after", len(p.make(1000)))
`
	res := pytest.Cmd{Args: []string{"-c", script, u.String()}}.Run(t)
	want := "MemoryError True\nMessageTooLargeError True\nafter 1000\n"
	if res.Stdout != want || res.ExitCode != 0 {
		t.Errorf("python client: exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, want, res.Stderr)
	}
}

// TestProxyReadLimits: a Go proxy refuses a reply over its
// MAX_MESSAGE_SIZE, and a compressed reply that would inflate past it,
// with a MessageTooLargeError, without inflating it.
func TestProxyReadLimits(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.Compression = true
	cfg.MaxMessageSize = 64 << 20
	_, u := startMaker(t, cfg)
	pc := BuiltinConfig()
	pc.MaxMessageSize = 1 << 20
	p := newProxy(t, u, pc)
	ctx := context.Background()
	_, err := p.Call(ctx, "make", 50<<20) // compresses to about 50 KB
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("inflating reply: %v", err)
	}
	if s, err := CallT[string](ctx, newProxy(t, u, pc), "make", 1000); err != nil || len(s) != 1000 {
		t.Errorf("small reply: %v", err)
	}
}

// TestMemoryConfig: the defaults (MAX_MESSAGE_SIZE 64 MiB instead of
// Pyro4's unlimited, MEMORY_BUDGET 256 MiB, WRITE_TIMEOUT 30 s), their
// PYRO_* variables and pyro config entries, and what 0 and negative
// values mean; a default daemon closes a connection that announces a
// message over 64 MiB at once.
func TestMemoryConfig(t *testing.T) {
	c := BuiltinConfig()
	if c.MaxMessageSize != 64<<20 || c.MemoryBudget != 256<<20 || c.WriteTimeout != 30*time.Second {
		t.Errorf("defaults: %d %d %v", c.MaxMessageSize, c.MemoryBudget, c.WriteTimeout)
	}
	want := map[string]string{"MAX_MESSAGE_SIZE": "67108864", "MEMORY_BUDGET": "268435456", "WRITE_TIMEOUT": "30.0"}
	for _, e := range c.Entries() {
		if v, ok := want[e.Name]; ok {
			if e.Value != v || e.Source != SourceBuiltin {
				t.Errorf("%s = %s (%v)", e.Name, e.Value, e.Source)
			}
			delete(want, e.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing from Entries: %v", want)
	}
	if err := c.ApplyEnv([]string{"PYRO_MAX_MESSAGE_SIZE=0", "PYRO_MEMORY_BUDGET=1048576", "PYRO_WRITE_TIMEOUT=2.5"}); err != nil {
		t.Fatal(err)
	}
	if c.MaxMessageSize != 0 || c.MemoryBudget != 1<<20 || c.WriteTimeout != 2500*time.Millisecond || c.Source("MEMORY_BUDGET") != SourceEnv {
		t.Errorf("env: %d %d %v", c.MaxMessageSize, c.MemoryBudget, c.WriteTimeout)
	}
	for _, tc := range []struct {
		budget      int
		limit       int64
		write, comm time.Duration
		timeout     time.Duration
	}{
		{0, DefaultMemoryBudget, 0, 0, 30 * time.Second},
		{-1, 0, -1, 0, 0},
		{1 << 20, 1 << 20, 10 * time.Second, 0, 10 * time.Second},
		{1 << 20, 1 << 20, 10 * time.Second, 2 * time.Second, 2 * time.Second},
		{1 << 20, 1 << 20, -1, 3 * time.Second, 3 * time.Second},
	} {
		cfg := &Config{MemoryBudget: tc.budget, WriteTimeout: tc.write, CommTimeout: tc.comm}
		d := &Daemon{cfg: cfg, mem: newMemBudget(cfg.MemoryBudget)}
		if d.mem.limit != tc.limit || d.writeTimeout() != tc.timeout {
			t.Errorf("%+v: budget %d, write timeout %v", tc, d.mem.limit, d.writeTimeout())
		}
	}
	// MAX_MESSAGE_SIZE 0 still has a budget: a 12 MiB request to a daemon
	// with an 8 MiB budget is refused
	zero := BuiltinConfig()
	zero.MaxMessageSize = 0
	zero.MemoryBudget = 8 << 20
	_, u := startMaker(t, zero)
	if _, err := newProxy(t, u, nil).Call(context.Background(), "size", strings.Repeat("z", 12<<20)); !errors.Is(err, ErrConnectionClosed) {
		t.Errorf("12 MiB request, no size limit, 8 MiB budget: %v", err)
	}
	// the default limit: a message announcing 100 MiB is refused unread
	_, u = startMaker(t, BuiltinConfig())
	raw := dialRaw(t, u)
	raw.Connect("thing")
	hd := wire.Header{Type: wire.MsgInvoke, Seq: 1, PayloadLen: 100 << 20, SerializerID: codec.IDSerpent}
	raw.NC.Write(append(hd.AppendHeader(nil), "('maker','size',("...))
	if !raw.Closed() {
		t.Error("a 100 MiB message was not refused by a default daemon")
	}
}
