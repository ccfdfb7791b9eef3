package pyro

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/wire"
)

// connEndMessages are the log messages that say why a connection ended.
var connEndMessages = []string{
	"pyro: client disconnected", "pyro: closing idle connection", "pyro: dropping slow client: request not received in time",
	"pyro: dropping client", "pyro: unexpected message, closing", "pyro: connection refused", "pyro: handshake refused",
	"pyro: closing connection", "pyro: oversized CONNECT, closing", "pyro: authenticate call on an established connection, closing",
	"pyro: request with serializer not accepted", "pyro: TLS handshake failed",
}

// endLines returns the connection-end lines of a log.
func endLines(r *testkit.LogRecorder) []string {
	var out []string
	for _, line := range r.Messages() {
		_, msg, _ := strings.Cut(line, " ")
		for _, m := range connEndMessages {
			if strings.HasPrefix(msg, m) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// TestConnectionEndLoggedOnce: however a connection ends, the daemon
// logs one line that says why (before, an idle timeout, an unexpected
// message or a drop after a call's error was a line of its own followed
// by "client disconnected").
func TestConnectionEndLoggedOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config func(*Config)
		opts   []DaemonOption
		client func(t *testing.T, u URI)
		want   string
	}{
		{name: "client leaves", want: "INFO pyro: client disconnected",
			client: func(t *testing.T, u URI) {
				c := dialRaw(t, u)
				c.Connect("thing")
				c.Send(rawpyro.Invoke(1, 1, "thing", "echo", "x"))
				if _, err := c.Recv(); err != nil {
					t.Fatal(err)
				}
				c.NC.Close()
			}},
		{name: "idle timeout", want: "INFO pyro: closing idle connection",
			config: func(cfg *Config) { cfg.IdleTimeout = 200 * time.Millisecond },
			client: func(t *testing.T, u URI) {
				c := dialRaw(t, u)
				c.Connect("thing")
				if !c.Closed() {
					t.Error("idle connection not closed")
				}
			}},
		{name: "slow request", want: "INFO pyro: dropping slow client: request not received in time",
			config: func(cfg *Config) { cfg.RequestTimeout = 200 * time.Millisecond; cfg.RequestMinRate = -1 },
			client: func(t *testing.T, u URI) {
				c := dialRaw(t, u)
				c.Connect("thing")
				b, _ := wire.AppendMessage(nil, rawpyro.Invoke(1, 1, "thing", "echo", "x"), nil)
				c.NC.Write(b[:10])
				if !c.Closed() {
					t.Error("slow client not dropped")
				}
			}},
		{name: "second CONNECT", want: "INFO pyro: unexpected message, closing",
			client: func(t *testing.T, u URI) {
				c := dialRaw(t, u)
				c.Connect("thing")
				c.Send(rawpyro.ConnectMessage("thing"))
				if !c.Closed() {
					t.Error("second CONNECT answered")
				}
			}},
		{name: "refused", want: "INFO pyro: connection refused",
			opts: []DaemonOption{WithConnValidators(ConnValidatorFunc(func(context.Context, *ConnInfo) error { return errors.New("no") }))},
			client: func(t *testing.T, u URI) {
				c := dialRaw(t, u)
				c.Send(rawpyro.ConnectMessage("thing"))
				if m, err := c.Recv(); err != nil || m.Type != wire.MsgConnectFail {
					t.Errorf("refusal: %v %v", m, err)
				}
			}},
		{name: "authenticate after the handshake", want: "WARN pyro: authenticate call on an established connection, closing",
			client: func(t *testing.T, u URI) {
				c := dialRaw(t, u)
				c.Connect("thing")
				c.Send(rawpyro.Invoke(1, 1, DaemonObjectID, AuthMethod, "a", "b", "c", "d"))
				if m, err := c.Recv(); err != nil || m.Flags&wire.FlagException == 0 {
					t.Errorf("authenticate: %v %v", m, err)
				}
				if !c.Closed() {
					t.Error("connection not closed")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := BuiltinConfig()
			if tc.config != nil {
				tc.config(cfg)
			}
			rec := &testkit.LogRecorder{}
			d, u, _ := startDaemon(t, cfg, append([]DaemonOption{WithLogger(rec.Logger())}, tc.opts...)...)
			tc.client(t, u)
			deadline := time.Now().Add(testbound.Scale(10 * time.Second))
			for !slices.Contains(endLines(rec), tc.want) {
				if time.Now().After(deadline) {
					t.Fatalf("no %q in the log: %v", tc.want, endLines(rec))
				}
				time.Sleep(5 * time.Millisecond)
			}
			// Shutdown waits for the connection's goroutine: everything
			// it logs is in by then
			ctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(10*time.Second))
			defer cancel()
			if err := d.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if got := endLines(rec); len(got) != 1 {
				t.Errorf("the end of one connection logged %d times: %q", len(got), got)
			}
		})
	}
}
