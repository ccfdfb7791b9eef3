package events_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
)

// TestReadmePythonEvents runs README.md's Python event script (the
// python block that starts with "# es_python.py") against the Go service
// and checks that it prints what the README says it prints.
func TestReadmePythonEvents(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(pytest.ModuleRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```python\n# es_python.py")
	if !ok {
		t.Fatal("README.md has no es_python.py block")
	}
	script, rest, _ := strings.Cut(rest, "```")
	_, shown, _ := strings.Cut(rest, "es_python.py PYRO:Pyro.EventService@127.0.0.1:9090\n")
	shown, _, _ = strings.Cut(shown, "```")
	path := filepath.Join(t.TempDir(), "es_python.py")
	if err := os.WriteFile(path, []byte("# es_python.py"+script), 0o644); err != nil {
		t.Fatal(err)
	}
	es := goES(t, pytest.PyES{})
	res := pytest.Cmd{Args: []string{path, es.URI}}.Run(t)
	if res.ExitCode != 0 || res.Stdout != shown || shown == "" {
		t.Errorf("es_python.py: exit %d\ngot:\n%s\nREADME says:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, shown, res.Stderr)
	}
}
