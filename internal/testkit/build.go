package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var builds struct {
	mu   sync.Mutex
	dir  string            // made on the first build, removed by RemoveBuilds
	done map[string]string // build key -> binary path
	errs map[string]error
}

// PyroPackage is the import path of the pyro command.
const PyroPackage = "github.com/pyrogo/pyro/cmd/pyro"

// GoBuild builds the main package pkg (an import path) once per test
// binary and returns the path of the executable. With noRace the build
// drops -race from GOFLAGS: the memory of a race-instrumented binary says
// nothing about the real one; otherwise it is built as the tests are.
// The binaries live in a temporary directory that RemoveBuilds deletes
// (call it from TestMain).
func GoBuild(t testing.TB, pkg string, noRace bool) string {
	t.Helper()
	if !strings.Contains(os.Getenv("GOFLAGS"), "-race") {
		noRace = false // the same build
	}
	key := fmt.Sprintf("%s noRace=%v", pkg, noRace)
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if bin, ok := builds.done[key]; ok {
		return bin
	}
	if err, ok := builds.errs[key]; ok {
		t.Fatal(err)
	}
	bin, err := goBuild(pkg, noRace)
	if err != nil {
		if builds.errs == nil {
			builds.errs = map[string]error{}
		}
		builds.errs[key] = err
		t.Fatal(err)
	}
	if builds.done == nil {
		builds.done = map[string]string{}
	}
	builds.done[key] = bin
	return bin
}

func goBuild(pkg string, noRace bool) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("testkit: building %s: %v", pkg, err)
	}
	if builds.dir == "" {
		if builds.dir, err = os.MkdirTemp("", "pyrogo-test-build"); err != nil {
			return "", err
		}
	}
	name := path.Base(pkg)
	if noRace {
		name += "-norace"
	}
	bin := filepath.Join(builds.dir, name)
	cmd := exec.Command(gobin, "build", "-o", bin, pkg)
	if noRace {
		var flags []string
		for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
			if f != "-race" {
				flags = append(flags, f)
			}
		}
		cmd.Env = append(os.Environ(), "GOFLAGS="+strings.Join(flags, " "))
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testkit: go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// PyroCommand returns the pyro command built as the tests are (see
// GoBuild).
func PyroCommand(t testing.TB) string {
	t.Helper()
	return GoBuild(t, PyroPackage, false)
}

// RemoveBuilds deletes what GoBuild built. Call it once the tests have
// run, from TestMain.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.done, builds.errs = "", nil, nil
}
