package events

import "sync"

// Kind says whether a subscription is an exact subject or a pattern.
type Kind int

// The subscription kinds.
const (
	Exact Kind = iota
	Pattern
)

// Sub is one stored subscription. A subscription is identified by
// Subscriber, Kind and Subject; Client only records who made it.
type Sub struct {
	Subscriber string // the subscriber's URI
	Kind       Kind
	Subject    string // lower-cased subject, or the pattern as given
	Client     Client // who subscribed (zero for a local Go call)
}

// Client is the remote client that made a subscription, as an access
// policy sees it; the event server keeps it with the subscription so a
// policy can still be applied to what the subscription delivers, also
// after a restart.
type Client struct {
	Network    string // "tcp" or "unix"; "" for a local Go call
	Addr       string // the client's address (net.Addr.String())
	Identity   string // passphrase identity ("" if none)
	CommonName string // verified certificate CN ("" if none)
}

// subKey is what identifies a subscription.
type subKey struct {
	subscriber string
	kind       Kind
	subject    string
}

func (s Sub) key() subKey { return subKey{s.Subscriber, s.Kind, s.Subject} }

// Store keeps the subscriptions and each subscriber's stream of events.
// A stream is an append/ack log: Append gives the events of one publish
// their sequence numbers and puts them in their subscribers' streams
// before they are queued, Ack records that every event of a stream up
// to seq was delivered. A durable Store returns the unacked events of
// each stream from Pending after a restart, so delivery can resume
// without loss, in order. Calls come from many goroutines.
type Store interface {
	AddSub(s Sub) error
	RemoveSub(s Sub) error
	// RemoveSubscriber forgets the subscriber's subscriptions and its
	// stream.
	RemoveSubscriber(subscriber string) error
	Subs() ([]Sub, error)
	// Append stores the records of one publish, all or none (one
	// transaction in a durable store, which returns only once it is
	// durable). It sets each record's Seq: numbers that increase in the
	// order of the records and from call to call, and are never used
	// again by the store (a durable store: also after a restart), so that
	// a subscriber can tell a repeated event from a new one. A record's
	// event goes into the stream of each of its Subscribers the store
	// knows (from its first AddSub until RemoveSubscriber); one removed
	// meanwhile is skipped.
	Append(recs []Record) error
	// Ack records that the events of subscriber's stream up to seq
	// (included) were delivered: a durable store forgets them.
	Ack(subscriber string, seq uint64) error
	// Pending returns the events of subscriber's stream not acked yet,
	// in order.
	Pending(subscriber string) ([]Stored, error)
	Close() error
}

// Durable is implemented by a Store whose streams survive a restart
// (events/sqlstore). With such a store the service puts each event's
// sequence number into the event dict as "seq", so that a subscriber can
// drop an event delivered again after a restart (see the package
// documentation, "Storage").
type Durable interface {
	Durable() bool
}

// Record is one event of a publish for its subscribers; Append sets Seq.
type Record struct {
	Event       Event
	Subscribers []string // subscriber URIs
	Seq         uint64
}

// Stored is an event of a stream with its sequence number.
type Stored struct {
	Seq   uint64
	Event Event
}

// MemoryStore is the default Store: the subscriptions in a map; the
// events live only in the subscribers' queues, so Append only numbers
// them and Pending is always empty (nothing survives a restart).
type MemoryStore struct {
	mu   sync.Mutex
	subs map[subKey]Sub
	seq  uint64
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{subs: map[subKey]Sub{}}
}

// AddSub records a subscription (one already recorded keeps its Client).
func (m *MemoryStore) AddSub(s Sub) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.subs[s.key()]; !dup {
		m.subs[s.key()] = s
	}
	return nil
}

// RemoveSub forgets a subscription.
func (m *MemoryStore) RemoveSub(s Sub) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.subs, s.key())
	return nil
}

// RemoveSubscriber forgets a subscriber's subscriptions and stream.
func (m *MemoryStore) RemoveSubscriber(subscriber string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.subs {
		if k.subscriber == subscriber {
			delete(m.subs, k)
		}
	}
	return nil
}

// Subs returns the subscriptions.
func (m *MemoryStore) Subs() ([]Sub, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Sub, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, s)
	}
	return out, nil
}

// Append numbers the records (the events live in the queues only).
func (m *MemoryStore) Append(recs []Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range recs {
		m.seq++
		recs[i].Seq = m.seq
	}
	return nil
}

// Ack does nothing: delivered events are not kept.
func (m *MemoryStore) Ack(string, uint64) error { return nil }

// Pending returns nothing: memory does not survive a restart.
func (m *MemoryStore) Pending(string) ([]Stored, error) { return nil, nil }

// Close does nothing.
func (m *MemoryStore) Close() error { return nil }
