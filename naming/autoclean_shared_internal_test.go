package naming

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
)

// revStorage is a Shared storage in memory with a revision per write,
// standing in for a registry other name servers write to: before its
// first write-side call after arm (Get, Delete, DeleteRevision, Update),
// it runs the armed function, as another name server writing just then.
type revStorage struct {
	*MemoryStorage
	mu   sync.Mutex
	next uint64
	revs map[string]uint64
	hook func()
}

func newRevStorage() *revStorage {
	return &revStorage{MemoryStorage: NewMemoryStorage(), revs: map[string]uint64{}}
}

func (r *revStorage) fire() {
	r.mu.Lock()
	h := r.hook
	r.hook = nil
	r.mu.Unlock()
	if h != nil {
		h()
	}
}

func (r *revStorage) Put(e Entry) error {
	r.mu.Lock()
	r.next++
	r.revs[e.Name] = r.next
	r.mu.Unlock()
	return r.MemoryStorage.Put(e)
}

func (r *revStorage) Get(name string) (Entry, bool, error) {
	r.fire()
	return r.MemoryStorage.Get(name)
}

func (r *revStorage) Delete(names ...string) (int, error) {
	r.fire()
	return r.MemoryStorage.Delete(names...)
}

func (r *revStorage) Create(e Entry) (bool, error) {
	if _, ok, _ := r.MemoryStorage.Get(e.Name); ok {
		return false, nil
	}
	return true, r.Put(e)
}

func (r *revStorage) GetRevision(name string, fresh bool) (Entry, uint64, bool, error) {
	e, ok, err := r.MemoryStorage.Get(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	return e, r.revs[name], ok, err
}

func (r *revStorage) Update(e Entry, rev uint64) (bool, error) {
	r.fire()
	r.mu.Lock()
	if r.revs[e.Name] != rev {
		r.mu.Unlock()
		return false, nil
	}
	r.mu.Unlock()
	return true, r.Put(e)
}

func (r *revStorage) DeleteRevision(name string, rev uint64) (bool, error) {
	r.fire()
	r.mu.Lock()
	if r.revs[name] != rev {
		r.mu.Unlock()
		return false, nil
	}
	r.mu.Unlock()
	n, err := r.MemoryStorage.Delete(name)
	return n > 0, err
}

// On a shared storage, auto-clean removes only the revision it probed: a
// registration another name server made after the probe — here of the
// same unreachable URI, so that comparing URIs cannot tell — is kept;
// one nobody touched is removed. (With the URI comparison of a single
// name server, the re-registration was removed.)
func TestAutocleanSharedRemovesProbedRevisionOnly(t *testing.T) {
	st := newRevStorage()
	ns := NewNameServer(st, nil)
	dead := "PYRO:obj@" + deadAddr(t)
	for _, n := range []string{"dead.kept", "dead.gone"} {
		if err := st.Put(Entry{Name: n, URI: dead}); err != nil {
			t.Fatal(err)
		}
	}
	c := newCleaner(ns, AutocleanTiming{Period: time.Second, MaxUnreachable: time.Nanosecond, ProbeTimeout: time.Second}, pyro.BuiltinConfig(), nil)
	c.log = ns.log
	c.sweep(context.Background()) // marks both unreachable
	reregistered := false
	st.hook = func() { // another instance re-registers dead.kept after the probe
		reregistered = true
		if err := st.Put(Entry{Name: "dead.kept", URI: dead, Metadata: []string{"again"}}); err != nil {
			t.Error(err)
		}
	}
	c.sweep(context.Background()) // removes them, unless re-registered
	if !reregistered {
		t.Fatal("the sweep did not reach its removals")
	}
	if e, ok, _ := st.MemoryStorage.Get("dead.kept"); !ok || len(e.Metadata) != 1 {
		t.Errorf("the registration made after the probe was removed (present %v)", ok)
	}
	if _, ok, _ := st.MemoryStorage.Get("dead.gone"); ok {
		t.Error("the unreachable registration nobody touched was kept")
	}
}
