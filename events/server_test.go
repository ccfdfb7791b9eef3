package events_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/testkit"
)

// recorder is a hand-written subscriber object: event(ev) is oneway and
// lands in a channel.
type recorder struct{ ch chan events.Event }

func (r *recorder) PyroExpose() pyro.Exposure { return pyro.Exposure{Oneway: []string{"event"}} }

func (r *recorder) Event(ctx context.Context, ev map[string]any) error {
	e := events.Event{Subject: ev["subject"].(string), Msg: ev["msg"]}
	e.Time, _ = ev["time"].(float64)
	select {
	case r.ch <- e:
	case <-ctx.Done():
	}
	return nil
}

// startServer runs events.Start on loopback and stops it at the test's end.
func startServer(t *testing.T, cfg *pyro.Config, opts ...events.ServerOption) *events.Server {
	t.Helper()
	srv, err := events.Start(cfg, append([]events.ServerOption{events.WithServerHost("127.0.0.1")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// The server serves the Service under Pyro.EventService; Shutdown stops
// the daemon first (no new calls), then delivers what is still queued
// before it returns: a subscriber that is unreachable during the publishes
// (its listener accepts, nobody serves it) gets every event once it is
// served, while Shutdown waits.
func TestServerShutdownDeliversQueued(t *testing.T) {
	ctx := ctxT(t)
	srv := startServer(t, nil, events.WithRetry(1000, 10*time.Millisecond, 50*time.Millisecond))
	if srv.URI().Object != events.ObjectID || srv.Service() == nil || srv.Daemon() == nil {
		t.Fatalf("URI %s", srv.URI())
	}
	if a, ok := srv.Addr().(*net.TCPAddr); !ok || a.Port != srv.URI().Port {
		t.Fatalf("Addr %v, URI %s", srv.Addr(), srv.URI())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	subURI := "PYRO:sub@" + ln.Addr().String()
	p, err := pyro.NewProxyURI(srv.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(ctx, "subscribe", "Lab.Temp", subURI); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if _, err := p.Call(ctx, "publish", "lab.temp", i); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	testkit.Eventually(t, "events queued", func() bool {
		st := srv.Service().Stats()
		return st.Subs[subURI].Queued >= n-1
	})

	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	select {
	case <-srv.Done():
	case <-ctx.Done():
		t.Fatal("daemon did not stop")
	}
	if c, err := net.Dial("tcp", srv.Addr().String()); err == nil {
		c.Close()
		t.Error("the daemon still accepts connections during the shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned before the queue was delivered: %v", err)
	default:
	}

	rec := &recorder{ch: make(chan events.Event, n)}
	dcfg := pyro.BuiltinConfig()
	dcfg.OnewayThreaded = false // the order in which they arrive
	d, err := pyro.NewDaemon(dcfg, pyro.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(rec, "sub"); err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = d.Serve(context.Background()) }()
	defer func() { d.Close(); <-served }()
	for i := range n {
		select {
		case ev := <-rec.ch:
			if ev.Msg != int64(i) || ev.Subject != "lab.temp" {
				t.Fatalf("event %d: %+v", i, ev)
			}
		case <-ctx.Done():
			t.Fatalf("got %d of %d events", i, n)
		}
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Shutdown did not return")
	}
	if srv.Err() != nil {
		t.Errorf("Err after shutdown: %v", srv.Err())
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close after Shutdown: %v", err)
	}
}

// The daemon runs the checks the config and options give: an HMAC key, a
// passphrase, a unix socket.
func TestServerDaemonChecks(t *testing.T) {
	ctx := ctxT(t)
	cfg := pyro.BuiltinConfig()
	cfg.HMACKey = []byte("es secret")
	srv := startServer(t, cfg)
	if err := events.Publish(ctx, srv.URI(), []string{"x"}, 1); !errors.Is(err, pyro.ErrSecurity) && !errors.Is(err, pyro.ErrCommunication) {
		t.Errorf("publish without the key: %v", err)
	}
	if err := events.Publish(ctx, srv.URI(), []string{"x"}, 1, pyro.WithHMACKey([]byte("es secret"))); err != nil {
		t.Errorf("publish with the key: %v", err)
	}

	srv = startServer(t, nil, events.WithServerDaemonOptions(pyro.WithAllowedIdentifications([]string{"open sesame"})))
	if err := events.Publish(ctx, srv.URI(), []string{"x"}, 1); !errors.Is(err, pyro.ErrConnectionDenied) {
		t.Errorf("publish without a passphrase: %v", err)
	}
	if err := events.Publish(ctx, srv.URI(), []string{"x"}, 1, pyro.WithIdentification("open sesame")); err != nil {
		t.Errorf("publish with the passphrase: %v", err)
	}

	sock := filepath.Join(t.TempDir(), "es.sock")
	srv = startServer(t, nil, events.WithServerUnixSocket(sock))
	if srv.URI().Sockname != sock || srv.BindDescription() != "Unix domain socket" {
		t.Fatalf("unix socket URI %s (%s)", srv.URI(), srv.BindDescription())
	}
	s, err := events.Subscribe(ctx, srv.URI(), []string{"u"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := events.Publish(ctx, srv.URI(), []string{"U"}, "via unix socket"); err != nil {
		t.Fatal(err)
	}
	if evs := next(t, ctx, s, 1); evs[0].Msg != "via unix socket" {
		t.Errorf("event %+v", evs[0])
	}
}

// closeCounter is a store that counts its Close calls.
type closeCounter struct {
	*events.MemoryStore
	closed atomic.Int32
}

func (c *closeCounter) Close() error { c.closed.Add(1); return c.MemoryStore.Close() }

// Start owns the store: a start that fails (port taken) closes it, and
// so does stopping a server; Service options reach the Service.
func TestServerStoreOwnership(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	st := &closeCounter{MemoryStore: events.NewMemoryStore()}
	_, err = events.Start(nil, events.WithServerHost("127.0.0.1"), events.WithServerPort(ln.Addr().(*net.TCPAddr).Port), events.WithStore(st))
	if err == nil || st.closed.Load() != 1 {
		t.Fatalf("start on a taken port: %v; store closed %d times", err, st.closed.Load())
	}

	st = &closeCounter{MemoryStore: events.NewMemoryStore()}
	srv, err := events.Start(nil, events.WithServerHost("127.0.0.1"),
		events.WithServiceOptions(events.WithStore(st), events.WithMaxSubscribers(1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	s, err := events.Subscribe(ctx, srv.URI(), []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if _, err := events.Subscribe(ctx, srv.URI(), []string{"a"}); err == nil {
		t.Error("a second subscriber passed WithMaxSubscribers(1) given through WithServiceOptions")
	}
	if err := srv.Close(); err != nil || st.closed.Load() != 1 {
		t.Errorf("Close: %v; store closed %d times", err, st.closed.Load())
	}
}

// Start puts the Service's Policy on its daemon: connections the connect
// rules deny are refused before any method runs, and calls by
// passphrase identity are refused by the interceptor.
func TestServerPolicy(t *testing.T) {
	ctx := ctxT(t)
	p, err := events.ParsePolicyString("deny connect host=127.0.0.0/8\nallow all\n")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, nil, events.WithPolicy(p))
	if srv.Service().Policy() != p {
		t.Fatal("the Service has not the policy")
	}
	err = events.Publish(ctx, srv.URI(), []string{"x"}, 1)
	if !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "event server policy") {
		t.Errorf("connect from a denied host: %v", err)
	}

	p, err = events.ParsePolicyString("allow all identity=alice\n")
	if err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, nil, events.WithServiceOptions(events.WithPolicy(p)),
		events.WithServerDaemonOptions(pyro.WithAllowedIdentities(map[string]string{"alice": "alice secret", "bob": "bob secret"})))
	if err := events.Publish(ctx, srv.URI(), []string{"x"}, 1, pyro.WithIdentification("alice secret")); err != nil {
		t.Errorf("alice: %v", err)
	}
	err = events.Publish(ctx, srv.URI(), []string{"x"}, 1, pyro.WithIdentification("bob secret"))
	if !errors.Is(err, pyro.ErrSecurity) || !strings.Contains(err.Error(), "event server policy does not allow this client") {
		t.Errorf("bob: %v", err)
	}
}
