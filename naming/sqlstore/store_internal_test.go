package sqlstore

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/pyrogo/pyro/naming"
)

func TestMain(m *testing.M) {
	if runChild() {
		return
	}
	code := m.Run()
	removeBenchTemplate()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// openTemp opens a store in a new file of a temporary directory; it is
// closed in t.Cleanup.
func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "ns.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustPut(t testing.TB, s naming.Storage, name, uri string, tags ...string) {
	t.Helper()
	if err := s.Put(naming.Entry{Name: name, URI: uri, Metadata: tags}); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

// all returns the entries of s.All in iteration order.
func all(t testing.TB, s naming.Storage) []naming.Entry {
	t.Helper()
	var out []naming.Entry
	for e, err := range s.All() {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// names returns the names of es.
func names(es []naming.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

// sortedNames returns the names of es, sorted.
func sortedNames(es []naming.Entry) []string {
	out := names(es)
	slices.Sort(out)
	return out
}

func sameEntry(a, b naming.Entry) bool {
	return a.Name == b.Name && a.URI == b.URI && slices.Equal(a.Metadata, b.Metadata)
}

func TestContract(t *testing.T) {
	s := openTemp(t)
	if s.JournalMode() != "wal" {
		t.Errorf("journal mode %q, want wal", s.JournalMode())
	}
	if n, err := s.Len(); err != nil || n != 0 {
		t.Fatalf("empty Len = %d, %v", n, err)
	}
	if _, ok, err := s.Get("x"); ok || err != nil {
		t.Fatalf("empty Get = %v, %v", ok, err)
	}
	if es := all(t, s); len(es) != 0 {
		t.Fatalf("empty All = %v", es)
	}

	mustPut(t, s, "a", "PYRO:a@h:1", "z", "b", "z", "a") // duplicate tag: a set
	mustPut(t, s, "b", "PYRO:b@h:1")
	mustPut(t, s, "c", "PYRO:c@h:1", "")
	steps := []struct {
		name string
		do   func() error
		want []naming.Entry // All afterwards, in order
	}{
		{"initial", nil, []naming.Entry{
			{Name: "a", URI: "PYRO:a@h:1", Metadata: []string{"a", "b", "z"}},
			{Name: "b", URI: "PYRO:b@h:1"},
			{Name: "c", URI: "PYRO:c@h:1", Metadata: []string{""}},
		}},
		{"replace moves to the end like Pyro's SqlStorage", func() error {
			return s.Put(naming.Entry{Name: "a", URI: "PYRO:a2@h:2", Metadata: []string{"q"}})
		}, []naming.Entry{
			{Name: "b", URI: "PYRO:b@h:1"},
			{Name: "c", URI: "PYRO:c@h:1", Metadata: []string{""}},
			{Name: "a", URI: "PYRO:a2@h:2", Metadata: []string{"q"}},
		}},
		{"replace clears metadata", func() error {
			return s.Put(naming.Entry{Name: "c", URI: "PYRO:c@h:1"})
		}, []naming.Entry{
			{Name: "b", URI: "PYRO:b@h:1"},
			{Name: "a", URI: "PYRO:a2@h:2", Metadata: []string{"q"}},
			{Name: "c", URI: "PYRO:c@h:1"},
		}},
		{"delete counts existing names once", func() error {
			n, err := s.Delete("b", "nope", "b", "c")
			if err == nil && n != 2 {
				err = fmt.Errorf("Delete counted %d, want 2", n)
			}
			return err
		}, []naming.Entry{
			{Name: "a", URI: "PYRO:a2@h:2", Metadata: []string{"q"}},
		}},
		{"delete nothing", func() error {
			n, err := s.Delete()
			if err == nil && n != 0 {
				err = fmt.Errorf("Delete() counted %d", n)
			}
			return err
		}, []naming.Entry{
			{Name: "a", URI: "PYRO:a2@h:2", Metadata: []string{"q"}},
		}},
	}
	for _, st := range steps {
		if st.do != nil {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		got := all(t, s)
		if !slices.EqualFunc(got, st.want, sameEntry) {
			t.Fatalf("%s: All =\n%v\nwant\n%v", st.name, got, st.want)
		}
		if n, err := s.Len(); err != nil || n != len(st.want) {
			t.Fatalf("%s: Len = %d, %v; want %d", st.name, n, err, len(st.want))
		}
		for _, w := range st.want {
			e, ok, err := s.Get(w.Name)
			if err != nil || !ok || !sameEntry(e, w) {
				t.Fatalf("%s: Get(%q) = %v, %v, %v; want %v", st.name, w.Name, e, ok, err, w)
			}
		}
	}
	// No metadata rows are left behind for deleted or replaced entries.
	var orphans int
	if err := s.db.QueryRow(`SELECT count(*) FROM pyro_metadata WHERE object NOT IN (SELECT id FROM pyro_names)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("orphan metadata rows: %d, %v", orphans, err)
	}
}

// prefixNames exercise LIKE's special characters, case, multi-byte UTF-8,
// a NUL byte and bytes that are not UTF-8.
var prefixNames = []string{
	"a", "ab", "abc", "aB", "Ab", "AB", "a%b", "a%", "a_b", "aXb", "a_", "%x", "_x", "x%", `a\b`, `a\%`,
	"é", "éa", "éb", "èa", "日本", "日本語", "日", "a\x00b", "a\x00", "\xff", "\xff\xfe", "a\xff", "z",
	"Pyro.NameServer", "pyro.nameserver", "Pyro.", "Pyro", "Pyrox",
}

func TestListPrefixIsStartsWith(t *testing.T) {
	s := openTemp(t)
	for i, n := range prefixNames {
		mustPut(t, s, n, fmt.Sprintf("PYRO:o%d@h:1", i))
	}
	prefixes := append([]string{"", "a%", "a_", "%", "_", "A", "Pyro.", "pyro.", "é", "\xc3", "日本", "a\x00", "\xff", "a\xff", `a\`, "q", "a%b", "zz"}, prefixNames...)
	for _, p := range prefixes {
		got, err := s.ListPrefix(p)
		if err != nil {
			t.Fatalf("ListPrefix(%q): %v", p, err)
		}
		var want []string
		for _, n := range prefixNames {
			if strings.HasPrefix(n, p) {
				want = append(want, n)
			}
		}
		slices.Sort(want)
		if g := sortedNames(got); !slices.Equal(g, want) {
			t.Errorf("ListPrefix(%q) = %q, want %q", p, g, want)
		}
		for _, e := range got {
			if !strings.HasPrefix(e.URI, "PYRO:o") {
				t.Errorf("ListPrefix(%q): bad entry %v", p, e)
			}
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct {
		in, out string
		ok      bool
	}{
		{"", "", false}, {"a", "b", true}, {"a\xff", "b", true}, {"\xff\xff", "", false}, {"日", "日"[:2] + "\xa6", true},
	} {
		out, ok := prefixEnd(c.in)
		if out != c.out || ok != c.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", c.in, out, ok, c.out, c.ok)
		}
	}
}

func TestListMetadata(t *testing.T) {
	s := openTemp(t)
	mustPut(t, s, "p1", "PYRO:p1@h:1", "printer", "color", "a4")
	mustPut(t, s, "p2", "PYRO:p2@h:1", "printer", "a4")
	mustPut(t, s, "p3", "PYRO:p3@h:1", "printer", "color")
	mustPut(t, s, "s1", "PYRO:s1@h:1", "scanner", "color")
	mustPut(t, s, "n1", "PYRO:n1@h:1")
	mustPut(t, s, "w1", "PYRO:w1@h:1", "%", "_", "Printer")
	for _, c := range []struct {
		tags []string
		all  bool
		want []string
	}{
		{[]string{"printer"}, true, []string{"p1", "p2", "p3"}},
		{[]string{"printer", "color"}, true, []string{"p1", "p3"}},
		{[]string{"color", "printer", "color"}, true, []string{"p1", "p3"}}, // duplicates in the query
		{[]string{"printer", "color", "a4"}, true, []string{"p1"}},
		{[]string{"printer", "nothing"}, true, nil},
		{[]string{"PRINTER"}, true, nil},
		{[]string{"%"}, true, []string{"w1"}},
		{[]string{"_", "Printer"}, true, []string{"w1"}},
		{nil, true, []string{"n1", "p1", "p2", "p3", "s1", "w1"}}, // all of nothing: everything
		{[]string{"scanner", "a4"}, false, []string{"p1", "p2", "s1"}},
		{[]string{"color"}, false, []string{"p1", "p3", "s1"}},
		{[]string{"nothing", "%"}, false, []string{"w1"}},
		{[]string{"nothing"}, false, nil},
		{nil, false, nil}, // any of nothing: nothing
	} {
		got, err := s.ListMetadata(c.tags, c.all)
		if err != nil {
			t.Fatalf("ListMetadata(%q, %v): %v", c.tags, c.all, err)
		}
		if g := sortedNames(got); !slices.Equal(g, c.want) && (len(g) != 0 || len(c.want) != 0) {
			t.Errorf("ListMetadata(%q, %v) = %q, want %q", c.tags, c.all, g, c.want)
		}
		for _, e := range got {
			w, _, _ := s.Get(e.Name)
			if !sameEntry(e, w) {
				t.Errorf("ListMetadata(%q, %v): entry %v, Get says %v", c.tags, c.all, e, w)
			}
		}
	}
	// More tags than go into one SQL statement: matched in Go.
	many := make([]string, maxQueryTags+1)
	for i := range many {
		many[i] = fmt.Sprintf("t%d", i)
	}
	got, err := s.ListMetadata(append(many, "a4"), false)
	if err != nil || !slices.Equal(sortedNames(got), []string{"p1", "p2"}) {
		t.Errorf("ListMetadata(many, any) = %v, %v", sortedNames(got), err)
	}
	got, err = s.ListMetadata(append(many, "a4"), true)
	if err != nil || len(got) != 0 {
		t.Errorf("ListMetadata(many, all) = %v, %v", sortedNames(got), err)
	}
}

// The same operations on a Store and on naming.MemoryStorage give the
// same answers (as sets: the listing order differs on replace).
func TestSameAsMemoryStorage(t *testing.T) {
	s := openTemp(t)
	m := naming.NewMemoryStorage()
	tags := []string{"x", "y", "z", "%"}
	for i := range 60 {
		name := prefixNames[i%len(prefixNames)] + strings.Repeat("_", i%3)
		var tg []string
		for j, tag := range tags {
			if (i>>j)&1 == 1 {
				tg = append(tg, tag)
			}
		}
		e := naming.Entry{Name: name, URI: fmt.Sprintf("PYRO:o%d@h:%d", i, i), Metadata: tg}
		if i%7 == 6 {
			a, errA := s.Delete(name, "a")
			b, _ := m.Delete(name, "a")
			if errA != nil || a != b {
				t.Fatalf("Delete: %d, %v; memory %d", a, errA, b)
			}
			continue
		}
		mustPut(t, s, e.Name, e.URI, e.Metadata...)
		mustPut(t, m, e.Name, e.URI, e.Metadata...)
	}
	sortE := func(es []naming.Entry) []naming.Entry {
		es = slices.Clone(es)
		slices.SortFunc(es, func(a, b naming.Entry) int { return strings.Compare(a.Name, b.Name) })
		return es
	}
	if a, b := sortE(all(t, s)), sortE(all(t, m)); !slices.EqualFunc(a, b, sameEntry) {
		t.Fatalf("All:\nsql    %v\nmemory %v", a, b)
	}
	for _, p := range []string{"", "a", "a_", "é", "Pyro"} {
		got, err := s.ListPrefix(p)
		if err != nil {
			t.Fatal(err)
		}
		var want []naming.Entry
		for _, e := range all(t, m) {
			if strings.HasPrefix(e.Name, p) {
				want = append(want, e)
			}
		}
		if a, b := sortE(got), sortE(want); !slices.EqualFunc(a, b, sameEntry) {
			t.Errorf("ListPrefix(%q):\nsql    %v\nmemory %v", p, a, b)
		}
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	_, err := Open(":memory:")
	if err == nil || !strings.Contains(err.Error(), "We don't support the sqlite :memory: database type") {
		t.Fatalf("Open(:memory:) = %v", err)
	}
	if _, err := Open(""); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}

func TestOpenRegistered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir with space?#%.db")
	st, err := naming.OpenStorage("sql:" + path)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, st, "n", "PYRO:n@h:1")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The odd file name is the real one, and Close left no side files.
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*"))
	if len(files) != 1 || files[0] != path {
		t.Fatalf("files after Close: %q", files)
	}
	missing := filepath.Join(t.TempDir(), "missing", "dir", "x.db")
	if _, err := naming.OpenStorage("sql:" + missing); err == nil ||
		!strings.HasPrefix(err.Error(), "sqlite error in open: "+missing+": ") {
		t.Fatalf("open in a missing directory: %v", err)
	}
}

func TestErrorsNameTheOperation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.HasPrefix(err.Error(), "sqlite error in open: "+path+": ") {
		t.Fatalf("Open(junk) = %v", err)
	}
	s := openTemp(t)
	s.Close()
	_, _, err := s.Get("x")
	if err == nil || !strings.HasPrefix(err.Error(), "sqlite error in getitem: ") {
		t.Errorf("Get after Close: %v", err)
	}
	for op, err := range map[string]error{
		"setitem":                   s.Put(naming.Entry{Name: "x"}),
		"remove_items":              second(s.Delete("x")),
		"len":                       second(s.Len()),
		"optimized_prefix_list":     second(s.ListPrefix("x")),
		"optimized_metadata_search": second(s.ListMetadata([]string{"x"}, true)),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "sqlite error in "+op+": ") {
			t.Errorf("%s after Close: %v", op, err)
		}
	}
	for _, err := range s.All() {
		if err == nil || !strings.HasPrefix(err.Error(), "sqlite error in everything: ") {
			t.Errorf("All after Close: %v", err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// A file of an old Pyro4 (pyro_names without metadata) is migrated like
// Pyro does it.
func TestMigrateOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE pyro_names (id integer PRIMARY KEY, name nvarchar NOT NULL UNIQUE, uri nvarchar NOT NULL)`,
		`INSERT INTO pyro_names(name, uri) VALUES ('old.one', 'PYRO:one@h:1'), ('old.two', 'PYRO:two@h:2')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []naming.Entry{{Name: "old.one", URI: "PYRO:one@h:1"}, {Name: "old.two", URI: "PYRO:two@h:2"}}
	if got := all(t, s); !slices.EqualFunc(got, want, sameEntry) {
		t.Fatalf("after migration: %v", got)
	}
	mustPut(t, s, "old.one", "PYRO:one@h:1", "tag")
	if e, _, _ := s.Get("old.one"); !slices.Equal(e.Metadata, []string{"tag"}) {
		t.Fatalf("metadata after migration: %v", e)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'pyro_names_old'`).Scan(&n)
	if n != 0 {
		t.Fatal("pyro_names_old left behind")
	}
}

// The schema is Pyro's, column for column.
func TestSchema(t *testing.T) {
	s := openTemp(t)
	cols := func(table string) string {
		rows, err := s.db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name, typ string
			var notnull, pk int
			rows.Scan(&name, &typ, &notnull, &pk)
			out = append(out, fmt.Sprintf("%s %s notnull=%d pk=%d", name, strings.ToLower(typ), notnull, pk))
		}
		return strings.Join(out, "; ")
	}
	if got, want := cols("pyro_names"), "id integer notnull=0 pk=1; name nvarchar notnull=1 pk=0; uri nvarchar notnull=1 pk=0"; got != want {
		t.Errorf("pyro_names: %s\nwant %s", got, want)
	}
	if got, want := cols("pyro_metadata"), "object integer notnull=1 pk=0; metadata nvarchar notnull=1 pk=0"; got != want {
		t.Errorf("pyro_metadata: %s\nwant %s", got, want)
	}
	var fk string
	s.db.QueryRow(`SELECT "table" || '(' || "to" || ') from ' || "from" FROM pragma_foreign_key_list('pyro_metadata')`).Scan(&fk)
	if fk != "pyro_names(id) from object" {
		t.Errorf("foreign key: %q", fk)
	}
	var unique int
	s.db.QueryRow(`SELECT count(*) FROM pragma_index_list('pyro_names') WHERE "unique" = 1`).Scan(&unique)
	if unique != 1 {
		t.Errorf("pyro_names has %d unique indexes", unique)
	}
	var idx int
	s.db.QueryRow(`SELECT count(*) FROM pragma_index_list('pyro_metadata')`).Scan(&idx)
	if idx != 2 {
		t.Errorf("pyro_metadata has %d indexes, want 2", idx)
	}
	var sync int
	s.db.QueryRow(`PRAGMA synchronous`).Scan(&sync)
	if sync != 2 {
		t.Errorf("synchronous = %d, want 2 (FULL)", sync)
	}
}

// Many goroutines write and read at once; every write is there after.
func TestConcurrentWriters(t *testing.T) {
	s := openTemp(t)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*3)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("w%d.n%d", w, i)
				if err := s.Put(naming.Entry{Name: name, URI: "PYRO:" + name + "@h:1", Metadata: []string{fmt.Sprintf("w%d", w), "all"}}); err != nil {
					errs <- err
					return
				}
				if e, ok, err := s.Get(name); err != nil || !ok || e.URI != "PYRO:"+name+"@h:1" {
					errs <- fmt.Errorf("Get(%s) right after Put: %v %v %v", name, e, ok, err)
				}
				if i%5 == 0 {
					if _, err := s.Delete(fmt.Sprintf("w%d.n%d", w, i)); err != nil {
						errs <- err
					}
					if err := s.Put(naming.Entry{Name: name, URI: "PYRO:" + name + "@h:1", Metadata: []string{fmt.Sprintf("w%d", w), "all"}}); err != nil {
						errs <- err
					}
				}
			}
		})
		wg.Go(func() { // readers
			for range each {
				if _, err := s.ListPrefix(fmt.Sprintf("w%d.", w)); err != nil {
					errs <- err
				}
				if _, err := s.ListMetadata([]string{"all"}, true); err != nil {
					errs <- err
				}
				for _, err := range s.All() {
					if err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := s.Len(); err != nil || n != writers*each {
		t.Fatalf("Len = %d, %v; want %d", n, err, writers*each)
	}
	for w := range writers {
		got, err := s.ListMetadata([]string{fmt.Sprintf("w%d", w), "all"}, true)
		if err != nil || len(got) != each {
			t.Errorf("writer %d: %d entries, %v", w, len(got), err)
		}
	}
}

// Two Stores (as two processes would) on one file see each other's
// writes.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	for i, st := range []*Store{a, b} {
		wg.Go(func() {
			for j := range 20 {
				if err := st.Put(naming.Entry{Name: fmt.Sprintf("s%d.%d", i, j), URI: "PYRO:x@h:1"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, st := range []*Store{a, b} {
		if n, err := st.Len(); err != nil || n != 40 {
			t.Errorf("Len = %d, %v", n, err)
		}
	}
}
