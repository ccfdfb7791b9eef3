package pyro_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// TestDaemonAndProxyLogging: the daemon logs connections at info and calls
// at debug; LOGWIRE logs every message of daemons and proxies at debug.
func TestDaemonAndProxyLogging(t *testing.T) {
	for _, tc := range []struct {
		name    string
		level   slog.Level
		logWire bool
	}{{"debug+logwire", slog.LevelDebug, true}, {"debug", slog.LevelDebug, false}, {"info+logwire", slog.LevelInfo, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dlog, dbuf := testkit.TextLogger(tc.level)
			plog, pbuf := testkit.TextLogger(tc.level)
			cfg := pyro.BuiltinConfig()
			cfg.LogWire = tc.logWire
			dcfg := pyrotest.Config()
			dcfg.LogWire = tc.logWire
			u := pyrotest.Serve(t, dcfg, echoserver.ObjectID, &echoserver.EchoServer{}, pyro.WithLogger(dlog)).String()
			p, err := pyro.NewProxy(u, cfg, pyro.WithLogger(plog))
			if err != nil {
				t.Fatal(err)
			}
			if v, err := p.Call(context.Background(), "echo", "marker-42"); err != nil || v != "marker-42" {
				t.Fatalf("echo: %v, %v", v, err)
			}
			p.Close()
			testkit.WaitLog(t, dbuf, "pyro: client disconnected")
			dl, pl := dbuf.String(), pbuf.String()
			want := func(log, s string, yes bool) {
				t.Helper()
				if strings.Contains(log, s) != yes {
					t.Errorf("log has %q: %v, want %v:\n%s", s, !yes, yes, log)
				}
			}
			want(dl, `level=INFO msg="pyro: client connected"`, true)
			want(dl, `level=INFO msg="pyro: client disconnected"`, true)
			debug := tc.level == slog.LevelDebug
			want(dl, `level=DEBUG msg="pyro: call"`, debug)
			want(dl, "method=echo", debug)
			wire := debug && tc.logWire
			want(dl, `msg="pyro: daemon wiredata received" msgtype=4`, wire)
			want(dl, `msg="pyro: daemon wiredata sending" msgtype=5`, wire)
			want(dl, "marker-42", wire)
			want(pl, `level=DEBUG msg="pyro: proxy connected"`, debug)
			want(pl, `msg="pyro: proxy connect sending" msgtype=1`, wire)
			want(pl, `msg="pyro: proxy connect response received" msgtype=2`, wire)
			want(pl, `msg="pyro: proxy wiredata sending"`, wire)
			want(pl, `msg="pyro: proxy wiredata received"`, wire)
		})
	}
}

// TestDaemonLogsRefusalsAtInfo: a refused connection is an info line
// (a flood of refused clients must not fill a warning log).
func TestDaemonLogsRefusalsAtInfo(t *testing.T) {
	dlog, dbuf := testkit.TextLogger(slog.LevelDebug)
	d, err := pyro.NewDaemon(nil, pyro.WithLogger(dlog))
	if err != nil {
		t.Fatal(err)
	}
	d.SetAllowedIdentifications([]string{"secret words"})
	u, err := d.Register(&echoserver.EchoServer{}, echoserver.ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	defer func() {
		d.Close()
		<-served
	}()
	p, err := pyro.NewProxyURI(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Call(context.Background(), "echo", 1); !errors.Is(err, pyro.ErrConnectionDenied) {
		t.Fatalf("call without passphrase: %v", err)
	}
	testkit.WaitLog(t, dbuf, "connection refused")
	if s := dbuf.String(); !strings.Contains(s, `level=INFO msg="pyro: connection refused"`) || strings.Contains(s, "level=WARN") {
		t.Errorf("log:\n%s", s)
	}
}
