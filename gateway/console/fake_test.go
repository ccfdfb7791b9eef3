package console_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pyrogo/pyro/gateway/console"
)

// fakeBackend is a Backend whose answers the test sets, and which records
// what reached it.
type fakeBackend struct {
	key string // the gateway key; "" = none needed

	names    []console.Name
	desc     console.Description
	result   any
	err      error // returned by Names, Describe and Call
	info     console.Info
	mu       sync.Mutex
	reached  int // Names, Describe and Call calls
	lastCall struct {
		name, method string
		args         []any
		kwargs       map[string]any
	}
}

func (f *fakeBackend) Names(ctx context.Context) ([]console.Name, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reached++
	return f.names, f.err
}

func (f *fakeBackend) Describe(ctx context.Context, name string) (console.Description, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reached++
	return f.desc, f.err
}

func (f *fakeBackend) Call(ctx context.Context, name, method string, args []any, kwargs map[string]any) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reached++
	f.lastCall.name, f.lastCall.method, f.lastCall.args, f.lastCall.kwargs = name, method, args, kwargs
	return f.result, f.err
}

func (f *fakeBackend) Authorize(r *http.Request) error {
	if f.key != "" && r.Header.Get(console.KeyHeader) != f.key {
		return fmt.Errorf("%w: wrong gateway key", console.ErrForbidden)
	}
	return nil
}

func (f *fakeBackend) Info() console.Info { return f.info }

func (f *fakeBackend) reachedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reached
}

var infoStarted = time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
