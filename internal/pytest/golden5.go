package pytest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Golden5Path returns the path of a golden file of Pyro5's answers,
// testdata/interop5/golden/NAME.json.
func Golden5Path(name string) string {
	return filepath.Join(ModuleRoot(), "testdata", "interop5", "golden", name+".json")
}

// WriteGolden5 records results as the golden file name (what Pyro5's own
// servers answer). Only the tests of the Pyro5 peers write golden files.
func WriteGolden5(t testing.TB, name string, results []Result5) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, r := range results {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		if i < len(results)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	path := Golden5Path(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReadGolden5 returns the results recorded in the golden file name.
func ReadGolden5(t testing.TB, name string) []Result5 {
	t.Helper()
	data, err := os.ReadFile(Golden5Path(name))
	if err != nil {
		t.Fatalf("golden file (record it with the Pyro5 peers' tests and -update): %v", err)
	}
	var out []Result5
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("golden file %s: %v", name, err)
	}
	return out
}

// CheckGolden5 compares results with the golden file name step by step
// and reports every difference. For the steps named in loose only
// whether they succeeded, the result's type and value, or the
// exception's class and whether it came with a remote traceback, are
// compared (not the message, args and traceback: an implementation's own
// wording of, say, a TypeError about an argument).
func CheckGolden5(t testing.TB, name string, results []Result5, loose ...string) {
	t.Helper()
	CheckGolden5With(t, name, results, Golden5Options{Loose: loose})
}

// Golden5Options say how CheckGolden5With compares.
type Golden5Options struct {
	// Loose steps are compared as CheckGolden5's loose ones.
	Loose []string
	// Sets are steps whose values are compared with their lists in any
	// order: the lists a Python server sends for its sets where the
	// serializer has no set type (json, msgpack), such as Pyro.Daemon's
	// get_metadata, are in Python's hash order, which no other
	// implementation reproduces.
	Sets []string
	// Own are steps not compared at all: where the implementation under
	// test deliberately answers otherwise than Pyro5's server (the
	// caller checks those results itself and says why).
	Own []string
}

// CheckGolden5With is CheckGolden5 with the comparisons opts relax.
func CheckGolden5With(t testing.TB, name string, results []Result5, opts Golden5Options) {
	t.Helper()
	loose, sets := opts.Loose, opts.Sets
	want := ReadGolden5(t, name)
	for i := range want {
		if slices.Contains(sets, want[i].Name) {
			want[i].Value = sortedLists5(want[i].Value)
		}
	}
	results = slices.Clone(results)
	for i := range results {
		if slices.Contains(sets, results[i].Name) {
			results[i].Value = sortedLists5(results[i].Value)
		}
	}
	if len(want) != len(results) {
		t.Errorf("%s: %d results, golden file has %d", name, len(results), len(want))
	}
	for i := range min(len(want), len(results)) {
		g, w := results[i], want[i]
		if g.Name != w.Name {
			t.Errorf("%s: result %d is %q, golden file has %q", name, i, g.Name, w.Name)
			continue
		}
		if slices.Contains(opts.Own, g.Name) {
			continue
		}
		if slices.Contains(loose, g.Name) {
			g, w = looseResult5(g), looseResult5(w)
		}
		if gj, wj := compactJSON(g), compactJSON(w); gj != wj {
			t.Errorf("%s: %s differs from Pyro5's answer:\n got: %s\nwant: %s", name, g.Name, gj, wj)
		}
	}
}

func looseResult5(r Result5) Result5 {
	if !r.OK {
		r.Message, r.Args, r.TracebackTail = "", nil, ""
	}
	return r
}

// sortedLists5 returns a canonical value (see Result5) with the items of
// every ["list", [...]] in it sorted by their JSON form.
func sortedLists5(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sortedLists5(e)
		}
		if len(out) == 2 && out[0] == "list" {
			if items, ok := out[1].([]any); ok {
				slices.SortFunc(items, func(a, b any) int { return strings.Compare(compactJSON(a), compactJSON(b)) })
			}
		}
		return out
	}
	return v
}
