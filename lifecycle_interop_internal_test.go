package pyro

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit"
)

// lifecycleScript runs testdata/interop/lifecycle.py in a mode against
// uri and decodes its JSON answer.
func lifecycleScript(t *testing.T, mode, uri string, args ...string) map[string]any {
	t.Helper()
	res := pytest.Cmd{Args: append([]string{"testdata/interop/lifecycle.py", mode, uri}, args...)}.Run(t)
	var out map[string]any
	if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil {
		t.Fatalf("lifecycle.py %s: exit %d\nstdout:\n%s\nstderr:\n%s", mode, res.ExitCode, res.Stdout, res.Stderr)
	}
	return out
}

// TestInteropLifecycle: Python Pyro4 clients against the limits: a
// refused stream is a DaemonError the Python client raises; a Python
// client that dies in a call cancels the method's context; an idle Python
// proxy keeps working by default; a Python client pipelining oneway calls
// is slowed down, not dropped.
func TestInteropLifecycle(t *testing.T) {
	pytest.Python(t)
	t.Run("stream refusal", func(t *testing.T) {
		_, u, _ := startLC(t, nil, context.Background())
		out := lifecycleScript(t, "streams", u.String())
		if r, _ := out["refusal"].(string); !strings.HasPrefix(r, "DaemonError: too many open item streams on this connection (ITER_STREAM_MAXCONN=64)") {
			t.Errorf("65th stream: %q", r)
		}
		if b, _ := json.Marshal(out["first"]); string(b) != "[0,1,2]" {
			t.Errorf("first stream: %s", b)
		}
		if b, _ := json.Marshal(out["after"]); string(b) != "[0,1]" {
			t.Errorf("stream after one ended: %s", b)
		}
	})
	t.Run("client dies in a call", func(t *testing.T) {
		_, u, o := startLC(t, nil, context.Background())
		s := pytest.Cmd{Args: []string{"testdata/interop/lifecycle.py", "disconnect", u.String()}}.Start(t)
		testkit.Receive(t, o.entered, "method entered")
		s.Stop()
		if cause := testkit.Receive(t, o.causes, "method's context ended"); !errors.Is(cause, ErrClientGone) {
			t.Errorf("cause %v", cause)
		}
	})
	t.Run("idle proxy", func(t *testing.T) {
		_, u, _ := startLC(t, nil, context.Background())
		out := lifecycleScript(t, "idle", u.String(), "1.5")
		if out["before"] != 1.0 || out["after"] != 2.0 {
			t.Errorf("idle Python proxy: %v", out)
		}
	})
	t.Run("oneway backpressure", func(t *testing.T) {
		const calls = 200
		cfg := BuiltinConfig()
		cfg.OnewayMaxConn = 8
		_, u, o := startLC(t, cfg, context.Background())
		released := make(chan int64, 1)
		go func() {
			// release once the limit is reached (or after a generous bound:
			// the checks below then fail)
			deadline := time.Now().Add(testbound.Scale(10 * time.Second))
			for o.running.Load() < 8 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // more would start now, if they could
			released <- o.running.Load()
			close(o.release)
		}()
		out := lifecycleScript(t, "oneway", u.String(), strconv.Itoa(calls))
		if r := <-released; r != 8 {
			t.Errorf("%d oneway calls running before the release, limit 8", r)
		}
		testkit.Eventually(t, "all oneway calls run", func() bool { return o.finished.Load() == calls })
		if out["after"] != "after" || o.maxRun.Load() > 8 {
			t.Errorf("python: %v; %d of %d oneway calls run, up to %d at once (limit 8)", out, o.finished.Load(), calls, o.maxRun.Load())
		}
	})
}
