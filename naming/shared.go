package naming

// Shared is an optional Storage interface of storages that several name
// servers use at once (such as the nats:// storage of package cluster).
// A name server on a Shared storage
//
//   - keeps its own registration ("Pyro.NameServer") to itself: it never
//     writes it into the storage, answers lookups and lists of that name
//     with its own URI, and refuses to let clients replace it there (an
//     entry of that name found in the storage is ignored);
//   - does its read-then-write operations (set_metadata, the auto-clean
//     removal) by compare-and-set on the entry's revision, so a write
//     another instance made in between is never undone.
//
// Revisions are opaque numbers that change with every write of a name;
// 0 is never a revision of a present entry.
type Shared interface {
	Storage
	Creator
	// GetRevision returns the entry for name and its revision. With fresh
	// it asks the shared store itself; otherwise it may answer from a
	// local copy that can be behind (the revision then tells which write
	// the entry is).
	GetRevision(name string, fresh bool) (e Entry, rev uint64, ok bool, err error)
	// Update replaces the entry of e.Name only if its revision is still
	// rev; ok is false when it changed or was removed meanwhile.
	Update(e Entry, rev uint64) (ok bool, err error)
	// DeleteRevision removes name only if its revision is still rev; ok
	// is false when it changed or was removed meanwhile.
	DeleteRevision(name string, rev uint64) (ok bool, err error)
}
