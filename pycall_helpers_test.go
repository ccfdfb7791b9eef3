package pyro_test

import (
	"encoding/json"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
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
