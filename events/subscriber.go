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

	// backlog holds a resumed subscriber's pending events, delivered
	// before its queue; owned by its goroutine once started.
	backlog []queued
	// sent holds the events sent and not confirmed yet (see confirm),
	// their bytes still counted; owned by the goroutine.
	sent []queued
	// skipTo: a shared store moved its cursor to this seq (Owner.Skip);
	// events up to it that were not sent yet are dropped
	skipTo atomic.Uint64
	// with a shared store (sharedsvc.go, for skip): how far its feed
	// read the log, the last event it queued, the last one confirmed
	// and since when (unix ns; 0: not) its feed waits for a full queue
	readPos, lastQueued, acked atomic.Uint64
	fullSince                  atomic.Int64
	// oldest: when the oldest event it took from its queue and has not
	// confirmed yet was queued (unix ns; 0: none, or not shared)
	oldest atomic.Int64
	// thirdParty: its client was on another host (a shared subscriber,
	// sharedsvc.go); set before it starts
	thirdParty bool
}

// queued is a stored event in a queue with its estimated size and,
// with a shared store, when it was queued (unix ns).
type queued struct {
	Stored
	size int64
	at   int64
}

func newSubscriber(s *Service, key string, p *pyro.Proxy) *subscriber {
	return &subscriber{s: s, key: key, proxy: p, q: make(chan queued, s.o.queueSize),
		quit: make(chan struct{}), fin: make(chan struct{}),
		exact: map[string]struct{}{}, patterns: map[string]Client{}}
}

func (w *subscriber) stop()   { w.stopOnce.Do(func() { close(w.quit) }) }
func (w *subscriber) finish() { w.finOnce.Do(func() { close(w.fin) }) }

// AckBatch is the most events a subscriber's goroutine sends, with a
// durable store, before it confirms them (see confirm) and acknowledges
// them to the store; it confirms earlier when nothing else is waiting
// for the subscriber. After a crash at most this many events per
// subscriber are delivered again.
const AckBatch = 32

// run delivers the backlog, then the queue, in order until the
// subscriber is stopped. Events sent but not confirmed when it stops
// stay unacknowledged in the store.
func (w *subscriber) run(ctx context.Context) {
	defer w.proxy.Close()
	defer w.s.releaseAll(w)
	for len(w.backlog) > 0 {
		st := w.backlog[0]
		w.backlog[0] = queued{}
		w.backlog = w.backlog[1:]
		if !w.deliver(ctx, st) {
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
			if st.Seq <= w.skipTo.Load() {
				w.skipped(st)
				continue
			}
			if st.at != 0 {
				w.oldest.CompareAndSwap(0, st.at)
			}
			if !w.deliver(ctx, st) {
				return
			}
		case <-w.fin:
			for {
				select {
				case st := <-w.q:
					if !w.deliver(ctx, st) {
						return
					}
				default:
					w.confirm(ctx)
					return
				}
			}
		}
	}
}

// skipped drops st, which a shared store skipped (Owner.Skip).
func (w *subscriber) skipped(st queued) {
	w.dropped.Add(1)
	w.s.dropped.Add(1)
	w.s.release(w, st.size)
}

// deliver sends st, then confirms the sent events when AckBatch of them
// wait for it, when nothing else is waiting, or at once without a
// durable store.
func (w *subscriber) deliver(ctx context.Context, st queued) bool {
	if !w.send(ctx, st) {
		return false
	}
	w.sent = append(w.sent, st)
	if !w.s.durable || len(w.sent) >= AckBatch || (len(w.q) == 0 && len(w.backlog) == 0) {
		return w.confirm(ctx)
	}
	return true
}

// send delivers one event, retrying with backoff; after maxFailures
// consecutive failures it removes the subscriber and returns false (also
// when the subscriber or service stops meanwhile).
func (w *subscriber) send(ctx context.Context, st queued) bool {
	for failures := 0; ; {
		if !w.s.sending.acquire(ctx, w.quit, st.size) {
			return false
		}
		err := w.call(ctx, st.Stored)
		w.s.sending.release(st.size)
		if err == nil {
			w.stalled.Store(false)
			w.s.delivered.Add(1)
			return true
		}
		failures++
		if !w.failed(ctx, failures, err) {
			return false
		}
	}
}

// failed logs a failed delivery and waits before the next try; false:
// give up (the subscriber was removed after maxFailures, or stopped).
func (w *subscriber) failed(ctx context.Context, failures int, err error) bool {
	o := &w.s.o
	o.log.Debug("events: delivery failed", "subscriber", w.key, "failures", failures, "err", err)
	if failures >= o.maxFailures {
		w.s.remove(w)
		return false
	}
	wait := o.retryBase
	for range failures - 1 {
		wait = min(2*wait, o.retryMax)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-w.quit:
		return false
	case <-t.C:
		return true
	}
}

// confirm acknowledges the sent events to the store and gives back their
// bytes. With a durable store it first makes sure the subscriber got
// them: a oneway call returns once it is written to the connection,
// which does not survive the connection; so it pings the subscriber's
// daemon on the same connection, and the answer means the daemon has
// read every call written before. A failed ping is a failed delivery:
// after the backoff the unconfirmed events are sent again (the
// subscriber may get some twice; each carries its "seq").
func (w *subscriber) confirm(ctx context.Context) bool {
	if len(w.sent) == 0 {
		return true
	}
	if w.s.durable {
		for failures := 0; ; {
			err := w.ping(ctx)
			if err == nil {
				break
			}
			failures++
			if !w.failed(ctx, failures, err) {
				return false
			}
			for _, st := range w.sent {
				if !w.send(ctx, st) {
					return false
				}
			}
		}
	}
	last := w.sent[len(w.sent)-1].Seq
	if err := w.s.o.store.Ack(w.key, last); err != nil {
		w.s.o.log.Error("events: acknowledging delivered events failed", "subscriber", w.key, "err", err)
	}
	w.acked.Store(last)
	w.oldest.Store(0)
	for i, st := range w.sent {
		w.s.release(w, st.size)
		w.sent[i] = queued{}
	}
	w.sent = w.sent[:0]
	return true
}

func (w *subscriber) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	d := w.s.cfg.CommTimeout
	if d <= 0 {
		d = deliveryTimeout
	}
	return context.WithTimeout(ctx, d)
}

func (w *subscriber) ping(ctx context.Context) error {
	cctx, cancel := w.timeout(ctx)
	defer cancel()
	return w.proxy.Ping(cctx)
}

func (w *subscriber) call(ctx context.Context, st Stored) error {
	cctx, cancel := w.timeout(ctx)
	defer cancel()
	ev := st.Event.dict()
	if w.s.durable {
		ev.SetString("seq", int64(st.Seq))
	}
	return w.proxy.Oneway(cctx, "event", ev)
}
