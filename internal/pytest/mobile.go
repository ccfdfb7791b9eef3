package pytest

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// MobileStep is one call of RunPyMobile: Op is load, call, unload or
// modules; in Args, {"$file": path} sends a file's bytes, {"$bytes":
// base64} bytes, {"$text": path} a file's text.
type MobileStep struct {
	Op   string `json:"op"`
	Args []any  `json:"args"`
}

// MobileResult is how a step ended: Result (bytes as {"$bytes": base64})
// or Error (the Python exception class name) and Msg.
type MobileResult struct {
	OK     bool   `json:"ok"`
	Result any    `json:"result"`
	Error  string `json:"error"`
	Msg    string `json:"msg"`
}

// RunPyMobile runs testdata/mobile/pymobile.py (Pyro4, or Pyro5) against
// the mobile code service at uri with env's PYRO_* settings and returns
// each step's outcome. A run that does not report every step fails the
// test.
func RunPyMobile(t testing.TB, uri string, pyro5 bool, env []string, steps ...MobileStep) []MobileResult {
	t.Helper()
	in, err := json.Marshal(steps)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join(ModuleRoot(), "testdata", "mobile", "pymobile.py")}
	if pyro5 {
		args = append(args, "--pyro5")
	}
	res := Cmd{Args: append(args, uri), Env: env, Stdin: string(in), Pyro5: pyro5}.Run(t)
	var out []MobileResult
	for line := range strings.Lines(res.Stdout) {
		var r MobileResult
		if json.Unmarshal([]byte(line), &r) == nil && (r.OK || r.Error != "") {
			out = append(out, r)
		}
	}
	if res.ExitCode != 0 || len(out) != len(steps) {
		t.Fatalf("pymobile.py (exit %d) reported %d of %d steps:\n%s\n%s", res.ExitCode, len(out), len(steps), res.Stdout, res.Stderr)
	}
	return out
}
