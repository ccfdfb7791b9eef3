package events

import (
	"context"
	"time"
)

// The queueing of a publish's events. Every event of one publish is
// offered to its subscribers without waiting; those that fit are
// appended to the store in one call (one transaction of a durable store)
// and then queued, all under s.pmu, so each queue holds its events in the
// order of their sequence numbers, the order Pending returns them after a
// restart. A subscriber whose queue is full (in events or bytes) for one
// event of the publish takes the publish's later events only after it,
// so that its events stay in order; with ES_BLOCKQUEUE the publisher then
// waits for all of those at once, until the block timeout (one for the
// whole publish). A subscriber whose queue was still full when a publisher's
// wait expired is stalled: until it delivers an event again, a full queue
// of its drops the event at once instead of making every publisher wait
// the block timeout again.

// pending is an event accepted for one subscriber, its bytes reserved.
type pending struct {
	w    *subscriber
	size int64
}

// deliver queues evs[i] for every subscriber in targets[i]. An error
// means the store failed: nothing of the failed step was queued and the
// publish is not acknowledged.
func (s *Service) deliver(ctx context.Context, evs []Event, targets [][]*subscriber) error {
	sizes := make([]int64, len(evs))
	for i, ev := range evs {
		if len(targets[i]) > 0 {
			sizes[i] = eventSize(ev, max(s.o.queueBytes, s.o.totalBytes))
		}
	}
	waiting := make([][]*subscriber, len(evs))
	nWaiting := 0
	if err := s.queueFitting(evs, sizes, targets, waiting, &nWaiting); err != nil {
		return err
	}
	if nWaiting == 0 {
		return nil
	}
	if !s.o.block {
		for _, ws := range waiting {
			for _, w := range ws {
				w.dropped.Add(1)
			}
		}
		s.dropped.Add(int64(nWaiting))
		return nil
	}
	// the waiting ones, each subscriber's events in publish order; all
	// are tried whenever bytes are given back, until the block timeout
	type waits struct {
		w   *subscriber
		idx []int
	}
	var ws []*waits
	byW := map[*subscriber]*waits{}
	for i, list := range waiting {
		for _, w := range list {
			x := byW[w]
			if x == nil {
				x = &waits{w: w}
				byW[w] = x
				ws = append(ws, x)
			}
			x.idx = append(x.idx, i)
		}
	}
	t := time.NewTimer(s.o.blockTimeout)
	defer t.Stop()
	for {
		room := s.roomSignal() // before the tries: no wake-up is missed
		left := 0
		for _, x := range ws {
			for len(x.idx) > 0 {
				i := x.idx[0]
				ok, err := s.queueOne(evs[i], sizes[i], x.w)
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				x.idx = x.idx[1:]
			}
			left += len(x.idx)
		}
		if left == 0 {
			return nil
		}
		select {
		case <-room:
			continue
		case <-t.C:
		case <-ctx.Done():
		}
		for _, x := range ws {
			if len(x.idx) > 0 {
				x.w.stalled.Store(true)
				x.w.dropped.Add(int64(len(x.idx)))
			}
		}
		s.dropped.Add(int64(left))
		s.o.log.Warn("events: queue full, events dropped", "events", left)
		return nil
	}
}

// queueFitting appends and queues, under s.pmu, every event for the
// targets that have room; the others go to waiting (in order).
func (s *Service) queueFitting(evs []Event, sizes []int64, targets, waiting [][]*subscriber, nWaiting *int) error {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	full := map[*subscriber]bool{}
	slots := map[*subscriber]int{} // queue slots taken by this publish
	accepted := make([][]pending, len(evs))
	recs := make([]Record, 0, len(evs))
	for i := range evs {
		var keys []string
		for _, w := range targets[i] {
			if full[w] {
				waiting[i] = append(waiting[i], w)
				*nWaiting++
				continue
			}
			switch s.tryReserve(w, sizes[i], slots[w]) {
			case reserved:
				slots[w]++
				accepted[i] = append(accepted[i], pending{w, sizes[i]})
				keys = append(keys, w.key)
			case noRoom:
				if s.o.block && w.stalled.Load() {
					// a publisher already waited the block timeout for
					// it and it has delivered nothing since: no new wait
					w.dropped.Add(1)
					s.dropped.Add(1)
					continue
				}
				full[w] = true
				waiting[i] = append(waiting[i], w)
				*nWaiting++
			case stopped: // removed meanwhile: the event is discarded
			}
		}
		if len(keys) > 0 {
			recs = append(recs, Record{Event: evs[i], Subscribers: keys})
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := s.o.store.Append(recs); err != nil {
		for _, ps := range accepted {
			for _, p := range ps {
				s.release(p.w, p.size)
			}
		}
		s.o.log.Error("events: storing a publish failed", "err", err)
		return err
	}
	r := 0
	for i, ps := range accepted {
		if len(ps) == 0 {
			continue
		}
		seq := recs[r].Seq
		r++
		for _, p := range ps {
			p.w.q <- queued{Stored: Stored{Seq: seq, Event: evs[i]}, size: p.size}
		}
	}
	return nil
}

// queueOne appends and queues ev for w if it has room.
func (s *Service) queueOne(ev Event, size int64, w *subscriber) (bool, error) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	switch s.tryReserve(w, size, 0) {
	case stopped:
		return true, nil
	case noRoom:
		return false, nil
	}
	recs := []Record{{Event: ev, Subscribers: []string{w.key}}}
	if err := s.o.store.Append(recs); err != nil {
		s.release(w, size)
		s.o.log.Error("events: storing an event failed", "subscriber", w.key, "err", err)
		return false, err
	}
	w.q <- queued{Stored: Stored{Seq: recs[0].Seq, Event: ev}, size: size}
	return true, nil
}

type reservation int

const (
	reserved reservation = iota
	noRoom
	stopped
)

// tryReserve takes a queue slot (besides the taken ones this publish
// already holds) and size bytes for w. s.pmu held: only holders of s.pmu
// add to a queue, so a free slot stays free until they do.
func (s *Service) tryReserve(w *subscriber, size int64, taken int) reservation {
	select {
	case <-w.quit:
		return stopped
	default:
	}
	if len(w.q)+taken >= cap(w.q) {
		return noRoom
	}
	if _, ok := s.reserve(w, size); !ok {
		return noRoom
	}
	return reserved
}
