package codec_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// pythonPath is the interpreter that has Pyro4 4.82, serpent and msgpack;
// the environment variable PYROGO_PYTHON overrides it.
var pythonPath = func() string {
	if p := os.Getenv("PYROGO_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}()

const interopScript = "testdata/pyro_interop.py"

var (
	pythonOnce sync.Once
	pythonErr  error
)

// needPython skips the test when Python with Pyro4 is not available, or
// fails it when the environment variable CI is set (where the interop
// tests must run).
func needPython(t testing.TB) {
	t.Helper()
	pythonOnce.Do(func() {
		out, err := pythonCmd(context.Background(), "check").CombinedOutput()
		if err != nil {
			pythonErr = &pythonMissing{err: err, out: string(out)}
		}
	})
	if pythonErr == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("Python interop required in CI: %v", pythonErr)
	}
	t.Skipf("skipping Python interop: %v (needs %s with Pyro4 4.82, serpent and msgpack)", pythonErr, pythonPath)
}

type pythonMissing struct {
	err error
	out string
}

func (e *pythonMissing) Error() string { return e.err.Error() + ": " + e.out }

func pythonCmd(ctx context.Context, mode string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, pythonPath, interopScript, mode)
	// A fixed hash seed makes Python's set order, and so the order of
	// sets and proxy name lists on the wire, reproducible; no .pyc files
	// are written into testdata.
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8")
	return cmd
}

// runPython runs the interop script once in the given mode, feeding it
// the JSON lines in input, and decodes its JSON-line output into one
// value of type T per line.
func runPython[T any](t *testing.T, mode string, input []any) []T {
	t.Helper()
	return runScript[T](t, pythonCmd, mode, input)
}

// runScript is runPython for the interpreter command that mkCmd makes.
func runScript[T any](t *testing.T, mkCmd func(context.Context, string) *exec.Cmd, mode string, input []any) []T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := mkCmd(ctx, mode)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, rec := range input {
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python %s: %v\n%s", mode, err, stderr.String())
	}
	var recs []T
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("python %s: bad output line %q: %v", mode, sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}
