package events

// The byte bounds of the queues (WithQueueBytes): every queued event
// holds a reservation of its estimated size in its subscriber's count
// and in the service's total from before it is queued until it is
// delivered or discarded. Waiting publishers wait on s.room, which is
// closed (and replaced) whenever bytes are given back.

// reserve takes size bytes for w if its bounds allow it; otherwise it
// returns a channel closed when bytes are next given back. A subscriber
// that has stopped takes everything (the event is discarded).
func (s *Service) reserve(w *subscriber, size int64) (room <-chan struct{}, ok bool) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if w.gone {
		return nil, true
	}
	perOK := w.bytes == 0 || w.bytes+size <= s.o.queueBytes
	share := s.o.totalBytes / max(1, s.nSubs.Load())
	totalOK := s.totalQueued+size <= s.o.totalBytes || w.bytes == 0 || w.bytes+size <= share
	if !perOK || !totalOK {
		if s.room == nil {
			s.room = make(chan struct{})
		}
		return s.room, false
	}
	w.bytes += size
	s.totalQueued += size
	return nil, true
}

// release gives back size bytes of w.
func (s *Service) release(w *subscriber, size int64) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if w.gone {
		return
	}
	w.bytes -= size
	s.totalQueued -= size
	s.wakeLocked()
}

// releaseAll gives back everything w holds; w takes nothing more.
func (s *Service) releaseAll(w *subscriber) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if w.gone {
		return
	}
	w.gone = true
	s.totalQueued -= w.bytes
	w.bytes = 0
	s.wakeLocked()
}

func (s *Service) wakeLocked() {
	if s.room != nil {
		close(s.room)
		s.room = nil
	}
}

// roomSignal returns a channel closed when bytes are next given back
// (every delivery that ends gives back its event's bytes, so a queue
// that was full in events or bytes may have room then).
func (s *Service) roomSignal() <-chan struct{} {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if s.room == nil {
		s.room = make(chan struct{})
	}
	return s.room
}

// holdBacklog counts the bytes of a resumed subscriber's backlog, which
// it takes whatever the bounds (the events were accepted before the
// restart).
func (s *Service) holdBacklog(w *subscriber, size int64) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	w.bytes += size
	s.totalQueued += size
}
