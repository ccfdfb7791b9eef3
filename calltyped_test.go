package pyro_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// The typed calls between a Go proxy and a Go daemon: CallKwT with
// argument structs, CallStream and CallStreamKw over item streams and
// lists, early ends that close the remote stream, and contexts.

// streamer's streams report on ended when their context ends: when the
// stream ends, however it ends (exhausted, closed by the client, or by the
// daemon), whether the iterator started or not.
type streamer struct {
	calls   atomic.Int32
	ended   chan string
	waiting chan string // Slow is waiting for release (its tag)
	mu      sync.Mutex
	release chan struct{} // lets Slow go on
}

func (s *streamer) report(ctx context.Context, method string) {
	context.AfterFunc(ctx, func() { s.ended <- method })
}

type countArgs struct {
	pyro.Args
	N    int
	Step int `pyro:",optional"`
}

func (s *streamer) Count(ctx context.Context, a countArgs) iter.Seq[int] {
	s.calls.Add(1)
	s.report(ctx, "count")
	step := max(a.Step, 1)
	return func(yield func(int) bool) {
		for i := 0; i < a.N; i += step {
			if !yield(i) {
				return
			}
		}
	}
}

// Mixed yields an item that is no int.
func (s *streamer) Mixed(ctx context.Context) iter.Seq[any] {
	s.report(ctx, "mixed")
	return func(yield func(any) bool) {
		for _, v := range []any{1, 2, "three", 4} {
			if !yield(v) {
				return
			}
		}
	}
}

type slowArgs struct {
	pyro.Args
	Tag string
}

// Slow waits for release (or the end of its context) before each item.
func (s *streamer) Slow(ctx context.Context, a slowArgs) iter.Seq[int] {
	s.report(ctx, "slow "+a.Tag)
	s.mu.Lock()
	release := s.release
	s.mu.Unlock()
	return func(yield func(int) bool) {
		for i := 0; ; i++ {
			s.waiting <- a.Tag
			select {
			case <-ctx.Done():
				return
			case <-release:
			}
			if !yield(i) {
				return
			}
		}
	}
}

func (*streamer) List() []int              { return []int{1, 2, 3} }
func (*streamer) One() int                 { return 1 }
func (TypedThing) Count(a countArgs) []int { return make([]int, a.N) }

// startStreamer serves a streamer (and a TypedThing) in a Go daemon whose
// streams end with their connection (ITER_STREAM_LINGER 0).
func startStreamer(t *testing.T) (*streamer, string, string) {
	t.Helper()
	s := &streamer{ended: make(chan string, 16), waiting: make(chan string, 16)}
	cfg := pyrotest.Config()
	cfg.IterStreamLinger = 0
	uri := pyrotest.Serve(t, cfg, "streamer", s).String()
	return s, uri, pyrotest.Serve(t, pyrotest.Config(), "obj", TypedThing{}).String()
}

// waitEnded waits for the report that a stream of method ended (and
// drops others).
func (s *streamer) waitEnded(t *testing.T, what, method string) {
	t.Helper()
	timeout := time.After(testbound.Scale(20 * time.Second))
	for {
		select {
		case got := <-s.ended:
			if got == method {
				return
			}
		case <-timeout:
			t.Errorf("%s: the stream of %s did not end", what, method)
			return
		}
	}
}

// collect runs a loop over seq, stopping after max items (0: no limit),
// and returns the items and the error that ended it.
func collect[T any](seq iter.Seq2[T, error], max int) ([]T, error) {
	var got []T
	for v, err := range seq {
		if err != nil {
			return got, err
		}
		if got = append(got, v); len(got) == max {
			break
		}
	}
	return got, nil
}

