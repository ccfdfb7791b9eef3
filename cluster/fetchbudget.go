package cluster

import (
	"context"
	"sync"
)

// DefaultFetchBudget is the default of WithFetchBudget: the bytes of the
// event log that an instance's readers may hold fetched and not yet
// handed to their subscribers' queues, all readers together, the
// instance's tail (its window of the newest messages, a quarter of the
// budget, and its one fetch) included. It is 16 fetches of the default
// NATS payload limit (1 MiB) at their largest (readB: 2 MiB), an eighth
// of the service's queue total (events.DefaultTotalBytes, 256 MiB),
// whatever the number of subscribers.
const DefaultFetchBudget = 32 << 20

// WithFetchBudget sets the bytes of the event log an instance's readers
// may hold fetched and not yet handed on, all subscribers together
// (default DefaultFetchBudget). The instance's tail takes its window (a
// quarter of the budget, at least one fetch) and one fetch from it at
// Attach; at least one more fetch, 2 MiB with NATS's default payload
// limit, is always allowed (the budget is raised to that). A reader with
// a consumer of its own (one behind the tail's window) takes its fetch's
// byte limit from it before it fetches and gives back each message's
// share once the message's events are in its subscriber's queue, the
// rest when the fetch ends; readers wait their turn in order, so one
// subscriber cannot starve the others.
func WithFetchBudget(n int64) Option { return func(o *options) { o.fetchBudget = n } }

// fetchBudget is a weighted semaphore served in order of arrival.
type fetchBudget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	peak    int64 // the most ever used (read by tests)
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once granted
}

func newFetchBudget(size int64) *fetchBudget { return &fetchBudget{size: size} }

// acquire takes n bytes (at most the budget's size; the amount taken is
// returned), waiting behind earlier callers until they fit or ctx ends.
func (b *fetchBudget) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(n, b.size)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.size {
		b.takeLocked(n)
		b.mu.Unlock()
		return n, nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			b.used -= n
			b.grantLocked()
		default:
			for i, x := range b.waiters {
				if x == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
			b.grantLocked() // the next one may fit now
		}
		return 0, ctx.Err()
	}
}

// release gives back n bytes.
func (b *fetchBudget) release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.grantLocked()
}

func (b *fetchBudget) takeLocked(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// grantLocked serves the waiters in order while the first fits.
func (b *fetchBudget) grantLocked() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.size {
		w := b.waiters[0]
		b.waiters[0] = nil
		b.waiters = b.waiters[1:]
		b.takeLocked(w.n)
		close(w.ready)
	}
}

// stats returns the bytes held now and the most ever held.
func (b *fetchBudget) stats() (used, peak int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak
}
