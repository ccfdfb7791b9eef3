package pytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Pyro5Env names the environment variable that points at a Pyro5 source
// tree (the directory holding the Pyro5 package) to use instead of
// ../shared/peers/Pyro5-src beside the module root.
const Pyro5Env = "PYROGO_PYRO5"

var (
	find5Once sync.Once
	found5    Pyro5Peer
	find5Err  error
)

// Pyro5Peer is the Python Pyro5 that Pyro5 guards found.
type Pyro5Peer struct {
	// Source is the directory put on PYTHONPATH (it holds Pyro5/).
	Source string
	// Version is Pyro5.__version__, e.g. "5.17-dev0".
	Version string
}

// ModuleRoot returns the root directory of the pyrogo module (where
// go.mod is), found from this source file's location.
func ModuleRoot() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(self), "..", ".."))
}

// Pyro5Source returns where the Pyro5 source tree is looked for: the
// directory named by PYROGO_PYRO5 when it is set, else
// ../shared/peers/Pyro5-src relative to the module root.
func Pyro5Source() string {
	if p := os.Getenv(Pyro5Env); p != "" {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	return filepath.Join(ModuleRoot(), "..", "shared", "peers", "Pyro5-src")
}

// Pyro5 returns the Pyro5 peer: the interpreter of Python (which must
// have serpent and msgpack) importing Pyro5 5.x from Pyro5Source. Without
// one it skips the test, or fails it when the environment variable CI is
// non-empty, as Python does for Pyro4.
func Pyro5(t testing.TB) Pyro5Peer {
	t.Helper()
	py := Python(t)
	find5Once.Do(func() { found5, find5Err = findPyro5(py, Pyro5Source()) })
	if find5Err == nil {
		return found5
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the Pyro5 peer is required in CI: %v", find5Err)
	}
	t.Skipf("skipping Pyro5 interop: %v", find5Err)
	return Pyro5Peer{}
}

func findPyro5(python, src string) (Pyro5Peer, error) {
	if _, err := os.Stat(filepath.Join(src, "Pyro5", "__init__.py")); err != nil {
		return Pyro5Peer{}, fmt.Errorf("no Pyro5 source tree at %s (set %s to the directory that holds Pyro5/): %w", src, Pyro5Env, err)
	}
	cmd := exec.Command(python, "-c", "import os, Pyro5, serpent, msgpack; print(Pyro5.__version__); print(os.path.dirname(os.path.dirname(os.path.abspath(Pyro5.__file__))))")
	cmd.Env = Env("PYTHONPATH=" + src)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Pyro5Peer{}, fmt.Errorf("%s cannot import Pyro5 from %s: %v: %s", python, src, err, lastLine(string(out)))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return Pyro5Peer{}, fmt.Errorf("%s: unexpected answer %q", python, out)
	}
	version, from := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
	if !strings.HasPrefix(version, "5.") {
		return Pyro5Peer{}, fmt.Errorf("%s has Pyro5 %s, need 5.x", src, version)
	}
	if same, err := sameDir(from, src); err != nil || !same {
		return Pyro5Peer{}, fmt.Errorf("Pyro5 was imported from %s, not from %s", from, src)
	}
	return Pyro5Peer{Source: src, Version: version}, nil
}

func sameDir(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

// env returns the extra environment of a process: c.Env, after
// PYTHONPATH for the Pyro5 peer when c.Pyro5 is set.
func (c Cmd) env(t testing.TB) []string {
	t.Helper()
	if !c.Pyro5 {
		return c.Env
	}
	return append([]string{"PYTHONPATH=" + Pyro5(t).Source}, c.Env...)
}
