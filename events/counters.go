package events

// Counters are a service's running totals, for metrics (package metrics
// turns them into Prometheus metrics). Reading them takes no lock.
type Counters struct {
	// Published counts the events published: one per subject of every
	// publish that succeeded, whether or not anyone subscribed.
	Published int64
	// Delivered counts the event calls that reached a subscriber (with a
	// durable store, an event sent again after a failed confirmation
	// counts again).
	Delivered int64
	// Dropped counts events dropped for a full queue, once per
	// subscriber (Stats.Dropped).
	Dropped int64
	// Removed counts subscribers removed after failed deliveries.
	Removed int64
	// Subscribers is the number of current subscribers.
	Subscribers int64
}

// Counters returns the running totals; unlike Stats it builds nothing
// per subscriber.
func (s *Service) Counters() Counters {
	return Counters{Published: s.published.Load(), Delivered: s.delivered.Load(), Dropped: s.dropped.Load(),
		Removed: s.removed.Load(), Subscribers: s.nSubs.Load()}
}
