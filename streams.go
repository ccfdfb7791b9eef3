package pyro

import (
	"context"
	"iter"
	"slices"
	"sync"
	"time"
)

// stream is one item stream of a daemon: an iterator result being pulled
// by get_next_stream_item.
//
// The iterator runs under a context of its own (the method's context when
// the method took one), which ends when the stream is closed: exhausted,
// closed by the client, expired, evicted, or the daemon closing. An
// iterator that blocks should watch it.
type stream struct {
	id      string
	created time.Time
	cancel  context.CancelFunc // ends the iterator's context

	// guarded by streamTable.mu
	owner      *dispatcher      // nil once the owning connection is gone
	detached   time.Time        // when the owner disconnected
	lingerLink fifoLink[stream] // in the table's list of lingering streams

	pullSem chan struct{} // serialises pulls: next must not run twice at once

	mu      sync.Mutex // guards the fields below; never held while next runs
	next    func() (any, bool)
	stop    func()
	closed  bool
	pulling bool
}

// streamSource is a method result that is streamed to the client: the
// iterator, not started yet, and the release of its context.
type streamSource struct {
	seq    iter.Seq[any]
	cancel context.CancelFunc
}

// release drops a stream result that is not streamed (oneway calls,
// batches, streaming off).
func (s streamSource) release() { s.cancel() }

// streamTable holds a daemon's streams, with a per-connection and a
// daemon-wide limit. Lingering streams (whose connection is gone) count
// against the daemon-wide limit; when it is reached, the stream that has
// lingered longest makes room for a new one.
type streamTable struct {
	mu           sync.Mutex
	streams      map[string]*stream
	lingering    fifoList[stream, *stream] // lingering streams, longest-lingering first
	max, maxConn int                       // 0 = no limit
	closed       bool
	drained      chan struct{} // closed when closeAll has stopped every iterator
}

func (t *streamTable) init(max, maxConn int) {
	t.streams = map[string]*stream{}
	t.max, t.maxConn = max, maxConn
}

// add registers a stream owned by a connection, or refuses it with a
// DaemonError when a limit is reached (the iterator is then released).
func (t *streamTable) add(owner *dispatcher, src streamSource) (string, error) {
	t.mu.Lock()
	var victim *stream
	var err error
	switch {
	case t.closed:
		err = NewError(ErrDaemon, "daemon is shutting down")
	case t.maxConn > 0 && owner.nstreams >= t.maxConn:
		err = limitError("too many open item streams on this connection (ITER_STREAM_MAXCONN=%d); finish or close some first", t.maxConn)
	case t.max > 0 && len(t.streams) >= t.max:
		if victim = t.lingering.front(); victim == nil {
			err = limitError("too many open item streams in the daemon (ITER_STREAM_MAX=%d); try again later", t.max)
		} else {
			t.lingering.remove(victim)
			delete(t.streams, victim.id)
		}
	}
	if err != nil {
		t.mu.Unlock()
		src.release()
		return "", err
	}
	next, stop := iter.Pull(src.seq)
	s := &stream{id: uuidString(newUUID4()), next: next, stop: stop, cancel: src.cancel, owner: owner,
		created: time.Now(), pullSem: make(chan struct{}, 1)}
	t.streams[s.id] = s
	owner.nstreams++
	t.mu.Unlock()
	if victim != nil {
		victim.close()
	}
	return s.id, nil
}

func (t *streamTable) get(id string) *stream {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.streams[id]
}

// adopt gives a lingering stream to the connection that pulls from it
// (as Pyro does), if that connection has room for another stream; else it
// keeps lingering and expires on its linger clock.
func (t *streamTable) adopt(s *stream, c *dispatcher) {
	if c == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.owner != nil || t.streams[s.id] != s || t.maxConn > 0 && c.nstreams >= t.maxConn {
		return
	}
	t.lingering.remove(s)
	s.owner, s.detached = c, time.Time{}
	c.nstreams++
}

// remove forgets a stream and stops its iterator.
func (t *streamTable) remove(id string) {
	t.mu.Lock()
	s := t.streams[id]
	if s != nil {
		t.forgetLocked(s)
	}
	t.mu.Unlock()
	if s != nil {
		s.close()
	}
}