func TestCallKwTGo(t *testing.T) {
	_, _, thing := startStreamer(t)
	ctx := context.Background()
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		p := pyrotest.Proxy(t, thing, nil, pyro.WithSerializer(ser))
		dot := "."
		for _, tc := range []struct {
			args   []any
			kwargs any
			want   string
		}{
			{nil, thingGreet{Name: "Ann"}, "hello Ann!"},
			{nil, &thingGreet{Name: "Bo", Greeting: "hi", Punct: &dot}, "hi Bo."},
			{[]any{"Cy"}, map[string]any{"greeting": "yo"}, "yo Cy!"},
			{[]any{"Di"}, nil, "hello Di!"},
		} {
			got, err := pyro.CallKwT[string](ctx, p, "greet", tc.args, tc.kwargs)
			if err != nil || got != tc.want {
				t.Errorf("%s: greet(%v, **%#v): %q, %v; want %q", ser, tc.args, tc.kwargs, got, err, tc.want)
			}
		}
		if n, err := pyro.CallKwT[int](ctx, p, "add", []any{40}, map[string]int{"b": 2}); n != 42 || err != nil {
			t.Errorf("%s: add(40, b=2): %v, %v", ser, n, err)
		}
		// the daemon's TypeError
		_, err := pyro.CallKwT[string](ctx, p, "greet", []any{"a"}, thingGreet{Name: "b"})
		var re *pyro.RemoteError
		if !errors.As(err, &re) || err.Error() != "TypeError: TypedThing.greet() got multiple values for argument 'name'" {
			t.Errorf("%s: greet('a', name='b'): %v", ser, err)
		}
		// kwargs that are no keywords are refused before anything is sent
		if _, err := pyro.CallKwT[string](ctx, p, "greet", nil, struct{ Name string }{"x"}); !errors.Is(err, pyro.ErrSerialize) {
			t.Errorf("%s: a plain struct as kwargs: %v", ser, err)
		}
		// the result converted, or not
		if _, err := pyro.CallKwT[int](ctx, p, "greet", nil, thingGreet{Name: "x"}); !errors.Is(err, pyro.ErrSerialize) ||
			!strings.Contains(err.Error(), "result of greet: cannot convert str to int") {
			t.Errorf("%s: greet result as int: %v", ser, err)
		}
	}
	// ctx is honoured
	p := pyrotest.Proxy(t, thing, nil)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := pyro.CallKwT[string](cctx, p, "greet", nil, thingGreet{Name: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestCallStreamGo(t *testing.T) {
	s, uri, _ := startStreamer(t)
	ctx := context.Background()
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		p := pyrotest.Proxy(t, uri, nil, pyro.WithSerializer(ser))

		got, err := collect(pyro.CallStream[int](ctx, p, "count", 4), 0)
		if err != nil || !slices.Equal(got, []int{0, 1, 2, 3}) {
			t.Errorf("%s: count(4): %v, %v", ser, got, err)
		}
		s.waitEnded(t, ser+": count(4)", "count")

		got, err = collect(pyro.CallStreamKw[int](ctx, p, "count", nil, countArgs{N: 10, Step: 3}), 0)
		if err != nil || !slices.Equal(got, []int{0, 3, 6, 9}) {
			t.Errorf("%s: count(n=10, step=3): %v, %v", ser, got, err)
		}
		s.waitEnded(t, ser+": count(n=10, step=3)", "count")

		// leaving the loop early closes the stream
		got, err = collect(pyro.CallStream[int](ctx, p, "count", 1_000_000), 2)
		if err != nil || !slices.Equal(got, []int{0, 1}) {
			t.Errorf("%s: two items of count(1000000): %v, %v", ser, got, err)
		}
		s.waitEnded(t, ser+": break", "count")

		// an item that does not convert ends the loop and the stream
		got, err = collect(pyro.CallStream[int](ctx, p, "mixed"), 0)
		if !slices.Equal(got, []int{1, 2}) || !errors.Is(err, pyro.ErrSerialize) ||
			err.Error() != "item 2 of the result of mixed: cannot convert str to int" {
			t.Errorf("%s: mixed: %v, %v", ser, got, err)
		}
		s.waitEnded(t, ser+": mixed", "mixed")

		// a list comes whole
		if got, err = collect(pyro.CallStream[int](ctx, p, "list"), 0); err != nil || !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("%s: list: %v, %v", ser, got, err)
		}
		if got, err = collect(pyro.CallStream[int](ctx, p, "list"), 1); err != nil || !slices.Equal(got, []int{1}) {
			t.Errorf("%s: list, one item: %v, %v", ser, got, err)
		}
		if _, err = collect(pyro.CallStream[int](ctx, p, "one"), 0); !errors.Is(err, pyro.ErrSerialize) ||
			err.Error() != "result of one is int, not an item stream, a list or a tuple" {
			t.Errorf("%s: one: %v", ser, err)
		}
		// the daemon's errors
		if _, err = collect(pyro.CallStream[int](ctx, p, "count"), 0); err == nil ||
			err.Error() != "TypeError: streamer.count() missing 1 required positional argument: 'n'" {
			t.Errorf("%s: count(): %v", ser, err)
		}
		if _, err = collect(pyro.CallStreamKw[int](ctx, p, "count", nil, 7), 0); !errors.Is(err, pyro.ErrSerialize) {
			t.Errorf("%s: kwargs 7: %v", ser, err)
		}

		// a stream where one value was expected is closed
		if _, err = pyro.CallT[[]int](ctx, p, "count", 3); !errors.Is(err, pyro.ErrSerialize) ||
			err.Error() != "result of count is an item stream, not a single value: iterate it with CallStream" {
			t.Errorf("%s: CallT on a stream: %v", ser, err)
		}
		s.waitEnded(t, ser+": CallT", "count")
		// unless asked for
		st, err := pyro.CallT[*pyro.Stream](ctx, p, "count", 3)
		if err != nil || st == nil {
			t.Fatalf("%s: CallT[*pyro.Stream]: %v, %v", ser, st, err)
		}
		if err := st.Close(ctx); err != nil {
			t.Errorf("%s: Stream.Close: %v", ser, err)
		}
		s.waitEnded(t, ser+": Stream.Close", "count")
	}

	// the method is called by each loop, not before
	p := pyrotest.Proxy(t, uri, nil)
	before := s.calls.Load()
	seq := pyro.CallStream[int](ctx, p, "count", 1)
	if n := s.calls.Load() - before; n != 0 {
		t.Errorf("%d calls before the loop", n)
	}
	for range 2 {
		if got, err := collect(seq, 0); err != nil || !slices.Equal(got, []int{0}) {
			t.Errorf("count(1): %v, %v", got, err)
		}
		s.waitEnded(t, "again", "count")
	}
	if n := s.calls.Load() - before; n != 2 {
		t.Errorf("two loops made %d calls", n)
	}
}

