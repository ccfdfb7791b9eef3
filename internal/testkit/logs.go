package testkit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// TextLogger returns a logger that writes slog's text format at level and
// above into the returned Buffer.
func TextLogger(level slog.Level) (*slog.Logger, *Buffer) {
	buf := &Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level})), buf
}

// WaitLog waits until the buffer holds a line containing substr, and
// fails the test, showing the log, when none comes within Bound.
func WaitLog(t testing.TB, b *Buffer, substr string) {
	t.Helper()
	if _, ok := b.WaitLine(substr, nil); !ok {
		t.Fatalf("log has no %q:\n%s", substr, b)
	}
}

// LogRecorder is a slog.Handler that keeps every record at every level,
// so that a test can look at their attributes. The zero value is ready
// to use; it is safe for concurrent use.
type LogRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

// Logger returns a logger that records into r.
func (r *LogRecorder) Logger() *slog.Logger { return slog.New(r) }

// Enabled reports true: every level is recorded.
func (r *LogRecorder) Enabled(context.Context, slog.Level) bool { return true }

// Handle records rec.
func (r *LogRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.recs = append(r.recs, rec.Clone())
	r.mu.Unlock()
	return nil
}

// WithAttrs returns r: the recorder keeps only each record's own
// attributes.
func (r *LogRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }

// WithGroup returns r, as WithAttrs does.
func (r *LogRecorder) WithGroup(string) slog.Handler { return r }

// Find returns the records whose message contains sub, each as its
// attributes' text values plus "msg" (the message) and "level".
func (r *LogRecorder) Find(sub string) []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, rec := range r.recs {
		if !strings.Contains(rec.Message, sub) {
			continue
		}
		m := map[string]string{"msg": rec.Message, "level": rec.Level.String()}
		rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

// Messages returns every record as "LEVEL message", in order.
func (r *LogRecorder) Messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.recs))
	for i, rec := range r.recs {
		out[i] = rec.Level.String() + " " + rec.Message
	}
	return out
}
