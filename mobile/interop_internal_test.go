package mobile

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pytest"
)

// TestPythonClient: Python Pyro4 (serpent and msgpack) and Pyro5 clients
// ship the Go-built module with its signature file, call it (bytes in, a
// summary out), see the refusals and limits as Python exceptions, list
// and unload it.
func TestPythonClient(t *testing.T) {
	bin, path := goModuleFile(t, "basic")
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sigFile := filepath.Join(t.TempDir(), "basic.wasm.sig")
	if err := os.WriteFile(sigFile, FormatSignature(Sign(priv, bin)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1000)
	var sum, above, mx int64
	for i := range data {
		data[i] = byte(i*7 + i/13)
		sum += int64(data[i])
		if data[i] > 100 {
			above++
		}
		mx = max(mx, int64(data[i]))
	}
	id := idOf(bin)
	s := startServed(t, nil, WithValidator(SignedBy(pub)), WithCallTimeout(time.Second), WithMemoryPages(256))
	steps := []pytest.MobileStep{
		{Op: "load", Args: []any{map[string]any{"$file": path}}},
		{Op: "load", Args: []any{map[string]any{"$file": path}, map[string]any{"$text": sigFile}}},
		{Op: "call", Args: []any{id, "summary", map[string]any{"$bytes": base64.StdEncoding.EncodeToString(data)}, 100}},
		{Op: "call", Args: []any{id, "add", 2, 3}},
		{Op: "call", Args: []any{id, "echo", "text", []any{1.5, nil, true}}},
		{Op: "call", Args: []any{id, "spin"}},
		{Op: "call", Args: []any{id, "grow", 1000}},
		{Op: "call", Args: []any{id, "fail", 1}},
		{Op: "modules"},
		{Op: "unload", Args: []any{id}},
		{Op: "modules"},
	}
	peers := []struct {
		name  string
		pyro5 bool
		env   []string
	}{
		{"Pyro4 serpent", false, nil},
		{"Pyro4 msgpack", false, []string{"PYRO_SERIALIZER=msgpack"}},
		{"Pyro5 serpent", true, nil},
	}
	for _, peer := range peers {
		t.Run(peer.name, func(t *testing.T) {
			out := pytest.RunPyMobile(t, s.uri.String(), peer.pyro5, peer.env, steps...)
			fail := func(i int, class, fragment string) {
				t.Helper()
				r := out[i]
				if r.OK || r.Error != class || !contains(r.Msg, fragment) {
					t.Errorf("step %d (%s): %+v; want %s with %q", i, steps[i].Op, r, class, fragment)
				}
			}
			ok := func(i int, want string) {
				t.Helper()
				r := out[i]
				if !r.OK || jsonText(r.Result) != want {
					t.Errorf("step %d (%s): %+v; want %s", i, steps[i].Op, r, want)
				}
			}
			fail(0, "SecurityError", "refused: it is not signed")
			ok(1, jsonText(id))
			ok(2, jsonText(map[string]any{"above": above, "count": 1000, "max": mx, "sum": sum}))
			ok(3, "5")
			ok(4, `["text",[1.5,null,true]]`)
			fail(5, "TimeoutError", "time cap is 1s")
			fail(6, "MemoryError", "ran out of memory")
			fail(7, "RuntimeError", "fail failed: bad input: [1]")
			r := out[8]
			mods, _ := r.Result.([]any)
			if !r.OK || len(mods) != 1 {
				t.Fatalf("modules(): %+v", r)
			}
			m, _ := mods[0].(map[string]any)
			if m["id"] != id || m["size"] != float64(len(bin)) || m["loaders"] != float64(1) || jsonText(m["loaded_by"]) != `["client at 127.0.0.1"]` {
				t.Errorf("modules(): %v", m)
			}
			ok(9, "null")
			ok(10, "[]")
		})
	}
}
