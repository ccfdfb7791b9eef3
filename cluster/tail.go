package cluster

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pyrogo/pyro/events"
)

// logTail is an instance's one reader of the log's end: a pull consumer
// of its own that follows the log as it grows, each message fetched and
// decoded once and kept in a window of the newest messages (at most
// window bytes), which every Read that has caught up takes its events
// from. A Read that is behind the window (it started behind the tail, or
// its fn did not keep up and the window moved past it) reads through a
// consumer of its own, and joins the tail again once it reaches the
// window. The window's messages are shared (the decoded events are
// referenced, not copied, by the Reads), and the tail's memory (the
// window and its fetch in flight) is taken from the fetch budget once,
// at Attach.
type logTail struct {
	es       *EventStore
	window   int64 // the most bytes of messages kept
	reserved int64 // taken from the fetch budget: window and one fetch

	mu    sync.Mutex
	ready bool   // from and last are known (the consumer's start)
	from  uint64 // the first stream sequence covered: every message from here to last is in entries
	last  uint64 // the last stream sequence read
	ents  []*tailEntry
	bytes int64
	// progress is when the tail last read a message or found itself at
	// the log's end (see stalled)
	progress time.Time
	changed  chan struct{} // closed and replaced when ents grows or the tail ends

	cancel context.CancelFunc
	done   chan struct{}

	// Reads that left the tail (the window moved past them, or it
	// stalled) and that joined it (tests)
	falls, joins atomic.Int64
}

// tailEntry is one log message the tail read.
type tailEntry struct {
	seq  uint64         // its stream sequence
	evs  []events.Event // decoded once; nil if undecodable
	size int64          // its bytes
}

// errTailClosed: the store closed while a Read followed the tail.
var errTailClosed = errors.New("nats event store: closed")

// tailWindow is the default window of the tail for a fetch budget of
// size: a quarter of it, at least one fetch.
func tailWindow(size, readB int64) int64 { return max(size/4, readB) }

// startTail starts the tail (Attach): it takes its memory from the
// fetch budget (none is used yet) and follows the log from its end.
func (es *EventStore) startTail(window int64) {
	t := &logTail{es: es, window: window, reserved: window + int64(es.readB),
		changed: make(chan struct{}), done: make(chan struct{})}
	ctx, cancel := es.ctx()
	held, err := es.budget.acquire(ctx, t.reserved)
	cancel()
	if err != nil {
		es.log.Debug("nats event store: no fetch budget for the log's tail", "err", err)
		return
	}
	t.reserved = held
	ctx, t.cancel = context.WithCancel(context.Background())
	es.tail = t
	go t.run(ctx)
}

// stop ends the tail and gives its memory back (Close).
func (t *logTail) stop() {
	t.cancel()
	<-t.done
	t.mu.Lock()
	t.ents, t.bytes = nil, 0
	t.mu.Unlock()
	t.es.budget.release(t.reserved)
}