// forgetLocked removes s from the table (t.mu held).
func (t *streamTable) forgetLocked(s *stream) {
	delete(t.streams, s.id)
	if s.owner != nil {
		s.owner.nstreams--
		s.owner = nil
	} else {
		t.lingering.remove(s)
	}
}

func (s *stream) fifoLink() *fifoLink[stream] { return &s.lingerLink }

// close ends the stream's context and stops its iterator; when a pull is
// running, the puller stops it once next returns, so close never waits
// for an iterator.
func (s *stream) close() {
	s.cancel()
	s.mu.Lock()
	s.closed = true
	if s.pulling {
		s.mu.Unlock()
		return
	}
	stop := s.stop
	s.next, s.stop = nil, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// errStreamTerminated is Pyro's answer for a stream that is gone.
var errStreamTerminated = NewError(ErrPyro, "item stream terminated")

// pull returns the next item, or ok false when the iterator is exhausted;
// errStreamTerminated when the stream was closed. A second puller waits
// for the first, or for ctx.
func (s *stream) pull(ctx context.Context) (v any, ok bool, err error) {
	select {
	case s.pullSem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, context.Cause(ctx)
	}
	defer func() { <-s.pullSem }()
	s.mu.Lock()
	next := s.next
	if s.closed || next == nil {
		s.mu.Unlock()
		return nil, false, errStreamTerminated
	}
	s.pulling = true
	s.mu.Unlock()
	finished := true // also when next panics
	defer func() {
		s.mu.Lock()
		s.pulling = false
		var stop func()
		if finished || s.closed {
			stop = s.stop
			s.next, s.stop, s.closed = nil, nil, true
		}
		s.mu.Unlock()
		if stop != nil {
			stop()
			s.cancel()
		}
	}()
	v, ok = next()
	finished = !ok
	return v, ok, nil
}

// detach handles the owner's disconnect: streams linger (so a
// reconnecting proxy can continue) or are closed at once.
func (t *streamTable) detach(owner *dispatcher, linger bool) {
	t.mu.Lock()
	if owner.nstreams == 0 {
		t.mu.Unlock()
		return
	}
	var drop []*stream
	now := time.Now()
	for _, s := range t.streams {
		if s.owner == owner {
			drop = append(drop, s)
		}
	}
	if linger {
		// oldest first, so that the oldest go first when room is needed
		slices.SortFunc(drop, func(a, b *stream) int { return a.created.Compare(b.created) })
		for _, s := range drop {
			s.owner, s.detached = nil, now
			t.lingering.pushBack(s)
		}
		drop = nil
	} else {
		for _, s := range drop {
			t.forgetLocked(s)
		}
	}
	owner.nstreams = 0
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
	if lifetime > 0 {
		for _, s := range t.streams {
			if now.Sub(s.created) > lifetime {
				t.forgetLocked(s)
				drop = append(drop, s)
			}
		}
	}
	for s := t.lingering.front(); s != nil && now.Sub(s.detached) > linger; s = t.lingering.front() {
		t.forgetLocked(s)
		drop = append(drop, s)
	}
	t.mu.Unlock()
	for _, s := range drop {
		s.close()
	}
}

// closeAll closes every stream and refuses new ones. Iterators are
// stopped by a goroutine of the table (an iterator that ignores the end
// of its context could block it); the channel is closed when they all
// are.
func (t *streamTable) closeAll() <-chan struct{} {
	t.mu.Lock()
	if t.closed {
		defer t.mu.Unlock()
		return t.drained // a second call waits for the first one's work
	}
	all := t.streams
	t.streams = map[string]*stream{}
	t.lingering.clear()
	t.closed = true
	for _, s := range all {
		if s.owner != nil {
			s.owner.nstreams--
			s.owner = nil
		}
	}
	done := make(chan struct{})
	t.drained = done
	t.mu.Unlock()
	if len(all) == 0 {
		close(done)
		return done
	}
	for _, s := range all {
		s.cancel() // at once, so blocked iterators can return
	}
	go func() {
		defer close(done)
		for _, s := range all {
			s.close()
		}
	}()
	return done
}

func (t *streamTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.streams)
}
