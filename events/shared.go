package events

import (
	"context"
	"errors"
)

// Shared is implemented by a Store that several event server instances
// share, so that they behave as one event server (package cluster's
// nats:// store over NATS JetStream). With a Shared store the service
// works differently from the other stores:
//
//   - Publish hands the events to Publish, which appends them to one log
//     shared by every instance and returns once the log has them durably;
//     no subscriber is looked up at publish time.
//   - Subscribe and SubscribeMatch record the subscriptions with
//     Subscribe, which makes this instance the subscriber's owner (the
//     instance that delivers to it), and calls Owner.Own before it
//     returns.
//   - Each owned subscriber reads the log with Read from where its
//     deliveries were acknowledged, keeps the events its subscriptions
//     match and delivers them as with any durable store; Ack records how
//     far it got.
//   - The store moves subscribers between instances (when their owner
//     stopped, or another instance took a subscribe for them) through
//     Owner.Own and Owner.Disown.
//
// Subs, Append and Pending are not used in this mode.
type Shared interface {
	Store
	Durable
	// Attach hands the store the service it calls, once, from
	// NewService; the store starts sharing then.
	Attach(o Owner) error
	// Publish appends the events of one publish to the shared log, all
	// or none, and returns once the log holds them durably.
	Publish(ctx context.Context, evs []Event) error
	// Subscribe adds subs (all of subscriber) to the shared
	// subscriptions and makes this instance the subscriber's owner. check
	// is called with every subscription the subscriber would then have,
	// before anything is written; its error is returned as it is.
	Subscribe(subscriber string, subs []Sub, check func(all []Sub) error) error
	// Unsubscribe removes subs of subscriber (by key; Client is ignored);
	// a subscriber left with none is forgotten.
	Unsubscribe(subscriber string, subs []Sub) error
	// Read calls fn with each event of the shared log after seq, in
	// order, until fn returns false (Read returns nil) or ctx ends or the
	// log cannot be read (Read returns the error). Sequence numbers
	// increase along the log and are the same on every instance.
	Read(ctx context.Context, after uint64, fn func(Stored) bool) error
}

// Owner is what a Shared store calls to move subscribers to and from
// this instance. Calls come from the store's goroutines, one at a time.
type Owner interface {
	// Own makes this instance deliver to subscriber, with exactly subs
	// as its subscriptions; a subscriber not delivered here yet starts
	// reading the log after seq after (its last acknowledged event).
	Own(subscriber string, subs []Sub, after uint64)
	// Disown stops this instance's deliveries to subscriber (another
	// instance owns it now, or it is gone); what it sent and did not
	// acknowledge is sent again by the next owner.
	Disown(subscriber string)
	// Skip asks this instance to give up subscriber's events up to seq
	// to, which the store needs to trim a crowded log; true means the
	// store may move its cursor to seq to. It is true when the
	// subscriber has already been sent and confirmed every event up to
	// there that it takes (nothing is lost), or when it lags: its queue
	// has been full for the block timeout (at once without
	// ES_BLOCKQUEUE), or the oldest event it was sent and has not
	// confirmed was queued more than the block timeout ago. Its events
	// up to seq to that are not sent yet are then dropped
	// (counted in Stats.Dropped, logged) instead of delivered, as with
	// the other stores, and Skip is true once its reader got past seq to
	// (the store asks again). Otherwise (a subscriber that keeps up) it
	// is false and the store keeps its events.
	Skip(subscriber string, to uint64) bool
}

// ErrNotOwner is matched (errors.Is) by a Shared store's Ack when
// another instance owns the subscriber now.
var ErrNotOwner = errors.New("events: another event server instance delivers to this subscriber now")

// ErrSharedOnly is matched by the errors of the Store methods a Shared
// store does not implement (Append): the service does not call them.
var ErrSharedOnly = errors.New("events: not used with a shared store")
