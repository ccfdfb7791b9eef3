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
// waits for those, one by one, until the block timeout.

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
	t := time.NewTimer(s.o.blockTimeout)
	defer t.Stop()
	expired := false
	var dropped int64
	for i, ws := range waiting {
		for _, w := range ws {
			// once the timeout has passed, the others still get the
			// event if their queue has room by now (one subscriber's
			// timeout must not cost another its event)
			ok, err := s.queueWaiting(ctx, evs[i], sizes[i], w, t.C, expired)
			if err != nil {
				return err
			}
			if !ok {
				expired = true
				w.dropped.Add(1)
				dropped++
			}
		}
	}
	if dropped > 0 {
		s.dropped.Add(dropped)
		s.o.log.Warn("events: queue full, event dropped", "subscribers", dropped)
	}
	return nil
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

// queueWaiting waits until w has room for ev (unless expired, or until
// timeout fires or ctx ends), then appends and queues it. False: not
// queued (dropped).
func (s *Service) queueWaiting(ctx context.Context, ev Event, size int64, w *subscriber, timeout <-chan time.Time, expired bool) (bool, error) {
	for {
		room := s.roomChan() // before the check: a release after it wakes us
		ok, err := s.queueOne(ev, size, w)
		if ok || err != nil {
			return ok, err
		}
		if expired {
			return false, nil
		}
		select {
		case <-room:
		case <-w.quit:
			return true, nil
		case <-ctx.Done():
			return false, nil
		case <-timeout:
			return false, nil
		}
	}
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
