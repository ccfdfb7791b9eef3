package testkit

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// Buffer is an io.Writer that is safe for concurrent use, for a child
// process's output or a logger's, and lets a test wait for a line.
// The zero value is ready to use.
type Buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // a token after each write; made on first use
}

func (b *Buffer) signal() chan struct{} {
	if b.changed == nil {
		b.changed = make(chan struct{}, 1)
	}
	return b.changed
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, err := b.b.Write(p)
	ch := b.signal()
	b.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
	return n, err
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitLine waits until a complete line containing substr has been
// written and returns it without its newline. It gives up, returning
// false, after Bound, or when stop is closed (then a last, unfinished
// line counts too: the writer may have ended without a newline); a nil
// stop never closes.
func (b *Buffer) WaitLine(substr string, stop <-chan struct{}) (string, bool) {
	b.mu.Lock()
	changed := b.signal()
	b.mu.Unlock()
	timer := time.NewTimer(Bound())
	defer timer.Stop()
	for {
		for _, line := range strings.SplitAfter(b.String(), "\n") {
			if strings.HasSuffix(line, "\n") && strings.Contains(line, substr) {
				return strings.TrimSuffix(line, "\n"), true
			}
		}
		select {
		case <-changed:
		case <-stop:
			for _, line := range strings.Split(b.String(), "\n") {
				if strings.Contains(line, substr) {
					return line, true
				}
			}
			return "", false
		case <-timer.C:
			return "", false
		}
	}
}
