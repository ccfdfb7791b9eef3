package naming

import "iter"

// Entry is one registration: a name, the URI string it maps to, and its
// metadata tags (a set; kept sorted).
type Entry struct {
	Name     string
	URI      string
	Metadata []string
}

// Storage keeps the registrations of a name server. Implementations must
// be safe for concurrent use; a write must be durable when it returns
// (for persistent stores). The name server does all validation and
// filtering semantics; storages only store.
type Storage interface {
	// Get returns the entry for name; ok is false when absent.
	Get(name string) (e Entry, ok bool, err error)
	// Put inserts or replaces an entry.
	Put(e Entry) error
	// Delete removes the named entries and returns how many existed.
	Delete(names ...string) (int, error)
	// Len returns the number of entries.
	Len() (int, error)
	// All iterates over every entry (order unspecified). The iteration
	// sees a consistent snapshot or live data; callers must not write to
	// the storage from inside the loop.
	All() iter.Seq2[Entry, error]
	// Close releases the storage.
	Close() error
}

// PrefixLister is an optional Storage optimisation for list(prefix=...):
// entries whose name starts with prefix (case-sensitive, no wildcards).
type PrefixLister interface {
	ListPrefix(prefix string) ([]Entry, error)
}

// MetadataLister is an optional Storage optimisation for metadata
// queries: entries having all (or any) of the tags.
type MetadataLister interface {
	ListMetadata(tags []string, all bool) ([]Entry, error)
}

// Creator is an optional Storage interface for storages that several name
// servers share (such as the nats:// storage of package cluster): Create
// stores e only if no entry has its name, atomically with respect to every
// writer of the storage, and reports whether it did. Register with
// safe=True uses it when the storage has it, so that two name servers
// racing to register the same name safely cannot both succeed; without
// it, Register checks with Get and then Puts, which is atomic only within
// one NameServer.
type Creator interface {
	Create(e Entry) (created bool, err error)
}
