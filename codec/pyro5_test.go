package codec_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pyrogo/pyro/codec"
)

// The Pyro5 peer is the upstream source tree in ../shared/peers/Pyro5-src
// (relative to the repository; PYROGO_PYRO5_SRC overrides it), run with
// the same interpreter as Pyro4 (pythonPath). This small locator lives
// here until internal/pytest offers one for Pyro5.

const interop5Script = "testdata/pyro5_interop.py"

var pyro5Src = func() string {
	if p := os.Getenv("PYROGO_PYRO5_SRC"); p != "" {
		return p
	}
	p, _ := filepath.Abs(filepath.Join("..", "..", "shared", "peers", "Pyro5-src"))
	return p
}()

var (
	python5Once sync.Once
	python5Err  error
)

// needPython5 skips the test when Python with the Pyro5 source is not
// available, or fails it when CI is set.
func needPython5(t testing.TB) {
	t.Helper()
	python5Once.Do(func() {
		if _, err := os.Stat(filepath.Join(pyro5Src, "Pyro5", "serializers.py")); err != nil {
			python5Err = err
			return
		}
		out, err := python5Cmd(context.Background(), "check").CombinedOutput()
		if err != nil {
			python5Err = &pythonMissing{err: err, out: string(out)}
		}
	})
	if python5Err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("Python Pyro5 interop required in CI: %v", python5Err)
	}
	t.Skipf("skipping Python Pyro5 interop: %v (needs %s with serpent and msgpack, and Pyro5's source in %s)",
		python5Err, pythonPath, pyro5Src)
}

func python5Cmd(ctx context.Context, mode string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, pythonPath, interop5Script, mode)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pyro5Src, "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1",
		"PYTHONIOENCODING=utf-8")
	return cmd
}

// mustCodec5 returns the Pyro5 codec with default limits for a serializer
// name, made by ForID with Pyro5's id as a server does.
func mustCodec5(name string) codec.Codec {
	id, ok := codec.Pyro5.IDOf(name)
	if !ok {
		panic("unknown serializer " + name)
	}
	c, err := codec.ForID(id, codec.Options{Protocol: codec.Pyro5})
	if err != nil {
		panic(err)
	}
	return c
}
