package pyro

// The security suite, items 7 and 1 and the limits before
// authentication: replay-protected HMAC, the handshake size limit, slow
// clients, the pickle trojan; see security_internal_test.go.

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/trojan"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// ---------------------------------------------------------------------------
// item 7: replay-protected HMAC

// counter counts its calls.
type counter struct{ n atomic.Int64 }

func (c *counter) Incr() int64 { return c.n.Add(1) }

// TestReplayProtectedHMAC: with Pyro4's HMAC a captured CONNECT+INVOKE
// replayed on a new connection runs the call again; with the
// replay-protected mode it is refused and has no effect.
func TestReplayProtectedHMAC(t *testing.T) {
	key := []byte("shared key")
	for _, bound := range []bool{false, true} {
		t.Run(fmt.Sprint("bound=", bound), func(t *testing.T) {
			dopt, popt := WithHMACKey(key), WithHMACKey(key)
			if bound {
				dopt, popt = WithReplayProtectedHMAC(key), WithReplayProtectedHMAC(key)
			}
			d, err := NewDaemon(nil, dopt)
			if err != nil {
				t.Fatal(err)
			}
			cnt := &counter{}
			u, _ := d.Register(cnt, "counter")
			go d.Serve(context.Background())
			defer d.Close()
			tp := testkit.TCPRelay(t, u.Location())
			tu := u
			tu.Host, tu.Port = tp.Host(), tp.Port()
			p := newProxy(t, tu, nil, popt)
			if v, err := p.Call(context.Background(), "incr"); err != nil || v != int64(1) {
				t.Fatalf("call: %v %v", v, err)
			}
			p.Close()
			msgs := rawpyro.Split(t, tp.Sent())
			if len(msgs) != 2 {
				t.Fatalf("captured %d messages", len(msgs))
			}
			c := dialRaw(t, u)
			c.NC.Write(msgs[0])
			m, err := wire.ReadMessage(c.BR, &wire.Options{HMACKey: key})
			if err != nil || m.Type != wire.MsgConnectOK {
				t.Fatalf("replayed CONNECT: %v %v", m, err) // valid in both modes
			}
			c.NC.Write(msgs[1])
			_, err = wire.ReadMessage(c.BR, &wire.Options{HMACKey: key})
			if !bound {
				if err != nil || cnt.n.Load() != 2 {
					t.Errorf("Pyro4 HMAC: replayed call not executed (%v, count %d): the test does not show the attack", err, cnt.n.Load())
				}
				return
			}
			if err == nil || !c.Closed() || cnt.n.Load() != 1 {
				t.Errorf("replayed INVOKE: err %v, count %d", err, cnt.n.Load())
			}
		})
	}
}

// TestReplayProtectedHMACModes: the mode works end to end (calls, oneway,
// streams, batches, autoproxies over many connections), refuses clients
// without it, and a proxy in the mode refuses daemons without it.
func TestReplayProtectedHMACModes(t *testing.T) {
	key := []byte("k")
	ctx := context.Background()
	_, u, thing := startDaemon(t, nil, WithReplayProtectedHMAC(key))
	p := newProxy(t, u, nil, WithReplayProtectedHMAC(key))
	callSuite(t, p, thing, "serpent")

	_, err := newProxy(t, u, nil, WithHMACKey(key)).Call(ctx, "echo", 1)
	wantDenied(t, err, "requires replay-protected HMAC")

	_, u2, _ := startDaemon(t, nil, WithHMACKey(key))
	_, err = newProxy(t, u2, nil, WithReplayProtectedHMAC(key)).Call(ctx, "echo", 1)
	if !errors.Is(err, ErrSecurity) || !strings.Contains(err.Error(), "does not use replay-protected HMAC") {
		t.Errorf("downgrade: %v", err)
	}
	if _, err := NewDaemon(nil, WithReplayProtectedHMAC(nil)); err == nil {
		t.Error("mode without a key accepted")
	}
}

// TestHMACPython: the default (Pyro4) HMAC interoperates with Python; a
// daemon in the replay-protected mode refuses a Python client with the
// reason.
func TestHMACPython(t *testing.T) {
	pytest.Python(t)
	key := "py key"
	_, u, _ := startDaemon(t, nil, WithHMACKey([]byte(key)))
	_, ub, _ := startDaemon(t, nil, WithReplayProtectedHMAC([]byte(key)))
	for _, tc := range []struct {
		u    URI
		want string
	}{
		{u, "echo: 'hi'"},
		{ub, "rejected: security reasons: this daemon requires replay-protected HMAC"},
	} {
		r := pytest.Cmd{Args: []string{"testdata/auth/hmac_client.py", tc.u.String(), key}}.Run(t)
		if !strings.Contains(r.Stdout, tc.want) {
			t.Errorf("%s: exit %d, want %q\n%s%s", tc.u, r.ExitCode, tc.want, r.Stdout, r.Stderr)
		}
	}
}

// ---------------------------------------------------------------------------
// pre-authentication limits and slow clients

