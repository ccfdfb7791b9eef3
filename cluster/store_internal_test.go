package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pyrogo/pyro/internal/natstest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// openStore opens a store on spec, closed in t.Cleanup.
func openStore(t testing.TB, spec string) *Store {
	t.Helper()
	s, err := Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustPut(t testing.TB, s naming.Storage, name, uri string, tags ...string) {
	t.Helper()
	if err := s.Put(naming.Entry{Name: name, URI: uri, Metadata: tags}); err != nil {
		t.Fatalf("Put(%.80q): %.300v", name, err)
	}
}

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

func sameEntry(a, b naming.Entry) bool {
	return a.Name == b.Name && a.URI == b.URI && slices.Equal(a.Metadata, b.Metadata)
}

// hostileNames are names NATS keys cannot hold as they are.
var hostileNames = []string{
	"", "a", "a.b", "a..b", ".", "..", "a.", ".a", "a b", " ", "a\tb", "*", ">", "a.*", "a.>", "$KV.x", "a/b", "=",
	"é", "日本語", "\x00", "a\x00b", "\xff\xfe", "Pyro.NameServer", "😀.😀", "a%2Eb", "+", "a=b",
	strings.Repeat("x", maxDirectKey*3/4),   // longest direct key
	strings.Repeat("x", maxDirectKey*3/4+1), // hashed
	strings.Repeat("y.", 10000),             // 20 kB, hashed
}

// TestContract runs the storage contract on a one-node server: the same
// steps as the sql storage's contract, with its order (a replaced entry
// moves to the end), then every hostile name round-trips, on this store
// and on a second one through the watch.
func TestContract(t *testing.T) {
	c := natstest.Start(t, 1)
	spec := c.Spec("contract")
	s := openStore(t, spec)
	if n, err := s.Len(); err != nil || n != 0 {
		t.Fatalf("empty Len = %d, %v", n, err)
	}
	if _, ok, err := s.Get("x"); ok || err != nil {
		t.Fatalf("empty Get = %v, %v", ok, err)
	}
	mustPut(t, s, "a", "PYRO:a@h:1", "z", "b", "z", "a")
	mustPut(t, s, "b", "PYRO:b@h:1")
	mustPut(t, s, "c", "PYRO:c@h:1", "")
	steps := []struct {
		name string
		do   func() error
		want []naming.Entry
	}{
		{"initial", nil, []naming.Entry{
			{Name: "a", URI: "PYRO:a@h:1", Metadata: []string{"a", "b", "z"}},
			{Name: "b", URI: "PYRO:b@h:1"},
			{Name: "c", URI: "PYRO:c@h:1", Metadata: []string{""}},
		}},
		{"replace moves to the end", func() error {
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
		{"create refuses a taken name", func() error {
			ok, err := s.Create(naming.Entry{Name: "a", URI: "PYRO:x@h:1"})
			if err == nil && ok {
				err = errors.New("Create of a taken name succeeded")
			}
			return err
		}, []naming.Entry{
			{Name: "a", URI: "PYRO:a2@h:2", Metadata: []string{"q"}},
		}},
		{"create takes a deleted name", func() error {
			ok, err := s.Create(naming.Entry{Name: "b", URI: "PYRO:b3@h:1", Metadata: []string{"t", "t"}})
			if err == nil && !ok {
				err = errors.New("Create of a deleted name failed")
			}
			return err
		}, []naming.Entry{
			{Name: "a", URI: "PYRO:a2@h:2", Metadata: []string{"q"}},
			{Name: "b", URI: "PYRO:b3@h:1", Metadata: []string{"t"}},
		}},
	}
	lg, buf := testkit.TextLogger(slog.LevelDebug)
	other, err := Open(spec, WithLogger(lg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("other's log:\n%s", buf)
		}
	})
	for _, st := range steps {
		if st.do != nil {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		check := func(s *Store) bool {
			got := all(t, s)
			if !slices.EqualFunc(got, st.want, sameEntry) {
				return false
			}
			if n, _ := s.Len(); n != len(st.want) {
				return false
			}
			for _, w := range st.want {
				if e, ok, err := s.Get(w.Name); err != nil || !ok || !sameEntry(e, w) {
					return false
				}
			}
			return true
		}
		if !check(s) {
			t.Fatalf("%s: the writer does not read its own writes", st.name)
		}
		testkit.Eventually(t, st.name+" seen by the other instance", func() bool { return check(other) })
	}

	// Hostile names round-trip, here and on the other instance.
	for i, name := range hostileNames {
		mustPut(t, s, name, fmt.Sprintf("PYRO:o%d@h:1", i), "tag."+name, "*")
	}
	for _, inst := range []*Store{s, other} {
		testkit.Eventually(t, "hostile names everywhere", func() bool {
			for i, name := range hostileNames {
				e, ok, err := inst.Get(name)
				if err != nil || !ok || e.Name != name || e.URI != fmt.Sprintf("PYRO:o%d@h:1", i) {
					return false
				}
			}
			return true
		})
		es, _ := inst.ListPrefix("y.")
		if len(es) != 1 || es[0].Name != hostileNames[len(hostileNames)-1] {
			t.Fatalf("ListPrefix(y.) = %d entries", len(es))
		}
		es, _ = inst.ListMetadata([]string{"tag.a.>", "*"}, true)
		if len(es) != 1 || es[0].Name != "a.>" {
			t.Fatalf("ListMetadata(all tag.a.>, *) = %v", es)
		}
		es, _ = inst.ListMetadata([]string{"tag.>", "tag.*"}, false)
		if !slices.EqualFunc(es, []naming.Entry{{Name: "*"}, {Name: ">"}}, func(a, b naming.Entry) bool { return a.Name == b.Name }) {
			t.Fatalf("ListMetadata(any tag.>, tag.*) = %v", es)
		}
	}
	n, err := s.Delete(hostileNames...)
	if err != nil || n != len(hostileNames) {
		t.Fatalf("Delete(hostile) = %d, %v", n, err)
	}
	// "a" was among them: "b" is left, here and there.
	want := []naming.Entry{{Name: "b", URI: "PYRO:b3@h:1", Metadata: []string{"t"}}}
	if got := all(t, s); !slices.EqualFunc(got, want, sameEntry) {
		t.Fatalf("after deleting the hostile names: %v", got)
	}
	testkit.Eventually(t, "hostile names gone on the other instance", func() bool {
		return slices.EqualFunc(all(t, other), want, sameEntry)
	})
}

// TestDeleteOfUnseenName removes, on one instance, a name another
// instance registered, even before the watch brought it.
func TestDeleteOfUnseenName(t *testing.T) {
	c := natstest.Start(t, 1)
	spec := c.Spec("unseen")
	a, b := openStore(t, spec), openStore(t, spec)
	b.Close() // b's cache is frozen: it never sees the registration
	mustPut(t, a, "late", "PYRO:x@h:1")
	b2 := openStore(t, spec)
	b2.mu.Lock()
	b2.c.unlink(nameKey("late")) // as if the watch had not delivered it yet
	b2.mu.Unlock()
	if n, err := b2.Delete("late"); err != nil || n != 1 {
		t.Fatalf("Delete of a name not in the cache = %d, %v; want 1", n, err)
	}
	testkit.Eventually(t, "the delete reaches the registering instance", func() bool { _, ok, _ := a.Get("late"); return !ok })
}

// TestSafeCreateRace: instances creating the same names at once; exactly
// one wins each name.
func TestSafeCreateRace(t *testing.T) {
	c := natstest.Start(t, 1)
	spec := c.Spec("race")
	const instances, names = 3, 20
	stores := make([]*Store, instances)
	for i := range stores {
		stores[i] = openStore(t, spec)
	}
	wins := make([][]int, names)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			for n := range names {
				ok, err := s.Create(naming.Entry{Name: fmt.Sprint("name", n), URI: fmt.Sprintf("PYRO:i%d@h:1", i)})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					wins[n] = append(wins[n], i)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for n, w := range wins {
		if len(w) != 1 {
			t.Fatalf("name%d created by instances %v, want exactly one", n, w)
		}
		for _, s := range stores {
			testkit.Eventually(t, "winner everywhere", func() bool {
				e, ok, _ := s.Get(fmt.Sprint("name", n))
				return ok && e.URI == fmt.Sprintf("PYRO:i%d@h:1", w[0])
			})
		}
	}
}

func TestTooLarge(t *testing.T) {
	c := natstest.Start(t, 1)
	s := openStore(t, c.Spec("big")+"?max_value=1024")
	err := s.Put(naming.Entry{Name: strings.Repeat("n", 2000), URI: "PYRO:x@h:1"})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of 2000 bytes with max_value=1024: %v", err)
	}
	if n, _ := s.Len(); n != 0 {
		t.Fatalf("Len after refused Put = %d", n)
	}
}

func TestOpenRegistered(t *testing.T) {
	c := natstest.Start(t, 1)
	st, err := naming.OpenStorage("nats:" + strings.TrimPrefix(c.Spec("reg"), "nats:"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*Store); !ok {
		t.Fatalf("OpenStorage gave %T", st)
	}
	if _, err := naming.OpenStorage("nats://127.0.0.1:1/b?bogus=1"); !errors.Is(err, naming.ErrStorageSpec) {
		t.Fatalf("unknown parameter: %v, want ErrStorageSpec", err)
	}
}
