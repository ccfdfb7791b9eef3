package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
)

var mobileBuilds struct {
	sync.Mutex
	dir  string
	done map[string]string
}

// wasmModule builds the Go module in dir (relative to the repository
// root) with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared, once per test
// run, offline, and returns the path of the .wasm file.
func wasmModule(t testing.TB, dir string) string {
	t.Helper()
	p, err := buildWasm(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// buildWasm is wasmModule returning the error.
func buildWasm(dir string) (string, error) {
	mobileBuilds.Lock()
	defer mobileBuilds.Unlock()
	if p, ok := mobileBuilds.done[dir]; ok {
		return p, nil
	}
	if mobileBuilds.dir == "" {
		d, err := os.MkdirTemp("", "pyrogo-cmd-wasm")
		if err != nil {
			return "", err
		}
		mobileBuilds.dir, mobileBuilds.done = d, map[string]string{}
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building %s needs the go command: %v", dir, err)
	}
	out := filepath.Join(mobileBuilds.dir, strings.ReplaceAll(dir, "/", "_")+".wasm")
	cmd := exec.Command(gobin, "build", "-trimpath", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = filepath.Join(pytest.ModuleRoot(), dir)
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED", "GOPROXY", "GOWASM":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOPROXY=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", dir, err, b)
	}
	mobileBuilds.done[dir] = out
	return out, nil
}

// removeWasmBuilds deletes what wasmModule built (TestMain).
func removeWasmBuilds() {
	mobileBuilds.Lock()
	defer mobileBuilds.Unlock()
	if mobileBuilds.dir != "" {
		os.RemoveAll(mobileBuilds.dir)
	}
	mobileBuilds.dir, mobileBuilds.done = "", nil
}

// mobileCmd runs "pyro mobile ARGS" in-process.
func mobileCmd(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"mobile"}, args...), &out, &errb, environ)
	return code, out.String(), errb.String()
}

// copyFile copies src to a new file dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// withCustomSection returns module with a custom section appended: still
// a valid module, with another hash.
func withCustomSection(module []byte, name, payload string) []byte {
	body := append([]byte{byte(len(name))}, name...)
	body = append(body, payload...)
	out := append(append([]byte(nil), module...), 0)
	n := len(body)
	for { // LEB128
		b := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, b|0x80)
			continue
		}
		out = append(out, b)
		break
	}
	return append(out, body...)
}