// TestHandshakeSizeLimit: a CONNECT larger than MaxHandshakeSize (or
// expanding beyond it) is refused unread, even without MAX_MESSAGE_SIZE.
func TestHandshakeSizeLimit(t *testing.T) {
	rec := &testkit.LogRecorder{}
	_, u, _ := startDaemon(t, nil, WithLogger(rec.Logger()))
	big := strings.Repeat("x", MaxHandshakeSize)
	data, _ := codec.Default(codec.IDSerpent).Marshal(py.DictOf("handshake", big, "object", "thing"))
	c := dialRaw(t, u)
	c.Send(&wire.Message{Type: wire.MsgConnect, SerializerID: 1, Data: data})
	if !c.Closed() {
		t.Error("oversized CONNECT answered")
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	c2 := dialRaw(t, u)
	hd := wire.Header{Type: wire.MsgConnect, Flags: wire.FlagCompressed, SerializerID: 1, PayloadLen: z.Len()}
	c2.NC.Write(append(hd.AppendHeader(nil), z.Bytes()...))
	if !c2.Closed() {
		t.Error("CONNECT expanding beyond the limit answered")
	}
	if n := len(rec.Find("oversized CONNECT")); n != 2 {
		t.Errorf("%d oversized CONNECTs logged", n)
	}
	// a normal CONNECT still fits
	dialRaw(t, u).Connect("thing")
}

// TestSlowloris: clients that send part of a CONNECT and then stall, or
// drip it byte by byte, are dropped at the handshake deadline and leave
// no goroutine behind; other clients are served meanwhile.
func TestSlowloris(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.CommTimeout = 500 * time.Millisecond
	_, u, _ := startDaemon(t, cfg)
	good := newProxy(t, u, nil)
	if _, err := good.Call(context.Background(), "echo", 1); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	connect, _ := wire.AppendMessage(nil, rawpyro.ConnectMessage("thing"), nil)
	var wg sync.WaitGroup
	var lingered atomic.Int64
	start := time.Now()
	for i := 0; i < 30; i++ {
		c := dialRaw(t, u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0: // part of the header, then silence
				c.NC.Write(connect[:10])
			case 1: // the header, then silence
				c.NC.Write(connect[:wire.HeaderSize])
			case 2: // a byte every 100 ms
				go func() {
					for j := range connect {
						if _, err := c.NC.Write(connect[j : j+1]); err != nil {
							return
						}
						time.Sleep(100 * time.Millisecond)
					}
				}()
			}
			c.NC.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.BR.ReadByte(); err == nil || time.Since(start) > testbound.Scale(2*time.Second) {
				lingered.Add(1)
			}
			c.NC.Close()
		}()
	}
	for i := 0; i < 5; i++ {
		if _, err := good.Call(context.Background(), "echo", i); err != nil {
			t.Errorf("during the attack: %v", err)
		}
	}
	wg.Wait()
	if lingered.Load() > 0 {
		t.Errorf("%d slow clients not dropped at the handshake deadline", lingered.Load())
	}
	goroutinesSettle(t, base, 2)
}

// ---------------------------------------------------------------------------
// item 1: the pickle trojan

// trojanPayloads returns the exploit pickles (made by Python's pickle
// module too, when /usr/bin/python3 exists) and the python path ("" when
// none).
func trojanPayloads(t *testing.T, marker string) ([]trojan.Payload, string) {
	t.Helper()
	ps := trojan.Handmade(marker)
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Logf("no %s: only the hand-made pickles", python)
		return ps, ""
	}
	more, err := trojan.FromPython(python, marker)
	if err != nil {
		t.Fatal(err)
	}
	return append(ps, more...), python
}

// TestPickleTrojan: the os.system pickle exploit, as pickle (id 4) and
// disguised under the ids of serpent, json, marshal and msgpack, in a
// CONNECT and in an INVOKE, plain and compressed, is refused by a daemon
// accepting every serializer pyrogo has, and has no effect. The payloads
// are shown to work on Python afterwards.
func TestPickleTrojan(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	payloads, python := trojanPayloads(t, marker)
	cfg := BuiltinConfig()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	_, u, _ := startDaemon(t, cfg)
	for _, p := range payloads {
		results, err := trojan.Send("tcp", u.Location(), "thing", p.Data)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		for _, r := range results {
			if r.Accepted {
				t.Errorf("%s, %s: accepted: %s", p.Name, r.How, r.Answer)
			}
			if strings.HasPrefix(r.How, "CONNECT id 4") && r.Answer != "CONNECTFAIL: 'message used serializer that is not accepted: 4'" {
				t.Errorf("%s, %s: %s", p.Name, r.How, r.Answer)
			}
		}
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the exploit ran: %s exists (%v)", marker, err)
	}
	// pickle cannot even be configured
	cfg.SerializersAccepted = []string{"pickle"}
	if _, err := NewDaemon(cfg); err == nil {
		t.Error("a daemon accepting pickle was created")
	}
	if python == "" {
		return
	}
	if err := trojan.Fire(python, payloads[0].Data); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the payload does not work on Python, so the test proves nothing: %v", err)
	}
}
