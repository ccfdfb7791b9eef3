package events

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro"
)

// deliveryTimeout bounds one event(event) call when the config has no
// COMMTIMEOUT.
const deliveryTimeout = 30 * time.Second

// subscriber is one subscriber's queue and the goroutine that empties it
// through the subscriber's own proxy. The Service owns the goroutine: it
// ends when the subscriber is removed (quit), when the service shuts down
// (fin: after the queue is empty) or closes (the service's context).
type subscriber struct {
	s     *Service
	key   string
	proxy *pyro.Proxy
	q     chan queued

	quit     chan struct{}
	fin      chan struct{}
	stopOnce sync.Once
	finOnce  sync.Once

	exact    map[string]struct{} // its subjects (lower-cased), guarded by s.mu
	patterns map[string]Client   // its pattern texts and who subscribed each, guarded by s.mu
	dropped  atomic.Int64
	// stalled: a publisher waited the block timeout for its full queue
	// and it has delivered nothing since; publishers do not wait for it
	stalled atomic.Bool
	bytes   int64 // queued bytes, guarded by s.bmu
	gone    bool  // stopped: takes nothing more, guarded by s.bmu
}

// queued is a stored event in a queue with its estimated size.
type queued struct {
	Stored
	size int64
}

func newSubscriber(s *Service, key string, p *pyro.Proxy) *subscriber {
	return &subscriber{s: s, key: key, proxy: p, q: make(chan queued, s.o.queueSize),
		quit: make(chan struct{}), fin: make(chan struct{}),
		exact: map[string]struct{}{}, patterns: map[string]Client{}}
}

func (w *subscriber) stop()   { w.stopOnce.Do(func() { close(w.quit) }) }
func (w *subscriber) finish() { w.finOnce.Do(func() { close(w.fin) }) }

// offer queues ev (of size bytes) if there is room; false when the
// queue is full, in events or bytes. A removed subscriber takes (and
// discards) everything.
func (w *subscriber) offer(ev Event, size int64) bool {
	select {
	case <-w.quit:
		return true
	default:
	}
	if len(w.q) == cap(w.q) {
		return false
	}
	return w.put(ev, size, nil, nil)
}

func (w *subscriber) put(ev Event, size int64, done <-chan struct{}, timeout <-chan time.Time) bool {
	// reserve the bytes first, waiting (when allowed) for room
	for {
		room, ok := w.s.reserve(w, size)
		if ok {
			break
		}
		if done == nil {
			return false
		}
		select {
		case <-room:
		case <-w.quit:
			return true
		case <-done:
			return false
		case <-timeout:
			return false
		}
	}
	seq, err := w.s.o.store.Append(w.key, ev)
	if err != nil {
		w.s.release(w, size)
		w.s.o.log.Error("events: storing an event failed", "subscriber", w.key, "err", err)
		return false
	}
	st := queued{Stored: Stored{Seq: seq, Event: ev}, size: size}
	if done == nil {
		select {
		case w.q <- st:
			return true
		case <-w.quit:
			w.s.release(w, size)
			return true
		default:
			w.s.release(w, size)
			return false
		}
	}
	select {
	case w.q <- st:
		return true
	case <-w.quit:
		w.s.release(w, size)
		return true
	case <-done:
		w.s.release(w, size)
		return false
	case <-timeout:
		w.s.release(w, size)
		return false
	}
}

// run delivers the queue in order until the subscriber is stopped.
func (w *subscriber) run(ctx context.Context) {
	defer w.proxy.Close()
	defer w.s.releaseAll(w)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.quit:
			return
		case st := <-w.q:
			if !w.send(ctx, st) {
				return
			}
		case <-w.fin:
			for {
				select {
				case st := <-w.q:
					if !w.send(ctx, st) {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// send delivers one event, retrying with backoff; after maxFailures
// consecutive failures it removes the subscriber and returns false (also
// when the subscriber or service stops meanwhile).
func (w *subscriber) send(ctx context.Context, st queued) bool {
	defer w.s.release(w, st.size)
	o := &w.s.o
	wait := o.retryBase
	for failures := 0; ; {
		if !w.s.sending.acquire(ctx, w.quit, st.size) {
			return false
		}
		err := w.call(ctx, st.Event)
		w.s.sending.release(st.size)
		if err == nil {
			w.stalled.Store(false)
			if err := o.store.Ack(w.key, st.Seq); err != nil {
				o.log.Error("events: acknowledging an event failed", "subscriber", w.key, "err", err)
			}
			return true
		}
		failures++
		o.log.Debug("events: delivery failed", "subscriber", w.key, "failures", failures, "err", err)
		if failures >= o.maxFailures {
			w.s.remove(w)
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-w.quit:
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, o.retryMax)
	}
}

func (w *subscriber) call(ctx context.Context, ev Event) error {
	d := w.s.cfg.CommTimeout
	if d <= 0 {
		d = deliveryTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return w.proxy.Oneway(cctx, "event", ev.dict())
}
