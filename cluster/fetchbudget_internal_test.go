package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
)

// TestFetchBudgetOrder: the budget serves waiters in order of arrival,
// so a reader asking for a whole fetch is not passed by smaller ones
// forever; a cancelled waiter leaves and lets the next one in; a request
// larger than the budget takes all of it.
func TestFetchBudgetOrder(t *testing.T) {
	b := newFetchBudget(10)
	ctx := context.Background()
	if n, err := b.acquire(ctx, 8); n != 8 || err != nil {
		t.Fatalf("acquire 8 of 10: %d, %v", n, err)
	}
	got := make(chan int, 3)
	wait := func(id int, n int64, ctx context.Context) {
		if _, err := b.acquire(ctx, n); err == nil {
			got <- id
		} else {
			got <- -id
		}
	}
	waiting := func(k int) {
		testkit.Eventually(t, "waiters queued", func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return len(b.waiters) == k
		})
	}
	go wait(1, 10, ctx) // a whole fetch
	waiting(1)
	go wait(2, 1, ctx) // would fit now, but comes after 1
	waiting(2)
	select {
	case id := <-got:
		t.Fatalf("waiter %d served before the first could be", id)
	case <-time.After(50 * time.Millisecond):
	}
	b.release(8)
	if id := <-got; id != 1 {
		t.Fatalf("first served: %d, want 1 (the oldest waiter)", id)
	}
	b.release(10)
	if id := <-got; id != 2 {
		t.Fatalf("then: %d, want 2", id)
	}
	// a cancelled waiter at the head lets the next one in
	cctx, cancel := context.WithCancel(ctx)
	go wait(3, 10, cctx)
	waiting(1)
	go wait(4, 9, ctx)
	waiting(2)
	cancel()
	if id := <-got; id != -3 {
		t.Fatalf("cancelled waiter: %d, want -3", id)
	}
	if id := <-got; id != 4 {
		t.Fatalf("after the cancelled one: %d, want 4", id)
	}
	b.release(10)
	if used, peak := b.stats(); used != 0 || peak != 10 {
		t.Fatalf("used %d, peak %d; want 0 and 10", used, peak)
	}
	if n, err := b.acquire(ctx, 100); n != 10 || err != nil {
		t.Fatalf("acquire 100 of 10: %d, %v, want all 10", n, err)
	}
	cctx, cancel = context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(cctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire from an exhausted budget: %v, want the context's error", err)
	}
}
