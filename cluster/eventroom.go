package cluster

import (
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pyrogo/pyro"
)

// The subscriber bucket holds the instances' heartbeats and the
// subscribers' cursors beside the subscriptions. A bucket that is full
// refuses every write that is not a replacement by one no larger, so a
// client that filled it with subscriptions would stop the heartbeats
// (every instance fences itself, no new instance starts) and the cursors
// (the log is no longer trimmed). Subscribes therefore stop at
// roomShare of max_bytes; the rest is kept for the writes the instances
// need.
const (
	roomNum, roomDen = 3, 4 // roomShare: subscribes fill at most 3/4
)

// checkRoom refuses a subscribe that would make a subscriber record of
// oldSize bytes (0: none) newSize bytes once the bucket would pass
// roomShare of its max_bytes, with a ValueError for the client.
func (es *EventStore) checkRoom(oldSize, newSize int) error {
	if newSize <= oldSize {
		return nil
	}
	ctx, cancel := es.ctx()
	defer cancel()
	st, err := es.kv.Status(ctx)
	if err != nil {
		return es.opErr("read subscriber bucket", err)
	}
	kvs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok || kvs.StreamInfo() == nil {
		return nil
	}
	limit := kvs.StreamInfo().Config.MaxBytes
	if limit <= 0 {
		return nil
	}
	used := int64(st.Bytes())
	if used+int64(newSize-oldSize) > limit/roomDen*roomNum {
		return &pyro.PythonError{Class: "ValueError", Msg: fmt.Sprintf(
			"too many subscriptions in the event service (the shared subscriber bucket holds %d bytes of %d; subscribes stop at %d/%d)",
			used, limit, roomNum, roomDen)}
	}
	return nil
}