// The context bounds every fetch of a stream: a deadline or a
// cancellation during the loop ends it with the context's error. (The
// daemon ends the stream once the iterator lets go of its pull.)
func TestCallStreamContext(t *testing.T) {
	s, uri, _ := startStreamer(t)
	p := pyrotest.Proxy(t, uri, nil)
	bound := testbound.Scale(20 * time.Second)
	// slow runs a loop over slow(tag) with ctx; cancel, when not nil, is
	// called once the daemon waits for the first item.
	slow := func(ctx context.Context, tag string, cancel func()) ([]int, error) {
		release := make(chan struct{})
		s.mu.Lock()
		s.release = release
		s.mu.Unlock()
		done := make(chan struct{})
		defer close(done)
		go func() {
			for {
				select {
				case got := <-s.waiting:
					if got != tag {
						continue
					}
					if cancel != nil {
						cancel()
					}
				case <-done:
				case <-time.After(bound):
				}
				return
			}
		}()
		got, err := collect(pyro.CallStreamKw[int](ctx, p, "slow", nil, slowArgs{Tag: tag}), 0)
		close(release) // the pull returns; the connection is gone, and with it the stream
		return got, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	got, err := slow(ctx, "deadline", nil)
	if len(got) != 0 || !errors.Is(err, pyro.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v, %v", got, err)
	}

	if _, err := pyro.CallT[[]int](context.Background(), p, "list"); err != nil { // a pooled connection
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	got, err = slow(ctx, "cancel", cancel)
	if len(got) != 0 || !errors.Is(err, pyro.ErrCommunication) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v, %v", got, err)
	}
	s.waitEnded(t, "cancel", "slow cancel")

	// a context that ended before the loop
	if _, err := collect(pyro.CallStream[int](ctx, p, "count", 3), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: %v", err)
	}
}
