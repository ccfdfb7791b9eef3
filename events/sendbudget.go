package events

import (
	"context"
	"sync"
)

// smallSend is the estimated size up to which an event is sent without
// taking from the send budget: the subscribers (WithMaxSubscribers) bound
// what those hold, and small events keep flowing while large ones wait.
const smallSend = 64 << 10

// sendBudget bounds the bytes of the events being delivered at once
// (WithSendBytes). Every delivery encodes its event for its own
// subscriber and holds the encoding until it is written, which takes
// until the delivery timeout for a subscriber that does not read; so
// without it one message published to n subscribers costs n encodings at
// once (a 60 MiB message to 1000 subscribers, 60 GB). An event larger
// than the budget is sent when nothing else is being sent.
type sendBudget struct {
	mu    sync.Mutex
	limit int64
	used  int64
	room  chan struct{} // closed when bytes are given back
}

// acquire takes size bytes, waiting until they fit; false if ctx ends or
// quit is closed first. Small events take nothing.
func (b *sendBudget) acquire(ctx context.Context, quit <-chan struct{}, size int64) bool {
	if size <= smallSend {
		return true
	}
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+size <= b.limit {
			b.used += size
			b.mu.Unlock()
			return true
		}
		if b.room == nil {
			b.room = make(chan struct{})
		}
		room := b.room
		b.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return false
		case <-quit:
			return false
		}
	}
}

// release gives back what acquire took for size.
func (b *sendBudget) release(size int64) {
	if size <= smallSend {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= size
	if b.room != nil {
		close(b.room)
		b.room = nil
	}
}
