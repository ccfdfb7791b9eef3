package sqlstore

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/naming"
)

// Pyro5's SqlStorage (Pyro5/nameserver.py) has Pyro4's tables, so a Pyro5
// name server and the Go store share a file as Pyro4's does: each reads
// what the other wrote.
func TestPyro5SharesFile(t *testing.T) {
	pytest.Pyro5(t) // skip before opening anything: a skip must not leak the Store
	t.Run("pyro5 writes, go reads", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "py5.db")
		type req struct {
			Put    [][]any  `json:"put,omitempty"`
			Delete []string `json:"delete,omitempty"`
		}
		var first req
		for _, e := range sharedEntries {
			first.Put = append(first.Put, []any{e.Name, e.URI, append([]string{}, e.Metadata...)})
		}
		second := req{
			Put:    [][]any{{"replaced", "PYRO:new@localhost:2", []string{"newer", "new"}}},
			Delete: []string{"deleted", "not there"},
		}
		for _, r := range []req{first, second} {
			b, _ := json.Marshal(r)
			pyStorageOf(t, "pyro5", string(b), "write", path)
		}
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		diffEntries(t, "Go reading Pyro5's file", goRead(t, s), sharedWant())
	})
	t.Run("go writes, pyro5 reads", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "go.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		for _, e := range sharedEntries {
			mustPut(t, s, e.Name, e.URI, e.Metadata...)
		}
		mustPut(t, s, "replaced", "PYRO:new@localhost:2", "newer", "new")
		if n, err := s.Delete("deleted"); err != nil || n != 1 {
			t.Fatalf("Delete = %d, %v", n, err)
		}
		diffEntries(t, "Pyro5 reading while Go has the file open", pyReadOf(t, "pyro5", path), sharedWant())
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		diffEntries(t, "Pyro5 reading after Close", pyReadOf(t, "pyro5", path), sharedWant())
	})
}

// pyro5NSClient is a Pyro5 client of the name server at sys.argv[1]: it
// prints (JSON) the listing with metadata and a yplookup, and registers
// py5.new.
const pyro5NSClient = `import sys, json, Pyro5.api
ns = Pyro5.api.Proxy(sys.argv[1])
out = {"list": {n: [u, sorted(m)] for n, (u, m) in ns.list(return_metadata=True).items()},
       "yp": sorted(ns.yplookup(meta_all=["printer", "color"], return_metadata=False))}
ns.register("py5.new", "PYRO:new@localhost:4444", metadata={"py5"})
print(json.dumps(out))
`

// Pyro5's real name server (python -m Pyro5.nameserver -s sql:FILE) serves
// a file Go wrote, and a Pyro5 client's registration reaches Go's store.
func TestPyro5NameServerOnGoFile(t *testing.T) {
	pytest.Pyro5(t)
	path := filepath.Join(t.TempDir(), "ns.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range goFileEntries {
		mustPut(t, s, e.Name, e.URI, e.Metadata...)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ns := pytest.StartNameServer5(t, pytest.NS5{Storage: "sql:" + path})
	res := pytest.Cmd{Args: []string{"-c", pyro5NSClient, ns.URI}, Pyro5: true}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("Pyro5 client: exit %d\n%s", res.ExitCode, res.Stderr)
	}
	var got struct {
		List map[string][2]any `json:"list"`
		YP   []string          `json:"yp"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &got); err != nil {
		t.Fatalf("Pyro5 client said %q: %v", res.Stdout, err)
	}
	for _, e := range goFileEntries {
		l, ok := got.List[e.Name]
		var tags []string
		if ok {
			for _, x := range l[1].([]any) {
				tags = append(tags, x.(string))
			}
		}
		if !ok || l[0] != e.URI || !slices.Equal(tags, naming.NormalizeTags(e.Metadata)) {
			t.Errorf("Pyro5 list: %q = %v, want %v", e.Name, l, e)
		}
	}
	if !slices.Equal(got.YP, []string{"go.printer"}) {
		t.Errorf("Pyro5 yplookup: %q", got.YP)
	}
	ns.Stop()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkIntegrity(t, s)
	want := map[string]naming.Entry{
		"py5.new":         {Name: "py5.new", URI: "PYRO:new@localhost:4444", Metadata: []string{"py5"}},
		"Pyro.NameServer": {Name: "Pyro.NameServer", URI: ns.URI, Metadata: []string{"class:Pyro5.nameserver.NameServer"}},
	}
	for _, e := range goFileEntries {
		e.Metadata = naming.NormalizeTags(e.Metadata)
		want[e.Name] = e
	}
	got2 := goRead(t, s)
	if len(got2) != len(want) {
		t.Errorf("Go finds %d entries, want %d: %q", len(got2), len(want), got2)
	}
	for _, e := range got2 {
		if w, ok := want[e.Name]; !ok || !sameEntry(e, w) {
			t.Errorf("Go finds %q, want %q", e, w)
		}
	}
}