// run reads the log's end until stop: a consumer from the log's end as
// it is now, recreated after the last message read when it fails (a
// gap in its delivery sequence, a fetch that brings nothing while the
// log has more, a NATS node's death).
func (t *logTail) run(ctx context.Context) {
	es := t.es
	defer close(t.done)
	defer t.wake()
	var cons jetstream.Consumer
	r := &reader{es: es, tail: true, add: t.add}
	drop := func() {
		if cons != nil {
			dctx, cancel := context.WithTimeout(context.Background(), es.beatTimeout)
			_ = es.js.DeleteConsumer(dctx, es.stream, cons.CachedInfo().Name)
			cancel()
			cons = nil
		}
	}
	defer drop()
	pause := func() bool {
		tm := time.NewTimer(es.beat)
		defer tm.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-tm.C:
			return true
		}
	}
	for ctx.Err() == nil {
		if cons == nil {
			t.mu.Lock()
			ready, next := t.ready, t.last+1
			t.mu.Unlock()
			if !ready {
				cctx, cancel := es.ctx()
				last, err := es.lastSeq(cctx)
				cancel()
				if err != nil {
					es.log.Debug("nats event store: following the log's end", "err", err)
					if !pause() {
						return
					}
					continue
				}
				es.sawSeq(last)
				t.mu.Lock()
				t.ready, t.from, t.last, t.progress = true, last+1, last, time.Now()
				t.mu.Unlock()
				next = last + 1
			}
			var err error
			if cons, err = es.consumer(ctx, next); err != nil {
				es.log.Debug("nats event store: following the log's end", "err", err)
				if !pause() {
					return
				}
				continue
			}
			r.read, r.delivered = next-1, 0
		}
		if _, err := r.fetch(ctx, cons); err != nil {
			es.log.Debug("nats event store: following the log's end; reading on with a new consumer", "after", r.read, "err", err)
			drop()
			continue
		}
		t.mu.Lock()
		if es.logEnd.Load() <= t.last {
			t.progress = time.Now()
		}
		t.mu.Unlock()
	}
}

// add keeps one message the tail read, dropping the oldest ones beyond
// the window, and wakes the Reads that wait for it.
func (t *logTail) add(seq uint64, evs []events.Event, size int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := &tailEntry{seq: seq, evs: evs, size: int64(size)}
	t.ents = append(t.ents, e)
	t.bytes += e.size
	t.last = seq
	t.progress = time.Now()
	n := 0
	for t.bytes > t.window && n < len(t.ents) {
		t.bytes -= t.ents[n].size
		t.from = t.ents[n].seq + 1
		t.ents[n] = nil
		n++
	}
	t.ents = t.ents[n:]
	if n > 0 && len(t.ents) < cap(t.ents)/4 { // let the dropped ones' array go
		t.ents = append([]*tailEntry(nil), t.ents...)
	}
	t.es.sawSeq(seq)
	t.wakeLocked()
}

func (t *logTail) wake() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wakeLocked()
}

func (t *logTail) wakeLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// stalledLocked reports whether the tail has not read for readStall
// while the log has more. t.mu held.
func (t *logTail) stalledLocked() bool {
	return t.es.logEnd.Load() > t.last && time.Since(t.progress) > readStall
}

// covers reports whether a Read that read up to message read can read on
// from the tail.
func (t *logTail) covers(read uint64) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ready && t.from <= read+1 && !t.stalledLocked()
}

// follow hands msg the messages after read from the window, as the tail
// reads them, until msg or ctx ends Read (done), or the Read falls
// behind the window or the tail stalls (not done: read on with a
// consumer of its own from the returned position).
func (t *logTail) follow(ctx context.Context, read uint64, msg func(seq uint64, evs []events.Event) bool) (uint64, bool, error) {
	var batch []*tailEntry
	for {
		t.mu.Lock()
		if t.from > read+1 {
			t.mu.Unlock()
			t.falls.Add(1)
			return read, false, nil
		}
		i := sort.Search(len(t.ents), func(i int) bool { return t.ents[i].seq > read })
		batch = append(batch[:0], t.ents[i:min(len(t.ents), i+readBatch)]...)
		changed, stalled := t.changed, t.stalledLocked()
		t.mu.Unlock()
		if len(batch) == 0 {
			if stalled {
				t.falls.Add(1)
				return read, false, nil
			}
			tm := time.NewTimer(readStall)
			select {
			case <-changed:
			case <-tm.C:
			case <-ctx.Done():
			case <-t.done:
			}
			tm.Stop()
			if ctx.Err() != nil {
				return read, true, nil
			}
			select {
			case <-t.done:
				return read, true, errTailClosed
			default:
			}
			continue
		}
		for i, e := range batch {
			batch[i] = nil
			if e.evs != nil && !msg(e.seq, e.evs) {
				return read, true, nil
			}
			read = e.seq
		}
	}
}
