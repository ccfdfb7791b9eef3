package pytest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// SerializerInterop runs testdata/serializer_interop.py of this package
// once for a whole corpus: each request is one JSON line on stdin, each
// answer one JSON line on stdout. serializer is a Pyro serializer name
// ("json", "msgpack") and mode the script's direction ("dump" makes
// Python serialize, "load" makes it check Go's bytes; see the script).
// It skips or fails like Python when no interpreter is available.
func SerializerInterop(t testing.TB, serializer, mode string, reqs []map[string]any) []map[string]any {
	t.Helper()
	python := Python(t)
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "testdata", "serializer_interop.py")
	var in bytes.Buffer
	for _, r := range reqs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(line)
		in.WriteByte('\n')
	}
	cmd := exec.Command(python, "-u", script, serializer, mode)
	cmd.Env = Env()
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python %s: %v\n%s", filepath.Base(script), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(reqs) {
		t.Fatalf("python answered %d lines for %d requests\n%s", len(lines), len(reqs), stderr.String())
	}
	ans := make([]map[string]any, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &ans[i]); err != nil {
			t.Fatalf("bad answer %q: %v", l, err)
		}
	}
	return ans
}

// ListLiteral writes items (strings and numbers) as a Python list
// literal, each in its JSON form, which Python reads the same way.
func ListLiteral(items []any) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		s, err := json.Marshal(it)
		if err != nil {
			panic("pytest: ListLiteral: " + err.Error())
		}
		b.Write(s)
	}
	b.WriteByte(']')
	return b.String()
}
