package naming

import (
	"iter"
	"slices"
	"strings"

	"github.com/pyrogo/pyro"
)

// errOwnEntry refuses a client's write of "Pyro.NameServer" in a shared
// registry.
var errOwnEntry = pyro.NewError(pyro.ErrNaming, ObjectID+" is each name server's own registration in a shared registry; it cannot be changed")

// ownEntry is the view a name server on a Shared storage has of it: the
// storage's entries, except that "Pyro.NameServer" is this name server's
// own registration, held here and never written to the storage. An entry
// of that name in the storage (written by an older version) is hidden.
// Clients cannot replace or retag the own registration (errOwnEntry) and
// removing it does nothing, as in Pyro4.
type ownEntry struct {
	inner Shared
	self  Entry
}

func newOwnEntry(inner Shared, self Entry) *ownEntry {
	self.Metadata = NormalizeTags(self.Metadata)
	return &ownEntry{inner: inner, self: self}
}

// Get returns the own registration for ObjectID, the storage's entry
// otherwise.
func (o *ownEntry) Get(name string) (Entry, bool, error) {
	if name == ObjectID {
		return o.self, true, nil
	}
	return o.inner.Get(name)
}

// Put refuses ObjectID and stores the rest.
func (o *ownEntry) Put(e Entry) error {
	if e.Name == ObjectID {
		return errOwnEntry
	}
	return o.inner.Put(e)
}

// Create reports ObjectID as registered already.
func (o *ownEntry) Create(e Entry) (bool, error) {
	if e.Name == ObjectID {
		return false, nil
	}
	return o.inner.Create(e)
}

// Delete removes the names other than ObjectID.
func (o *ownEntry) Delete(names ...string) (int, error) {
	if slices.Contains(names, ObjectID) {
		names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == ObjectID })
	}
	if len(names) == 0 {
		return 0, nil
	}
	return o.inner.Delete(names...)
}

// Len counts the own registration and the storage's other entries.
func (o *ownEntry) Len() (int, error) {
	n, err := o.inner.Len()
	if err != nil {
		return 0, err
	}
	if _, ok, err := o.inner.Get(ObjectID); err != nil {
		return 0, err
	} else if ok {
		n--
	}
	return n + 1, nil
}

// All yields the own registration first (as a name server's own
// registration comes first in a memory storage), then the storage's
// other entries.
func (o *ownEntry) All() iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		if !yield(o.self, nil) {
			return
		}
		for e, err := range o.inner.All() {
			if err == nil && e.Name == ObjectID {
				continue
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

// ListPrefix is the storage's list with the own registration in its
// place.
func (o *ownEntry) ListPrefix(prefix string) ([]Entry, error) {
	var out []Entry
	if pl, ok := o.inner.(PrefixLister); ok {
		l, err := pl.ListPrefix(prefix)
		if err != nil {
			return nil, err
		}
		out = l
	} else {
		for e, err := range o.inner.All() {
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(e.Name, prefix) {
				out = append(out, e)
			}
		}
	}
	return o.withSelf(out, strings.HasPrefix(ObjectID, prefix)), nil
}

// ListMetadata is the storage's metadata query with the own registration
// in its place.
func (o *ownEntry) ListMetadata(tags []string, all bool) ([]Entry, error) {
	has := func(e Entry) bool {
		n := 0
		for _, t := range tags {
			if _, ok := slices.BinarySearch(e.Metadata, t); ok {
				n++
			}
		}
		if all {
			return n == len(tags)
		}
		return n > 0
	}
	tags = NormalizeTags(tags)
	var out []Entry
	if ml, ok := o.inner.(MetadataLister); ok {
		l, err := ml.ListMetadata(tags, all)
		if err != nil {
			return nil, err
		}
		out = l
	} else {
		for e, err := range o.inner.All() {
			if err != nil {
				return nil, err
			}
			if has(e) {
				out = append(out, e)
			}
		}
	}
	return o.withSelf(out, has(o.self)), nil
}

// withSelf drops a stored ObjectID entry from l and, with add, puts the
// own registration first.
func (o *ownEntry) withSelf(l []Entry, add bool) []Entry {
	l = slices.DeleteFunc(l, func(e Entry) bool { return e.Name == ObjectID })
	if add {
		l = slices.Insert(l, 0, o.self)
	}
	return l
}

// GetRevision returns the own registration with revision 0 for ObjectID.
func (o *ownEntry) GetRevision(name string, fresh bool) (Entry, uint64, bool, error) {
	if name == ObjectID {
		return o.self, 0, true, nil
	}
	return o.inner.GetRevision(name, fresh)
}

// Update refuses ObjectID.
func (o *ownEntry) Update(e Entry, rev uint64) (bool, error) {
	if e.Name == ObjectID {
		return false, errOwnEntry
	}
	return o.inner.Update(e, rev)
}

// DeleteRevision never removes ObjectID.
func (o *ownEntry) DeleteRevision(name string, rev uint64) (bool, error) {
	if name == ObjectID {
		return false, nil
	}
	return o.inner.DeleteRevision(name, rev)
}

// Close closes the storage.
func (o *ownEntry) Close() error { return o.inner.Close() }

var (
	_ Shared         = (*ownEntry)(nil)
	_ PrefixLister   = (*ownEntry)(nil)
	_ MetadataLister = (*ownEntry)(nil)
)
