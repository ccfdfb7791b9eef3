package py

import "iter"

// smallDict is the size up to which lookups scan instead of using a map.
const smallDict = 8

// Dict is a Python dict: insertion-ordered, with keys of any hashable model
// type (str, int, float, tuple, bytes, frozenset, None, bool). Keys that
// Python considers equal (1, 1.0, True) are the same key. The zero value is
// an empty dict ready to use; a nil *Dict reads as empty.
type Dict struct {
	keys  []any
	vals  []any
	hks   []any       // hash key of each key, parallel to keys
	index map[any]int // hash key -> position, built once len > smallDict
}

// NewDict returns an empty dict with room for n entries.
func NewDict(n int) *Dict {
	if n < 0 {
		n = 0
	}
	return &Dict{keys: make([]any, 0, n), vals: make([]any, 0, n), hks: make([]any, 0, n)}
}

// DictOf builds a dict from alternating keys and values; it panics on an odd
// count or unhashable key and is meant for literals in code and tests.
func DictOf(kv ...any) *Dict {
	if len(kv)%2 != 0 {
		panic("py.DictOf: odd number of arguments")
	}
	d := NewDict(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			panic("py.DictOf: " + err.Error())
		}
	}
	return d
}

// Len returns the number of entries.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.keys)
}

// Key returns the i-th key in insertion order.
func (d *Dict) Key(i int) any { return d.keys[i] }

// Value returns the i-th value in insertion order.
func (d *Dict) Value(i int) any { return d.vals[i] }

// Keys returns the keys in insertion order. The slice is the dict's own;
// do not modify it.
func (d *Dict) Keys() []any {
	if d == nil {
		return nil
	}
	return d.keys
}

// All iterates over the entries in insertion order.
func (d *Dict) All() iter.Seq2[any, any] {
	return func(yield func(any, any) bool) {
		for i := 0; i < d.Len(); i++ {
			if !yield(d.keys[i], d.vals[i]) {
				return
			}
		}
	}
}

func (d *Dict) find(hk any) int {
	if d == nil {
		return -1
	}
	if d.index != nil {
		if i, ok := d.index[hk]; ok {
			return i
		}
		return -1
	}
	for i, k := range d.hks {
		if k == hk {
			return i
		}
	}
	return -1
}

// Set stores v under k. An existing equal key keeps its position and its
// original key object, as in Python. It fails only for unhashable keys.
func (d *Dict) Set(k, v any) error {
	hk, err := hashKey(k)
	if err != nil {
		return err
	}
	d.setHashed(hk, k, v)
	return nil
}

// SetString stores v under the str key k.
func (d *Dict) SetString(k string, v any) {
	var key any = k // boxed once: the hash key of a str is the str
	d.setHashed(key, key, v)
}

func (d *Dict) setHashed(hk, k, v any) {
	if i := d.find(hk); i >= 0 {
		d.vals[i] = v
		return
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	d.hks = append(d.hks, hk)
	if d.index != nil {
		d.index[hk] = len(d.keys) - 1
	} else if len(d.keys) > smallDict {
		d.index = make(map[any]int, 2*len(d.keys))
		for i, h := range d.hks {
			d.index[h] = i
		}
	}
}

// Get returns the value stored under k. An unhashable k is never present.
func (d *Dict) Get(k any) (any, bool) {
	hk, err := hashKey(k)
	if err != nil {
		return nil, false
	}
	if i := d.find(hk); i >= 0 {
		return d.vals[i], true
	}
	return nil, false
}

// GetString returns the value stored under the str key k.
func (d *Dict) GetString(k string) (any, bool) {
	if i := d.find(k); i >= 0 {
		return d.vals[i], true
	}
	return nil, false
}

// Delete removes k and reports whether it was present.
func (d *Dict) Delete(k any) bool {
	hk, err := hashKey(k)
	if err != nil {
		return false
	}
	i := d.find(hk)
	if i < 0 {
		return false
	}
	d.keys = append(d.keys[:i], d.keys[i+1:]...)
	d.vals = append(d.vals[:i], d.vals[i+1:]...)
	d.hks = append(d.hks[:i], d.hks[i+1:]...)
	if d.index != nil {
		delete(d.index, hk)
		for j := i; j < len(d.hks); j++ {
			d.index[d.hks[j]] = j
		}
	}
	return true
}

// StringKeys reports whether every key is a str (the only dict shape json
// can carry and the one Go maps and structs convert from).
func (d *Dict) StringKeys() bool {
	for i := 0; i < d.Len(); i++ {
		if _, ok := d.keys[i].(string); !ok {
			return false
		}
	}
	return true
}
