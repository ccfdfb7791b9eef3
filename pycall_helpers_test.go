package pyro_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
)

// pyCall is one call for testdata/interop/pycall.py, and pyResult what
// came back.
type pyCall struct {
	URI        string `json:"uri"`
	Method     string `json:"method"`
	Args       string `json:"args,omitempty"`
	Kwargs     string `json:"kwargs,omitempty"`
	Serializer string `json:"serializer"`
	// Batch, instead of Method, makes these calls in one batch.
	Batch []pyCall `json:"batch,omitempty"`
}

type pyResult struct {
	OK      bool   `json:"ok"`
	Type    string `json:"type"`
	Repr    string `json:"repr"`
	Class   string `json:"class"`
	Message string `json:"message"`
}

func (r pyResult) String() string {
	if r.OK {
		return r.Type + " " + r.Repr
	}
	return r.Class + ": " + r.Message
}

// runPyCalls runs the calls in a Python Pyro4 client.
func runPyCalls(t *testing.T, calls []pyCall, env ...string) []pyResult {
	t.Helper()
	in, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	res := pytest.Cmd{Args: []string{"testdata/interop/pycall.py"}, Stdin: string(in), Env: env}.Run(t)
	var out []pyResult
	if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil || len(out) != len(calls) {
		t.Fatalf("pycall.py exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	return out
}

// startDaemonWith serves obj as "obj" in a daemon accepting every
// serializer and returns the object's URI.
func startDaemonWith(t *testing.T, obj any, opts ...pyro.DaemonOption) string {
	t.Helper()
	return startObject(t, "obj", obj, opts...)
}

// startObject serves obj as id in a daemon accepting every serializer and
// returns the object's URI.
func startObject(t *testing.T, id string, obj any, opts ...pyro.DaemonOption) string {
	t.Helper()
	return startObjectConfig(t, pyro.BuiltinConfig(), id, obj, opts...)
}

// startObjectConfig is startObject with a config (its accepted serializers
// are set to all four).
func startObjectConfig(t *testing.T, cfg *pyro.Config, id string, obj any, opts ...pyro.DaemonOption) string {
	t.Helper()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	d, err := pyro.NewDaemon(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Register(obj, id)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(10*time.Second))
		defer cancel()
		d.Shutdown(ctx)
		if err := <-served; !errors.Is(err, pyro.ErrDaemonClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return u.String()
}
