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
	patterns map[string]struct{} // its pattern texts, guarded by s.mu
	dropped  atomic.Int64
	bytes    int64 // queued bytes, guarded by s.bmu

	// backlog holds a resumed subscriber's pending events, delivered
	// before its queue; owned by its goroutine once started.
	backlog []queued
	// delivered is the last delivered sequence number not acknowledged
	// to the store yet, unacked how many events that covers; owned by
	// the goroutine.
	delivered uint64
	unacked   int
	gone     bool  // stopped: takes nothing more, guarded by s.bmu
}

// queued is a stored event in a queue with its estimated size.
type queued struct {
	Stored
	size int64
}

func newSubscriber(s *Service, key string, p *pyro.Proxy) *subscriber {
	return &subscriber{s: s, key: key, proxy: p, q: make(chan queued, s.o.queueSize),
		quit: make(chan struct{}), fin: make(chan struct{}),
		exact: map[string]struct{}{}, patterns: map[string]struct{}{}}
}

func (w *subscriber) stop()   { w.stopOnce.Do(func() { close(w.quit) }) }
func (w *subscriber) finish() { w.finOnce.Do(func() { close(w.fin) }) }

// AckBatch is the most events a subscriber's goroutine delivers before
// it acknowledges them to the store; it acknowledges earlier when its
// queue is empty. After a crash at most this many events per subscriber
// (plus the one being sent) are delivered again.
const AckBatch = 32

// run delivers the backlog, then the queue, in order until the
// subscriber is stopped.
func (w *subscriber) run(ctx context.Context) {
	defer w.proxy.Close()
	defer w.s.releaseAll(w)
	defer w.ack()
	for len(w.backlog) > 0 {
		st := w.backlog[0]
		w.backlog[0] = queued{}
		w.backlog = w.backlog[1:]
		if !w.send(ctx, st) {
			for _, st := range w.backlog {
				w.s.release(w, st.size)
			}
			w.backlog = nil
			return
		}
	}
	w.backlog = nil
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
		err := w.call(ctx, st.Stored)
		if err == nil {
			w.delivered = st.Seq
			w.unacked++
			if w.unacked >= AckBatch || (len(w.q) == 0 && len(w.backlog) == 0) {
				w.ack()
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

// ack acknowledges the delivered events to the store.
func (w *subscriber) ack() {
	if w.unacked == 0 {
		return
	}
	if err := w.s.o.store.Ack(w.key, w.delivered); err != nil {
		w.s.o.log.Error("events: acknowledging delivered events failed", "subscriber", w.key, "err", err)
	}
	w.unacked = 0
}

func (w *subscriber) call(ctx context.Context, st Stored) error {
	d := w.s.cfg.CommTimeout
	if d <= 0 {
		d = deliveryTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	ev := st.Event.dict()
	if w.s.durable {
		ev.SetString("seq", int64(st.Seq))
	}
	return w.proxy.Oneway(cctx, "event", ev)
}
