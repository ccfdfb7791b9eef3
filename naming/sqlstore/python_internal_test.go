package sqlstore

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// sharedEntries are written by one side and read by the other: LIKE's
// special characters, mixed case, non-ASCII, an embedded NUL, empty and
// non-ASCII tags.
var sharedEntries = []naming.Entry{
	{Name: "Pyro.Test", URI: "PYRO:test@localhost:9999", Metadata: []string{"class:Test", "printer"}},
	{Name: "pyro.test", URI: "PYRO:lower@localhost:9999"},
	{Name: "a%b", URI: "PYRO:pct@localhost:1", Metadata: []string{"%"}},
	{Name: "a_b", URI: "PYRO:us@localhost:1", Metadata: []string{"_", "printer"}},
	{Name: "aXb", URI: "PYRO:x@localhost:1"},
	{Name: "AXb", URI: "PYRO:X@localhost:1", Metadata: []string{""}},
	{Name: "ünïcode.名前", URI: "PYRO:u@localhost:1", Metadata: []string{"ü", "名"}},
	{Name: "nul\x00name", URI: "PYRO:nul@localhost:1", Metadata: []string{"t\x00g"}},
	{Name: "replaced", URI: "PYRO:old@localhost:1", Metadata: []string{"old"}},
	{Name: "deleted", URI: "PYRO:gone@localhost:1", Metadata: []string{"gone"}},
}

// sharedWant is what a reader must find after sharedEntries were written,
// "replaced" replaced and "deleted" deleted.
func sharedWant() []naming.Entry {
	var want []naming.Entry
	for _, e := range sharedEntries {
		switch e.Name {
		case "deleted":
			continue
		case "replaced":
			e = naming.Entry{Name: "replaced", URI: "PYRO:new@localhost:2", Metadata: []string{"new", "newer"}}
		}
		e.Metadata = naming.NormalizeTags(e.Metadata)
		want = append(want, e)
	}
	slices.SortFunc(want, func(a, b naming.Entry) int { return strings.Compare(a.Name, b.Name) })
	return want
}

// pyStorage runs testdata/py_storage.py (Pyro4's SqlStorage) and returns
// its stdout.
func pyStorage(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return pyStorageOf(t, "pyro4", stdin, args...)
}

// pyStorageOf runs testdata/py_storage.py with the SqlStorage of impl
// ("pyro4" or "pyro5") and returns its stdout.
func pyStorageOf(t *testing.T, impl, stdin string, args ...string) string {
	t.Helper()
	res := pytest.Cmd{Args: append([]string{"testdata/py_storage.py"}, args...), Stdin: stdin,
		Env: []string{"PYSTORAGE=" + impl}, Pyro5: impl == "pyro5"}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("py_storage.py %v: exit %d\n%s", args, res.ExitCode, res.Stderr)
	}
	return res.Stdout
}

// pyRead returns what Pyro4's SqlStorage finds in the file, by name.
func pyRead(t *testing.T, path string) []naming.Entry {
	t.Helper()
	return pyReadOf(t, "pyro4", path)
}

