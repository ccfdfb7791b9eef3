package cluster

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// TestNATSUnreachable: with its only NATS server down, a name server
// answers lookups from its cache, refuses registrations with a
// NamingError that says NATS is unavailable (after the spec's timeout),
// and once the server is back it reconnects by itself, takes
// registrations again and sees other instances' writes again.
func TestNATSUnreachable(t *testing.T) {
	c := natstest.Start(t, 1)
	spec := c.Spec("down") + "?timeout=1s"
	st, err := Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := naming.Start(pyro.BuiltinConfig(), naming.WithHost("127.0.0.1"), naming.WithPort(0),
		naming.WithStorage(st), naming.WithBroadcast(false))
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	p := nsProxy(t, srv.URI().String())
	if _, err := p.Call(ctx, "register", "kept", "PYRO:kept@127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}

	down := time.Now()
	c.Nodes[0].Stop()
	testkit.Eventually(t, "the store notices the loss", func() bool { ok, _ := st.Connected(); return !ok })
	if u, err := lookupURI(ctx, p, "kept"); err != nil || u != "PYRO:kept@127.0.0.1:1" {
		t.Fatalf("lookup with NATS down = %q, %v; want the cached registration", u, err)
	}
	_, err = p.Call(ctx, "register", "new", "PYRO:new@127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "NamingError") || !strings.Contains(err.Error(), "NATS unavailable") {
		t.Fatalf("register with NATS down: %v; want a NamingError saying NATS is unavailable", err)
	}
	if err := st.Put(naming.Entry{Name: "direct", URI: "PYRO:d@h:1"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Put with NATS down: %v; want ErrUnavailable", err)
	}
	t.Logf("down phase took %v", time.Since(down))

	c.Nodes[0].Restart(t, c)
	back := time.Now()
	testkit.Eventually(t, "registering after NATS is back", func() bool {
		_, err := p.Call(ctx, "register", "new", "PYRO:new@127.0.0.1:1")
		return err == nil
	})
	t.Logf("registering again %v after NATS restarted", time.Since(back))
	other := openStore(t, c.Spec("down"))
	mustPut(t, other, "from.other", "PYRO:o@127.0.0.1:2")
	testkit.Eventually(t, "the watch resumed after the reconnect", func() bool {
		_, err := lookupURI(ctx, p, "from.other")
		return err == nil
	})
	t.Logf("watch resumed %v after NATS restarted", time.Since(back))
}

// TestStalledWatchRestarted: a watch that stopped for good (as the
// ordered consumer does when its recreation fails with an error it does
// not retry on) is noticed by the supervisor and replaced, resuming after
// the last revision it applied.
func TestStalledWatchRestarted(t *testing.T) {
	c := natstest.Start(t, 1)
	spec := c.Spec("stall")
	lg, buf := testkit.TextLogger(slog.LevelDebug)
	a, err := Open(spec, WithLogger(lg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b := openStore(t, spec)
	mustPut(t, b, "before", "PYRO:b@h:1")
	testkit.Eventually(t, "a sees b's first write", func() bool { _, ok, _ := a.Get("before"); return ok })
	a.watchMu.Lock()
	a.consume.Stop() // the watch dies without telling anyone
	a.watchMu.Unlock()
	stalled := time.Now()
	mustPut(t, b, "after", "PYRO:a@h:1")
	mustPut(t, b, "before", "PYRO:b2@h:1")
	testkit.Eventually(t, "a catches up after its watch died", func() bool {
		e1, ok1, _ := a.Get("after")
		e2, _, _ := a.Get("before")
		return ok1 && e1.URI == "PYRO:a@h:1" && e2.URI == "PYRO:b2@h:1"
	})
	t.Logf("caught up %v after the watch died", time.Since(stalled))
	testkit.WaitLog(t, buf, "watch stalled; restarting it")
}
