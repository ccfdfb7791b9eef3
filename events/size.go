package events

import (
	"math/big"

	"github.com/pyrogo/pyro/py"
)

// Per-value overheads of the estimate (bytes): what a decoded value
// costs beyond its payload (interface word, header, map entry).
const (
	sizeScalar    = 16
	sizeContainer = 32
	sizeEvent     = 96 // the Event, its queue slot and its dict on the wire
)

// eventSize estimates the memory an event holds in a queue: its subject
// and message walked value by value. A value reached twice (a decoded
// marshal back-reference) is counted each time, as the delivering
// encoder writes it each time; the walk stops once the estimate passes
// limit (returning more than limit), so a message that expands without
// bound costs at most limit of work.
func eventSize(ev Event, limit int64) int64 {
	n := int64(sizeEvent + len(ev.Subject))
	sizeOf(ev.Msg, &n, limit, 0)
	return n
}

func sizeOf(v any, n *int64, limit int64, depth int) {
	if *n > limit {
		return
	}
	if depth > py.DefaultMaxDepth {
		*n = limit + 1 // deeper than any decoder allows: refuse
		return
	}
	switch x := v.(type) {
	case string:
		*n += sizeScalar + int64(len(x))
	case []byte:
		*n += sizeContainer + int64(len(x))
	case *big.Int:
		*n += sizeContainer + int64(len(x.Bits()))*8
	case []any:
		*n += sizeContainer
		for _, e := range x {
			*n += 16
			sizeOf(e, n, limit, depth+1)
		}
	case py.Tuple:
		sizeOf([]any(x), n, limit, depth)
	case *py.Dict:
		*n += sizeContainer
		for k, e := range x.All() {
			*n += 32
			sizeOf(k, n, limit, depth+1)
			sizeOf(e, n, limit, depth+1)
		}
	case *py.Set:
		*n += sizeContainer
		for e := range x.All() {
			*n += 16
			sizeOf(e, n, limit, depth+1)
		}
	case map[string]any:
		*n += sizeContainer
		for k, e := range x {
			*n += 32 + int64(len(k))
			sizeOf(e, n, limit, depth+1)
		}
	case []string:
		*n += sizeContainer
		for _, e := range x {
			*n += sizeScalar + int64(len(e))
		}
	default:
		// numbers, bools, None, and Go values published in-process
		*n += sizeScalar
	}
}
