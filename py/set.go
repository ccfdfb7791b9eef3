package py

import "iter"

// Set is a Python set, or frozenset when Frozen is true. Members keep their
// insertion order (Python's own order is arbitrary); equal members (1, 1.0,
// True) are one member. The zero value is an empty set.
type Set struct {
	Frozen bool
	items  []any
	index  map[any]int
}

// NewSet returns an empty set with room for n members.
func NewSet(n int, frozen bool) *Set {
	if n < 0 {
		n = 0
	}
	return &Set{Frozen: frozen, items: make([]any, 0, n)}
}

// SetOf builds a (non-frozen) set from members; it panics on an unhashable
// member and is meant for literals in code and tests.
func SetOf(items ...any) *Set {
	s := NewSet(len(items), false)
	for _, it := range items {
		if err := s.Add(it); err != nil {
			panic("py.SetOf: " + err.Error())
		}
	}
	return s
}

// Len returns the number of members.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.items)
}

// Item returns the i-th member in insertion order.
func (s *Set) Item(i int) any { return s.items[i] }

// Items returns the members in insertion order; do not modify the slice.
func (s *Set) Items() []any {
	if s == nil {
		return nil
	}
	return s.items
}

// All iterates over the members in insertion order.
func (s *Set) All() iter.Seq[any] {
	return func(yield func(any) bool) {
		for i := 0; i < s.Len(); i++ {
			if !yield(s.items[i]) {
				return
			}
		}
	}
}

// Add inserts v; it fails only for unhashable values.
func (s *Set) Add(v any) error {
	hk, err := hashKey(v)
	if err != nil {
		return err
	}
	if s.index == nil {
		s.index = make(map[any]int, len(s.items)+1)
		for i, it := range s.items {
			h, _ := hashKey(it)
			s.index[h] = i
		}
	}
	if _, ok := s.index[hk]; ok {
		return nil
	}
	s.index[hk] = len(s.items)
	s.items = append(s.items, v)
	return nil
}

// Contains reports whether v is a member.
func (s *Set) Contains(v any) bool {
	if s.Len() == 0 {
		return false
	}
	hk, err := hashKey(v)
	if err != nil {
		return false
	}
	if s.index == nil {
		for _, it := range s.items {
			if h, _ := hashKey(it); h == hk {
				return true
			}
		}
		return false
	}
	_, ok := s.index[hk]
	return ok
}
