package events

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/py"
)

func TestEventSize(t *testing.T) {
	small := eventSize(Event{Subject: "s", Msg: 1}, 1<<20)
	big := eventSize(Event{Subject: "s", Msg: py.DictOf("pad", strings.Repeat("x", 1<<20))}, 1<<30)
	if big-small < 1<<20 || big > small+1<<20+1024 {
		t.Errorf("1 MiB message estimated at %d (small event %d)", big, small)
	}
	// A decoded marshal back-reference can make a value that is small in
	// memory but 2^60 elements when walked (and encoded): the walk stops
	// at the limit.
	v := any("x")
	for range 60 {
		v = []any{v, v}
	}
	if n := eventSize(Event{Subject: "s", Msg: v}, 1<<20); n <= 1<<20 || n > 1<<20+1024 {
		t.Errorf("shared value estimated at %d, want just past the limit", n)
	}
}
