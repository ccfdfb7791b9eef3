package pyro

import (
	"sync"
	"time"
)

// stream is one item stream of a daemon: an iterator result being pulled
// by get_next_stream_item.
type stream struct {
	id       string
	next     func() (any, bool)
	stop     func()
	owner    *serverConn // nil once the owning connection is gone
	created  time.Time
	detached time.Time // when the owner disconnected
	mu       sync.Mutex
}

type streamTable struct {
	mu      sync.Mutex
	streams map[string]*stream
}

func (t *streamTable) init() { t.streams = map[string]*stream{} }

// add registers a stream; stop (may be nil) releases its iterator.
func (t *streamTable) add(owner *serverConn, next func() (any, bool), stop func()) string {
	s := &stream{id: uuidString(newUUID4()), next: next, stop: stop, owner: owner, created: time.Now()}
	t.mu.Lock()
	t.streams[s.id] = s
	t.mu.Unlock()
	return s.id
}

func (t *streamTable) get(id string) *stream {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.streams[id]
}

// remove forgets a stream and stops its iterator.
func (t *streamTable) remove(id string) {
	t.mu.Lock()
	s := t.streams[id]
	delete(t.streams, id)
	t.mu.Unlock()
	if s != nil {
		s.close()
	}
}

func (s *stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	s.next = nil
}

// pull returns the next item; done when exhausted or closed.
func (s *stream) pull() (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == nil {
		return nil, false
	}
	v, ok := s.next()
	if !ok {
		if s.stop != nil {
			s.stop()
			s.stop = nil
		}
		s.next = nil
	}
	return v, ok
}

// detach handles the owner's disconnect: streams linger (so a
// reconnecting proxy can continue) or are closed at once.
func (t *streamTable) detach(owner *serverConn, linger bool) {
	t.mu.Lock()
	var drop []*stream
	for id, s := range t.streams {
		if s.owner == owner {
			if linger {
				s.owner, s.detached = nil, time.Now()
			} else {
				delete(t.streams, id)
				drop = append(drop, s)
			}
		}
	}
	t.mu.Unlock()
	for _, s := range drop {
		s.close()
	}
}

// expire closes streams older than lifetime, or detached longer than
// linger (0 = that rule is off).
func (t *streamTable) expire(now time.Time, lifetime, linger time.Duration) {
	t.mu.Lock()
	var drop []*stream
	for id, s := range t.streams {
		if lifetime > 0 && now.Sub(s.created) > lifetime ||
			s.owner == nil && !s.detached.IsZero() && now.Sub(s.detached) > linger {
			delete(t.streams, id)
			drop = append(drop, s)
		}
	}
	t.mu.Unlock()
	for _, s := range drop {
		s.close()
	}
}

func (t *streamTable) closeAll() {
	t.mu.Lock()
	all := t.streams
	t.streams = map[string]*stream{}
	t.mu.Unlock()
	for _, s := range all {
		s.close()
	}
}

func (t *streamTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.streams)
}
