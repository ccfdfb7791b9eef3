package codec_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pytest"
)

// The Pyro5 peer is internal/pytest's (the upstream source tree in
// ../shared/peers/Pyro5-src, or where PYROGO_PYRO5 points), run with the
// same interpreter as Pyro4 (pythonPath).

const interop5Script = "testdata/pyro5_interop.py"

var pyro5Src = pytest.Pyro5Source()

// needPython5 skips the test when Python with the Pyro5 source is not
// available, or fails it when CI is set.
func needPython5(t testing.TB) {
	t.Helper()
	pytest.Pyro5(t)
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
