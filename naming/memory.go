package naming

import (
	"iter"
	"slices"
	"sync"
)

// MemoryStorage keeps registrations in process memory (pyro4-ns's default
// "memory" storage): everything is lost when the name server stops. Like
// Pyro's dict, it remembers the order in which names were first
// registered, and All and list results follow it. It is safe for
// concurrent use; lookups run in parallel.
type MemoryStorage struct {
	mu      sync.RWMutex
	entries map[string]*memEntry
	head    *memEntry // oldest
	tail    *memEntry // newest
}

// memEntry is one registration in insertion order.
type memEntry struct {
	e          Entry
	prev, next *memEntry
}

// NewMemoryStorage returns an empty memory storage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{entries: map[string]*memEntry{}}
}

// Get returns the entry for name.
func (m *MemoryStorage) Get(name string) (Entry, bool, error) {
	m.mu.RLock()
	n, ok := m.entries[name]
	var e Entry
	if ok {
		e = n.e
	}
	m.mu.RUnlock()
	return e, ok, nil
}

// Put inserts an entry or replaces it in place (keeping its position).
// The entry's metadata slice is copied and sorted.
func (m *MemoryStorage) Put(e Entry) error {
	e.Metadata = NormalizeTags(e.Metadata)
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.entries[e.Name]; ok {
		n.e = e
		return nil
	}
	n := &memEntry{e: e, prev: m.tail}
	if m.tail != nil {
		m.tail.next = n
	} else {
		m.head = n
	}
	m.tail = n
	m.entries[e.Name] = n
	return nil
}

// Delete removes the named entries and returns how many existed.
func (m *MemoryStorage) Delete(names ...string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	count := 0
	for _, name := range names {
		n, ok := m.entries[name]
		if !ok {
			continue
		}
		delete(m.entries, name)
		if n.prev != nil {
			n.prev.next = n.next
		} else {
			m.head = n.next
		}
		if n.next != nil {
			n.next.prev = n.prev
		} else {
			m.tail = n.prev
		}
		count++
	}
	return count, nil
}

// Len returns the number of entries.
func (m *MemoryStorage) Len() (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.entries), nil
}

// All iterates over the entries in registration order. It holds a read
// lock while iterating: lookups go on, writes wait, and the loop body must
// not write to the storage.
func (m *MemoryStorage) All() iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		m.mu.RLock()
		defer m.mu.RUnlock()
		for n := m.head; n != nil; n = n.next {
			if !yield(n.e, nil) {
				return
			}
		}
	}
}

// Close does nothing; the entries stay readable.
func (m *MemoryStorage) Close() error { return nil }

// NormalizeTags returns a sorted copy of tags without duplicates (a set),
// or nil when empty: the form in which a Storage keeps Entry.Metadata.
// Storage implementations outside this package use it too.
func NormalizeTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := slices.Clone(tags)
	slices.Sort(out)
	return slices.Compact(out)
}

var _ Storage = (*MemoryStorage)(nil)