// pyReadOf returns what the SqlStorage of impl finds in the file, by name.
func pyReadOf(t *testing.T, impl, path string) []naming.Entry {
	t.Helper()
	var rows [][]any
	if err := json.Unmarshal([]byte(pyStorageOf(t, impl, "", "read", path)), &rows); err != nil {
		t.Fatal(err)
	}
	out := make([]naming.Entry, 0, len(rows))
	for _, r := range rows {
		e := naming.Entry{Name: r[0].(string), URI: r[1].(string)}
		for _, tag := range r[2].([]any) {
			e.Metadata = append(e.Metadata, tag.(string))
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b naming.Entry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// goRead returns what the store finds, by name.
func goRead(t *testing.T, s *Store) []naming.Entry {
	t.Helper()
	es := all(t, s)
	slices.SortFunc(es, func(a, b naming.Entry) int { return strings.Compare(a.Name, b.Name) })
	return es
}

func diffEntries(t *testing.T, what string, got, want []naming.Entry) {
	t.Helper()
	if !slices.EqualFunc(got, want, sameEntry) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// Pyro4's SqlStorage writes a file; Open reads it.
func TestPythonWritesGoReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "py.db")
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
		pyStorage(t, string(b), "write", path)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	diffEntries(t, "Go reading Python's file", goRead(t, s), sharedWant())
	// Pyro moved the replaced entry to the end; so does All.
	if es := all(t, s); es[len(es)-1].Name != "replaced" {
		t.Errorf("last entry %q, want the replaced one", es[len(es)-1].Name)
	}
	got, err := s.ListMetadata([]string{"printer"}, true)
	if err != nil || !slices.Equal(sortedNames(got), []string{"Pyro.Test", "a_b"}) {
		t.Errorf("ListMetadata(printer) = %q, %v", sortedNames(got), err)
	}

	// The documented difference: Pyro's LIKE prefix query is
	// case-insensitive with wildcards; ListPrefix is startswith.
	var py map[string][]string
	if err := json.Unmarshal([]byte(pyStorage(t, "", "prefix", path, "a_", "pyro.", "a%")), &py); err != nil {
		t.Fatal(err)
	}
	for p, pyWant := range map[string][]string{
		"a_":    {"AXb", "a%b", "aXb", "a_b"},
		"pyro.": {"Pyro.Test", "pyro.test"},
		"a%":    {"AXb", "a%b", "aXb", "a_b"},
	} {
		if !slices.Equal(py[p], pyWant) {
			t.Errorf("Pyro's optimized_prefix_list(%q) = %q; expected its LIKE quirk %q", p, py[p], pyWant)
		}
	}
	for p, want := range map[string][]string{"a_": {"a_b"}, "pyro.": {"pyro.test"}, "a%": {"a%b"}} {
		got, err := s.ListPrefix(p)
		if err != nil || !slices.Equal(sortedNames(got), want) {
			t.Errorf("ListPrefix(%q) = %q, %v; want %q", p, sortedNames(got), err, want)
		}
	}
}

// Open writes a file; Pyro4's SqlStorage reads it, both while the Go
// store still has it open (the data partly in the -wal file) and after
// Close.
func TestGoWritesPythonReads(t *testing.T) {
	pytest.Python(t) // skip before opening anything: a skip must not leak the Store
	path := filepath.Join(t.TempDir(), "go.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // also after a failure; Close is idempotent
	for _, e := range sharedEntries {
		mustPut(t, s, e.Name, e.URI, e.Metadata...)
	}
	mustPut(t, s, "replaced", "PYRO:new@localhost:2", "newer", "new", "new")
	if n, err := s.Delete("deleted", "not there"); err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	diffEntries(t, "Python reading while Go has the file open", pyRead(t, path), sharedWant())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	diffEntries(t, "Python reading after Close", pyRead(t, path), sharedWant())
}

// goFileEntries are what TestPythonNameServerOnGoFile writes from Go.
var goFileEntries = []naming.Entry{
	{Name: "go.printer", URI: "PYRO:printer@localhost:7001", Metadata: []string{"printer", "color"}},
	{Name: "go.scanner", URI: "PYRO:scanner@localhost:7002", Metadata: []string{"scanner"}},
	{Name: "go.plain", URI: "PYRO:plain@localhost:7003"},
	{Name: "go.ünï", URI: "PYRO:uni@localhost:7004", Metadata: []string{"ü"}},
	{Name: "go.a%b", URI: "PYRO:pct@localhost:7005"},
	{Name: "go.a_b", URI: "PYRO:us@localhost:7006"},
}

// startPyNS starts Python's name server on the SQLite file and returns
// its port; it is killed in t.Cleanup (or by Stop).
func startPyNS(t *testing.T, path string) (*pytest.Server, int) {
	t.Helper()
	port := testkit.FreeTCPPort(t)
	srv := pytest.Cmd{
		Args:  []string{"-m", "Pyro4.naming", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-s", "sql:" + path},
		Ready: regexp.MustCompile(`^URI = (.*)$`),
	}.Start(t)
	return srv, port
}

// pyClient runs testdata/py_ns_client.py against the name server on port
// and decodes its JSON output into out.
func pyClient(t *testing.T, port int, out any, args ...string) {
	t.Helper()
	res := pytest.Cmd{Args: append([]string{"testdata/py_ns_client.py", "127.0.0.1", strconv.Itoa(port)}, args...)}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("py_ns_client.py %v: exit %d\n%s", args, res.ExitCode, res.Stderr)
	}
	if err := json.Unmarshal([]byte(res.Stdout), out); err != nil {
		t.Fatalf("py_ns_client.py output %q: %v", res.Stdout, err)
	}
}

// Python's real name server (python -m Pyro4.naming -s sql:FILE) serves a
// file Go wrote to a Python client, which also changes it; after the
// server is stopped, Go reads the changes.
func TestPythonNameServerOnGoFile(t *testing.T) {
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

	srv, port := startPyNS(t, path)
	var got struct {
		Count       int               `json:"count"`
		Lookup      map[string][2]any `json:"lookup"`
		MetadataAll []string          `json:"metadata_all"`
		MetadataAny []string          `json:"metadata_any"`
		Prefix      []string          `json:"prefix"`
		Removed     int               `json:"removed"`
		CountAfter  int               `json:"count_after"`
	}
	pyClient(t, port, &got, "query")
	if got.Count != len(goFileEntries)+1 {
		t.Errorf("count = %d, want %d (the entries and Pyro.NameServer)", got.Count, len(goFileEntries)+1)
	}
	for _, e := range goFileEntries {
		l, ok := got.Lookup[e.Name]
		var tags []string
		if ok {
			for _, x := range l[1].([]any) {
				tags = append(tags, x.(string))
			}
		}
		if !ok || l[0] != e.URI || !slices.Equal(tags, naming.NormalizeTags(e.Metadata)) {
			t.Errorf("Python lookup(%q) = %v, want %v", e.Name, l, e)
		}
	}
	if !slices.Equal(got.MetadataAll, []string{"go.printer"}) || !slices.Equal(got.MetadataAny, []string{"go.scanner", "go.ünï"}) {
		t.Errorf("metadata queries: all %q, any %q", got.MetadataAll, got.MetadataAny)
	}
	if !slices.Equal(got.Prefix, []string{"go.a%b", "go.a_b"}) {
		t.Errorf("Python's prefix list %q (expected its LIKE wildcard quirk)", got.Prefix)
	}
	if got.Removed != 1 || got.CountAfter != len(goFileEntries)+1 {
		t.Errorf("removed %d, count after %d", got.Removed, got.CountAfter)
	}
	srv.Stop() // SIGKILL

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkIntegrity(t, s)
	want := map[string]naming.Entry{
		"py.new":   {Name: "py.new", URI: "PYRO:new@localhost:4444", Metadata: []string{"fresh", "py"}},
		"go.plain": {Name: "go.plain", URI: "PYRO:plain@localhost:7003", Metadata: []string{"now", "tagged"}},
		"Pyro.NameServer": {Name: "Pyro.NameServer", URI: fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port),
			Metadata: []string{"class:Pyro4.naming.NameServer"}},
	}
	for _, e := range goFileEntries {
		if _, ok := want[e.Name]; !ok && e.Name != "go.scanner" {
			e.Metadata = naming.NormalizeTags(e.Metadata)
			want[e.Name] = e
		}
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

// A Go store and Python's name server use the same file at the same time:
// a Python client registers names through pyro4-ns while Go goroutines
// keep writing and reading; nobody sees "database is locked", and both
// sides end up with everything.
func TestPythonNameServerConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, port := startPyNS(t, path)
	const n = 100 // Python's registrations
	var wg sync.WaitGroup
	done := make(chan struct{})
	var goPuts [2]int
	for w := range goPuts {
		wg.Go(func() {
			for i := 0; i < 5000; i++ {
				select {
				case <-done:
					return
				default:
				}
				name := fmt.Sprintf("go.c.%d.%d", w, i)
				if err := s.Put(naming.Entry{Name: name, URI: "PYRO:x@localhost:1", Metadata: []string{"go"}}); err != nil {
					t.Error(err)
					return
				}
				goPuts[w]++
				if _, err := s.ListPrefix("py.c."); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					if _, err := s.Delete(name); err != nil {
						t.Error(err)
						return
					}
					goPuts[w]--
				}
			}
		})
	}
	var py struct {
		Listed int `json:"listed"`
	}
	pyClient(t, port, &py, "register", "py.c.", strconv.Itoa(n)) // meanwhile
	close(done)
	wg.Wait()
	goN := goPuts[0] + goPuts[1]
	t.Logf("Go committed %d names while Python registered %d", goN, n)
	if py.Listed != n {
		t.Errorf("Python listed %d of its names", py.Listed)
	}
	for _, c := range []struct {
		prefix, tag string
		n           int
	}{{"py.c.", "py", n}, {"go.c.", "go", goN}} {
		got, err := s.ListPrefix(c.prefix)
		if err != nil || len(got) != c.n {
			t.Errorf("Go lists %d names %s*, %v; want %d", len(got), c.prefix, err, c.n)
		}
		if got, err := s.ListMetadata([]string{c.tag}, true); err != nil || len(got) != c.n {
			t.Errorf("Go finds %d names tagged %s, %v; want %d", len(got), c.tag, err, c.n)
		}
	}
	var pyCount struct {
		Listed int `json:"listed"`
	}
	pyClient(t, port, &pyCount, "register", "go.c.", "0") // lists go.c.* from Python's side
	if pyCount.Listed != goN {
		t.Errorf("Python lists %d Go names, want %d", pyCount.Listed, goN)
	}
}
