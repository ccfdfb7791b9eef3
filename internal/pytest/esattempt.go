package pytest

import (
	"encoding/json"
	"strings"
	"testing"
)

// Attempt is how one call of RunPyAttempts ended.
type Attempt struct {
	Step  string `json:"step"`
	OK    bool   `json:"ok"`
	Error string `json:"error"` // the Python exception class, e.g. SecurityError
	Msg   string `json:"msg"`
}

// RunPyAttempts runs testdata/events/pyattempt.py against the event
// service at es (Pyro4, or Pyro5 when pyro5) with steps such as
// "publish:lab.x", "subscribe:lab.x:self" (its own daemon's object) or
// "subscribe:lab.x:PYRO:obj@192.0.2.1:9", and returns each step's
// outcome, in order. env adds PYRO_* settings. A run that does not report
// every step fails the test.
func RunPyAttempts(t testing.TB, es string, pyro5 bool, env []string, steps ...string) []Attempt {
	t.Helper()
	res := Cmd{Args: eventsArgs("pyattempt.py", pyro5, append([]string{"--es", es}, steps...)...),
		Env: eventsEnv(pyro5, "", env), Pyro5: pyro5}.Run(t)
	var out []Attempt
	for line := range strings.Lines(res.Stdout) {
		var a Attempt
		if json.Unmarshal([]byte(line), &a) == nil && a.Step != "" {
			out = append(out, a)
		}
	}
	if res.ExitCode != 0 || len(out) != len(steps) {
		t.Fatalf("pyattempt.py (exit %d) reported %d of %d steps:\n%s\n%s", res.ExitCode, len(out), len(steps), res.Stdout, res.Stderr)
	}
	return out
}
