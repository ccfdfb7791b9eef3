package cluster

import "github.com/pyrogo/pyro/naming"

// cache is an instance's copy of the bucket, in revision order (the order
// of the last write of each name, the same on every instance, like the
// sql storage's order of id). It is not safe for concurrent use; Store
// guards it.
//
// Writes arrive from two sources: this instance's own acknowledged writes,
// applied at once so that a name server reads its own writes, and the
// bucket's watch, which delivers every write (its own ones again, later).
// A write is applied only if its revision is newer than what the cache
// holds for the key, so the two sources can interleave in any order.
type cache struct {
	byKey      map[string]*node
	tomb       map[string]uint64 // keys deleted here: revision of the entry deleted
	head, tail *node
}

type node struct {
	key        string
	e          naming.Entry
	rev        uint64
	prev, next *node
}

func newCache() *cache {
	return &cache{byKey: map[string]*node{}, tomb: map[string]uint64{}}
}

// newer reports whether revision rev of key is newer than what the cache
// knows.
func (c *cache) newer(key string, rev uint64) bool {
	if n := c.byKey[key]; n != nil && n.rev >= rev {
		return false
	}
	if t, ok := c.tomb[key]; ok && t >= rev {
		return false
	}
	return true
}

// put applies a write of e at revision rev.
func (c *cache) put(key string, rev uint64, e naming.Entry) {
	if !c.newer(key, rev) {
		return
	}
	delete(c.tomb, key)
	c.unlink(key)
	n := &node{key: key, e: e, rev: rev}
	c.byKey[key] = n
	// Insert in revision order: almost always at the tail.
	at := c.tail
	for at != nil && at.rev > rev {
		at = at.prev
	}
	n.prev = at
	if at == nil {
		n.next = c.head
		c.head = n
	} else {
		n.next = at.next
		at.next = n
	}
	if n.next != nil {
		n.next.prev = n
	} else {
		c.tail = n
	}
}

// deleted applies a delete marker seen in the watch at revision rev.
func (c *cache) deleted(key string, rev uint64) {
	if !c.newer(key, rev) {
		return
	}
	c.unlink(key)
	delete(c.tomb, key) // the marker itself now orders later writes
}

func (c *cache) unlink(key string) {
	n := c.byKey[key]
	if n == nil {
		return
	}
	delete(c.byKey, key)
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		c.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		c.tail = n.prev
	}
}
