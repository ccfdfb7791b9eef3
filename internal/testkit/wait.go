package testkit

import (
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testbound"
)

// Bound is how long the helpers wait for something that should happen at
// once before they call it a hang: 20 s, ten times that under the race
// detector.
func Bound() time.Duration { return testbound.Scale(20 * time.Second) }

// Eventually polls cond every few milliseconds until it holds, and fails
// the test with what when it still does not after Bound.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Bound())
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v", what, Bound())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Receive returns the next value from ch, and fails the test with what
// when none comes within Bound.
func Receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(Bound())
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: nothing after %v", what, Bound())
	}
	var zero T
	return zero
}
