package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/py"
)

func init() {
	events.RegisterStore(Scheme, func(arg string) (events.Store, error) {
		return OpenEvents(arg)
	})
}

// Defaults of the event store's ownership scheme (see WithLease).
const (
	// DefaultLease is how long an event server instance's heartbeat may
	// stay unchanged before the other instances take over its
	// subscribers.
	DefaultLease = 4 * time.Second
	// seqShift: an event's Seq is its log message's stream sequence
	// shifted left by seqShift, plus its index in the publish (a publish
	// has at most events.MaxSubjectsPerCall < 1<<seqShift events).
	seqShift = 10
	seqMask  = 1<<seqShift - 1
	// readBatch is the most log messages a subscriber's reader fetches at
	// once, ahead of its queue.
	readBatch = 16
	// readStall is how long one fetch of a reader waits; a fetch that
	// brings nothing while the log has more (logEnd) makes the reader
	// recreate its consumer.
	readStall = 2 * time.Second
	// readInactive: the server removes a reader's consumer left behind
	// (its instance died) after this long.
	readInactive = 30 * time.Second
)

// WithLease sets the lease of OpenEvents's ownership scheme (default
// DefaultLease): each instance writes its heartbeat every lease/8; one
// whose heartbeat has not changed for lease is taken for dead and its
// subscribers are taken over; an instance that could not write its
// heartbeat for half the lease stops delivering (it may be cut off
// from NATS while the others take over).
func WithLease(d time.Duration) Option { return func(o *options) { o.lease = d } }

// EventStore is the events.Store of "pyro es --backend nats://...": it
// implements events.Shared, so that every event server opened on the
// same NATS cluster and NAME behaves as one event server. See the
// package documentation, "Event servers".
type EventStore struct {
	spec   Spec
	nc     *nats.Conn
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	log    *slog.Logger
	id     string // this instance
	codec  codec.Codec
	stream string // the event log
	subj   string // its subject
	readB  int    // byte limit of a reader's batch
	// tailWindow is the most bytes of log messages the tail keeps
	tailWindow int64
	budget     *fetchBudget
	// inactive is the readers' consumers' InactiveThreshold
	// (readInactive)
	inactive time.Duration

	beat, beatTimeout, fence, lease time.Duration

	mu           sync.Mutex
	recs         map[string]*recEntry // by key "s.…"
	beats        map[string]beatSeen  // by instance id
	lastUpdate   time.Time            // the watch delivered something
	lastBeat     time.Time            // this instance's last heartbeat written
	healthySince time.Time            // heartbeats written without a gap since
	beatCount    uint64
	purgeMark    uint64 // the log's last sequence at the previous purge check
	lastPurge    time.Time

	logEnd atomic.Uint64 // the log's last sequence (sawSeq)
	growMu sync.Mutex
	grew   chan struct{} // closed and replaced when logEnd grows
	tail   *logTail      // nil before Attach, or without budget for it
	// consumers Reads created (tests)
	readConsumers atomic.Int64
	// crowded: the log was more than half full at the last beat (see
	// relieve); purge then runs every beat
	crowded atomic.Bool
	fill    atomic.Pointer[logFill] // the log's state at the last beat

	ackMu    sync.Mutex
	acks     map[string]uint64 // cursors to write, by key (writeAcks)
	ackWake  chan struct{}
	acksDone chan struct{}
	beatDone chan struct{}
	// Acks recorded and cursor writes done (BenchmarkES's figures)
	ackCalls, ackWrites atomic.Int64

	subMu sync.Mutex // one Subscribe at a time: its check sees the ones before applied

	rmu   sync.Mutex // serialises reconcile: the calls into owner
	owner events.Owner
	owned map[string]ownedSub // by key, what owner was told

	attached  bool
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// subRecord is a subscriber in the bucket: its subscriptions, the
// instance that delivers to it and the last event it acknowledged.
type subRecord struct {
	URI    string       `json:"uri"`
	Owner  string       `json:"owner"`
	Cursor uint64       `json:"cursor"`
	Subs   []events.Sub `json:"subs"`
}

type recEntry struct {
	rev     uint64
	deleted bool
	r       subRecord
	fp      string // fingerprint(r.Subs), for reconcile
}

type beatSeen struct {
	rev  uint64
	at   time.Time // local time the heartbeat last changed
	gone bool      // the instance removed its heartbeat (clean stop)
}

type ownedSub struct{ uri, fp string }

// OpenEvents opens the event store of spec "nats://HOST:PORT[,...]/NAME"
// (the leading "nats:" may be left out): it connects, and creates if
// needed the JetStream stream PYROES_NAME (the event log: file storage,
// the spec's replicas, max_bytes, new publishes refused when full) and
// the key-value bucket PYROES_NAME_subs (subscribers and heartbeats).
func OpenEvents(spec string, opts ...Option) (*EventStore, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	o := options{log: slog.New(slog.DiscardHandler), lease: DefaultLease}
	for _, opt := range opts {
		opt(&o)
	}
	if o.lease <= 0 {
		o.lease = DefaultLease
	}
	if o.fetchBudget <= 0 {
		o.fetchBudget = DefaultFetchBudget
	}
	if o.readInactive <= 0 {
		o.readInactive = readInactive
	}
	var idb [8]byte
	_, _ = rand.Read(idb[:])
	es := &EventStore{spec: sp, log: o.log, id: hex.EncodeToString(idb[:]), codec: codec.Default(codec.IDMarshal),
		stream: "PYROES_" + sp.Bucket, subj: "pyroes." + sp.Bucket + ".events",
		lease: o.lease, inactive: o.readInactive, beat: o.lease / 8, beatTimeout: o.lease / 4, fence: o.lease / 2,
		recs: map[string]*recEntry{}, beats: map[string]beatSeen{}, owned: map[string]ownedSub{},
		stop: make(chan struct{}), done: make(chan struct{}),
		acks: map[string]uint64{}, ackWake: make(chan struct{}, 1), acksDone: make(chan struct{}), grew: make(chan struct{}),
		beatDone: make(chan struct{})}
	nopts, err := specOptions(sp, []nats.Option{nats.Name("pyrogo event server"),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			es.log.Warn("nats event store: NATS client error", "subject", subj, "err", err)
		})})
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(strings.Join(sp.Servers, ","), nopts...)
	if err != nil {
		return nil, fmt.Errorf("nats event store %s: connect: %w: %w", sp.Redacted(), ErrUnavailable, err)
	}
	es.nc = nc
	es.readB = int(max(2<<20, 2*nc.MaxPayload()))
	// the budget holds the tail's window and fetch, and at least one
	// fetch of a Read of its own
	size := max(o.fetchBudget, int64(es.readB))
	es.tailWindow = o.tailWindow
	if es.tailWindow <= 0 {
		es.tailWindow = tailWindow(size, int64(es.readB))
	}
	es.budget = newFetchBudget(max(size, es.tailWindow+2*int64(es.readB)))
	if es.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats event store %s: %w", sp.Redacted(), err)
	}
	deadline := time.Now().Add(3 * sp.Timeout)
	for {
		err = es.setup()
		if err == nil || time.Now().After(deadline) {
			break
		}
		es.log.Debug("nats event store: opening, retrying", "name", sp.Bucket, "err", err)
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return es, nil
}

// setup opens or creates the stream and the bucket.
func (es *EventStore) setup() error {
	ctx, cancel := es.ctx()
	defer cancel()
	r := es.spec.Replicas
	if r == 0 {
		r = min(maxReplicas, max(1, len(es.nc.Servers())))
	}
	if _, err := es.js.Stream(ctx, es.stream); errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = es.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: es.stream, Description: "pyrogo event server: the events", Subjects: []string{es.subj},
			Storage: jetstream.FileStorage, Replicas: r, MaxBytes: es.spec.MaxBytes, Discard: jetstream.DiscardNew,
			Retention: jetstream.LimitsPolicy,
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return es.opErr("create event log", err)
		}
	} else if err != nil {
		return es.opErr("open event log", err)
	}
	bucket := es.stream + "_subs"
	kv, err := es.js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = es.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: bucket, Description: "pyrogo event server: subscribers and instances", History: 1,
			Storage: jetstream.FileStorage, Replicas: r, MaxBytes: es.spec.MaxBytes,
		})
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			kv, err = es.js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return es.opErr("open subscriber bucket", err)
	}
	es.kv = kv
	return nil
}

// ctx returns the context of one request.
func (es *EventStore) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), es.spec.Timeout)
}

// opErr is the error of a failed request to NATS.
func (es *EventStore) opErr(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoServers) {
		return fmt.Errorf("nats event store %s: %s: %w: no answer within %v (%w)", es.spec.Redacted(), op, ErrUnavailable, es.spec.Timeout, err)
	}
	return fmt.Errorf("nats event store %s: %s: %w", es.spec.Redacted(), op, err)
}

// conflict reports whether err is a failed compare-and-set.
func conflict(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// subKey is the bucket key of a subscriber URI.
func subKey(uri string) string {
	h := sha256.Sum256([]byte(uri))
	return "s." + base64.RawURLEncoding.EncodeToString(h[:])
}

// ID returns this instance's id (its heartbeat key is "i." + ID).
func (es *EventStore) ID() string { return es.id }

// Durable reports true: events carry "seq".
func (es *EventStore) Durable() bool { return true }

// Attach starts sharing for the service: the first heartbeat, the
// watch of the bucket (loaded before it returns) and the goroutine that
// renews the heartbeat, takes over the subscribers of stopped instances
// and trims the log.
func (es *EventStore) Attach(o events.Owner) error {
	es.rmu.Lock()
	es.owner = o
	es.rmu.Unlock()
	// the first heartbeat, retried while a new bucket elects its leader
	deadline := time.Now().Add(3 * es.spec.Timeout)
	for {
		err := es.heartbeat()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(es.beat)
	}
	w, err := es.startWatch(es.spec.Timeout)
	if err != nil {
		return err
	}
	es.startTail(es.tailWindow)
	es.refreshLastSeq()
	es.attached = true
	go es.run(w)
	go es.writeAcks()
	go es.beatLoop()
	return nil
}

// watch is a running watch of the bucket; stop ends it (and the
// client's goroutine that waits for its context).
type watch struct {
	w      jetstream.KeyWatcher
	cancel context.CancelFunc
}

func (w *watch) stop() {
	if w != nil {
		_ = w.w.Stop()
		w.cancel()
	}
}

// startWatch watches the bucket and applies its contents before it
// returns; timeout bounds the wait for each update, not the whole load
// (a large bucket takes longer than one request).
func (es *EventStore) startWatch(timeout time.Duration) (*watch, error) {
	idle := time.NewTimer(timeout)
	defer idle.Stop()
	wctx, wcancel := context.WithCancel(context.Background())
	kw, err := es.kv.WatchAll(wctx)
	if err != nil {
		wcancel()
		return nil, es.opErr("watch subscribers", err)
	}
	w := &watch{kw, wcancel}
	for {
		select {
		case e, ok := <-kw.Updates():
			if !ok {
				w.stop()
				return nil, es.opErr("watch subscribers", errors.New("watch closed"))
			}
			if e == nil {
				es.mu.Lock()
				es.lastUpdate = time.Now()
				es.mu.Unlock()
				return w, nil
			}
			es.apply(e)
			idle.Reset(timeout)
		case <-idle.C:
			w.stop()
			return nil, es.opErr("load subscribers", context.DeadlineExceeded)
		}
	}
}

// run is the instance's loop until Close.
func (es *EventStore) run(w *watch) {
	defer close(es.done)
	t := time.NewTicker(es.beat)
	defer t.Stop()
	defer func() { w.stop() }()
	for {
		var updates <-chan jetstream.KeyValueEntry
		if w != nil {
			updates = w.w.Updates()
		}
		select {
		case <-es.stop:
			return
		case e, ok := <-updates:
			if !ok {
				w.stop()
				w = nil // restarted at the next tick
				continue
			}
			if e != nil {
				es.apply(e)
				es.reconcile()
			}
		case <-t.C:
			es.mu.Lock()
			stale := time.Since(es.lastUpdate) > 4*es.beat // our own heartbeats stopped coming
			es.mu.Unlock()
			if w == nil || stale {
				w.stop()
				var err error
				if w, err = es.startWatch(es.beatTimeout); err != nil {
					es.log.Debug("nats event store: restarting the watch", "err", err)
				}
			}
			es.claim()
			es.reconcile()
			if f := es.fill.Swap(nil); f != nil && es.crowded.Load() {
				es.relieve(f.state, f.maxBytes)
			}
			es.purge()
		}
	}
}

// beatLoop writes the heartbeat every beat until Close, apart from the
// loop of run, so that a slow request there (a watch restarted while NATS
// elects a leader) does not make this instance miss its own heartbeats.
func (es *EventStore) beatLoop() {
	defer close(es.beatDone)
	t := time.NewTicker(es.beat)
	defer t.Stop()
	for {
		select {
		case <-es.stop:
			return
		case <-t.C:
			_ = es.heartbeat()
			es.refreshLastSeq()
		}
	}
}

// sawSeq records that the log's last sequence is at least seq and wakes
// the readers that wait for it to grow.
func (es *EventStore) sawSeq(seq uint64) {
	for {
		cur := es.logEnd.Load()
		if seq <= cur {
			return
		}
		if es.logEnd.CompareAndSwap(cur, seq) {
			break
		}
	}
	es.growMu.Lock()
	close(es.grew)
	es.grew = make(chan struct{})
	es.growMu.Unlock()
}

// grown returns a channel closed when the log's last sequence next grows.
func (es *EventStore) grown() <-chan struct{} {
	es.growMu.Lock()
	defer es.growMu.Unlock()
	return es.grew
}

// refreshLastSeq reads the log's last sequence (see Read) and how full
// it is (for relieve, which run calls: the beat loop does nothing that
// could wait for the owner).
func (es *EventStore) refreshLastSeq() {
	ctx, cancel := context.WithTimeout(context.Background(), es.beatTimeout)
	defer cancel()
	st, err := es.js.Stream(ctx, es.stream)
	if err != nil {
		return
	}
	state := st.CachedInfo().State
	es.sawSeq(state.LastSeq)
	maxBytes := st.CachedInfo().Config.MaxBytes
	es.crowded.Store(maxBytes > 0 && state.Bytes > uint64(maxBytes)/2)
	es.fill.Store(&logFill{state, maxBytes})
}

// logFill is the log's state and its max_bytes.
type logFill struct {
	state    jetstream.StreamState
	maxBytes int64
}

// heartbeat writes this instance's heartbeat.
func (es *EventStore) heartbeat() error {
	es.mu.Lock()
	es.beatCount++
	n := es.beatCount
	es.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), es.beatTimeout)
	defer cancel()
	_, err := es.kv.Put(ctx, "i."+es.id, []byte(strconv.FormatUint(n, 10)))
	now := time.Now()
	es.mu.Lock()
	defer es.mu.Unlock()
	if err != nil {
		es.log.Debug("nats event store: heartbeat failed", "err", err)
		return es.opErr("heartbeat", err)
	}
	if es.lastBeat.IsZero() || now.Sub(es.lastBeat) > es.fence {
		es.healthySince = now
	}
	es.lastBeat = now
	return nil
}

// apply takes one update of the watch.
func (es *EventStore) apply(e jetstream.KeyValueEntry) {
	key, rev := e.Key(), e.Revision()
	put := e.Operation() == jetstream.KeyValuePut
	now := time.Now()
	es.mu.Lock()
	defer es.mu.Unlock()
	es.lastUpdate = now
	if id, ok := strings.CutPrefix(key, "i."); ok {
		if b, known := es.beats[id]; !known || b.rev != rev {
			es.beats[id] = beatSeen{rev: rev, at: now, gone: !put}
		}
		return
	}
	if !strings.HasPrefix(key, "s.") {
		return
	}
	if cur := es.recs[key]; cur != nil && cur.rev >= rev {
		return
	}
	if !put {
		es.recs[key] = &recEntry{rev: rev, deleted: true}
		return
	}
	var r subRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil || subKey(r.URI) != key {
		es.log.Warn("nats event store: ignoring a subscriber record", "key", key, "revision", rev, "err", err)
		return
	}
	es.recs[key] = &recEntry{rev: rev, r: r, fp: fingerprint(r.Subs)}
}

// setRec records a write of this instance.
func (es *EventStore) setRec(key string, rev uint64, r *subRecord) {
	es.mu.Lock()
	defer es.mu.Unlock()
	if cur := es.recs[key]; cur != nil && cur.rev >= rev {
		return
	}
	if r == nil {
		es.recs[key] = &recEntry{rev: rev, deleted: true}
		return
	}
	es.recs[key] = &recEntry{rev: rev, r: *r, fp: fingerprint(r.Subs)}
}

// deadLocked reports whether instance id is taken for stopped. es.mu held.
func (es *EventStore) deadLocked(id string, now time.Time) bool {
	b, ok := es.beats[id]
	if !ok {
		return false // not seen yet: its heartbeat or its removal will come
	}
	return b.gone || now.Sub(b.at) > es.lease
}

// claim takes over the subscribers of stopped instances (one of the
// instances that try wins each, by compare-and-set), while this
// instance's own heartbeats have been written without a gap for a lease:
// an instance that was cut off itself does not take others' subscribers.
func (es *EventStore) claim() {
	now := time.Now()
	type cand struct {
		key string
		rev uint64
		r   subRecord
	}
	var cands []cand
	var stale []string
	es.mu.Lock()
	healthy := now.Sub(es.lastBeat) <= es.fence && now.Sub(es.healthySince) >= es.lease
	if healthy {
		owners := map[string]bool{}
		for key, e := range es.recs {
			if e.deleted {
				continue
			}
			owners[e.r.Owner] = true
			if e.r.Owner != es.id && es.deadLocked(e.r.Owner, now) {
				cands = append(cands, cand{key, e.rev, e.r})
			}
		}
		for id, b := range es.beats {
			if id != es.id && !b.gone && !owners[id] && now.Sub(b.at) > 10*es.lease {
				stale = append(stale, id)
			}
		}
	}
	es.mu.Unlock()
	for _, c := range cands {
		r := c.r
		prev := r.Owner
		r.Owner = es.id
		data, err := json.Marshal(r)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), es.beatTimeout)
		rev, err := es.kv.Update(ctx, c.key, data, c.rev)
		cancel()
		if err != nil {
			es.log.Debug("nats event store: taking over a subscriber", "subscriber", r.URI, "err", err)
			continue
		}
		es.setRec(c.key, rev, &r)
		es.log.Info("nats event store: took over a subscriber of a stopped instance", "subscriber", r.URI, "from", prev)
	}
	for _, id := range stale { // heartbeats of instances long gone
		ctx, cancel := es.ctx()
		_ = es.kv.Delete(ctx, "i."+id)
		cancel()
	}
}

// reconcile tells the owner which subscribers this instance delivers
// to now: those whose record names it, unless it could not write its
// heartbeat for the fence time.
func (es *EventStore) reconcile() {
	es.rmu.Lock()
	defer es.rmu.Unlock()
	if es.owner == nil {
		return
	}
	type act struct {
		key   string
		uri   string
		fp    string
		subs  []events.Sub
		after uint64
		own   bool
	}
	var acts []act
	es.mu.Lock()
	fenced := time.Since(es.lastBeat) > es.fence
	if fenced && len(es.owned) > 0 {
		es.log.Warn("nats event store: no heartbeat written for half the lease; stopping deliveries until one is", "last", es.lastBeat)
	}
	for key, e := range es.recs {
		if e.deleted || e.r.Owner != es.id || fenced {
			continue
		}
		if o, ok := es.owned[key]; !ok || o.fp != e.fp {
			acts = append(acts, act{key: key, uri: e.r.URI, fp: e.fp, subs: e.r.Subs, after: e.r.Cursor, own: true})
		}
	}
	for key, o := range es.owned {
		if e := es.recs[key]; e == nil || e.deleted || e.r.Owner != es.id || fenced {
			acts = append(acts, act{key: key, uri: o.uri})
		}
	}
	es.mu.Unlock()
	for _, a := range acts {
		if a.own {
			es.owner.Own(a.uri, a.subs, a.after)
			es.owned[a.key] = ownedSub{a.uri, a.fp}
		} else {
			es.owner.Disown(a.uri)
			delete(es.owned, a.key)
		}
	}
}

// fingerprint identifies a set of subscriptions.
func fingerprint(subs []events.Sub) string {
	b, _ := json.Marshal(subs)
	return string(b)
}

// purgeEvery is how often an instance trims the log: 2.5 leases (10 s
// by default).
func (es *EventStore) purgeEvery() time.Duration { return es.lease * 5 / 2 }

// purge trims the log of the events every subscriber acknowledged, at
// most up to the log's end as it was at the previous check: a subscriber
// recorded since then (that this instance's watch may not have shown
// yet) starts after that point.
func (es *EventStore) purge() {
	es.mu.Lock()
	every := es.purgeEvery()
	if es.crowded.Load() {
		every = es.beat
	}
	if time.Since(es.lastPurge) < every || time.Since(es.lastUpdate) > 2*es.beat {
		es.mu.Unlock()
		return
	}
	es.lastPurge = time.Now()
	upTo := es.purgeMark + 1
	es.mu.Unlock()
	// the cursors as the bucket has them now, not as this instance's
	// watch has shown them: a record the watch missed would otherwise
	// lose its events
	low, err := es.lowestCursor()
	if err != nil {
		es.log.Debug("nats event store: reading the cursors to trim the log", "err", err)
		return
	}
	upTo = min(upTo, low)
	ctx, cancel := es.ctx()
	defer cancel()
	st, err := es.js.Stream(ctx, es.stream)
	if err != nil {
		return
	}
	state := st.CachedInfo().State
	if upTo > state.FirstSeq {
		if err := st.Purge(ctx, jetstream.WithPurgeSequence(upTo)); err != nil {
			es.log.Debug("nats event store: trimming the log", "err", err)
		}
	}
	es.mu.Lock()
	es.purgeMark = state.LastSeq
	es.mu.Unlock()
}

// relieve moves forward the subscribers this instance delivers to that
// hold back the trimming of a log more than half full (state, of
// max_bytes maxBytes): for each whose last confirmed event is older than
// the newest quarter of max_bytes it asks the owner (Owner.Skip) and, if
// the owner agrees (the subscriber has everything up to there that it
// takes, or its queue has been full for the block timeout: its events
// up to there are dropped and counted), moves its cursor to the start of
// that quarter. One slow subscriber then cannot fill the log, which
// every publish at every instance would find full; a subscriber that
// keeps up keeps its events. The log is trimmed at the next beat (purge
// runs every beat while crowded).
func (es *EventStore) relieve(state jetstream.StreamState, maxBytes int64) {
	if state.Msgs == 0 || state.Bytes == 0 {
		return
	}
	keep := state.Msgs * uint64(maxBytes/4) / state.Bytes // messages in the newest quarter
	cut := state.LastSeq + 1 - min(keep, state.Msgs)
	if cut <= 1 {
		return
	}
	to := (cut-1)<<seqShift | seqMask // every event before message cut
	type lag struct {
		key, uri string
		from     uint64
	}
	var lags []lag
	es.mu.Lock()
	for key, e := range es.recs {
		if !e.deleted && e.r.Owner == es.id && e.r.Cursor < to {
			lags = append(lags, lag{key, e.r.URI, e.r.Cursor})
		}
	}
	es.mu.Unlock()
	for _, l := range lags {
		es.rmu.Lock()
		_, owned := es.owned[l.key]
		ok := owned && es.owner != nil && es.owner.Skip(l.uri, to)
		es.rmu.Unlock()
		if !ok {
			continue // it keeps up: its events stay
		}
		if err := es.writeAck(l.key, to, true); err != nil {
			es.log.Debug("nats event store: moving a subscriber's cursor forward", "subscriber", l.uri, "err", err)
			continue
		}
		es.log.Info("nats event store: moved a subscriber's cursor forward to trim a log more than half full",
			"subscriber", l.uri, "from", l.from>>seqShift, "to", cut-1, "log_bytes", state.Bytes, "max_bytes", maxBytes)
	}
}

// lowestCursor reads every subscriber record from the bucket and returns
// the lowest log message one still needs (^0 when there is none).
func (es *EventStore) lowestCursor() (uint64, error) {
	ctx, cancel := es.ctx()
	defer cancel()
	w, err := es.kv.WatchFiltered(ctx, []string{"s.>"}, jetstream.IgnoreDeletes())
	if err != nil {
		return 0, err
	}
	defer func() { _ = w.Stop() }()
	low := ^uint64(0)
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return 0, errors.New("watch closed")
			}
			if e == nil {
				return low, nil
			}
			var r subRecord
			if err := json.Unmarshal(e.Value(), &r); err != nil {
				return 0, fmt.Errorf("subscriber record %s: %w", e.Key(), err)
			}
			low = min(low, r.Cursor>>seqShift)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Publish appends the events of one publish to the log as one message
// (Pyro's marshal format: a list of (subject, time, message) tuples) and
// returns once JetStream acknowledged it, that is once a majority of the
// stream's replicas stored it.
func (es *EventStore) Publish(ctx context.Context, evs []events.Event) error {
	if len(evs) > seqMask+1 {
		return fmt.Errorf("nats event store: %d events in one publish (at most %d)", len(evs), seqMask+1)
	}
	items := make([]any, len(evs))
	for i, ev := range evs {
		items[i] = py.Tuple{ev.Subject, ev.Time, ev.Msg}
	}
	data, err := es.codec.Marshal(items)
	if err != nil {
		return fmt.Errorf("nats event store: storing the message of an event of subject %q: %w", evs[0].Subject, err)
	}
	ctx, cancel := context.WithTimeout(ctx, es.spec.Timeout)
	defer cancel()
	for {
		// sent again every 100 ms while no replica answers (the stream
		// without a leader after a NATS node's restart; see
		// untilAnswered): it was stored nowhere, so it is not stored twice
		ack, err := untilAnswered(ctx, func() (*jetstream.PubAck, error) {
			return es.js.Publish(ctx, es.subj, data, jetstream.WithExpectStream(es.stream))
		})
		if err == nil {
			es.sawSeq(ack.Sequence)
			return nil
		}
		if !logFull(err) || !es.attached {
			return es.opErr("publish", err)
		}
		// the instances trim the log every beat while it is more than
		// half full, moving lagging subscribers forward (relieve): wait
		// for that within the request's timeout
		t := time.NewTimer(es.beat)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return es.opErr("publish", err)
		}
	}
}

// logFull reports whether err is JetStream's refusal of a message to a
// stream at its max_bytes (DiscardNew).
func logFull(err error) bool {
	var apiErr *jetstream.APIError
	const jsStreamStoreFailed = 10077 // nats-server's JSStreamStoreFailedF
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsStreamStoreFailed &&
		strings.Contains(apiErr.Description, "maximum bytes")
}

// decode decodes one log message.
func (es *EventStore) decode(data []byte) ([]events.Event, error) {
	v, err := es.codec.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	items, ok := v.([]any)
	if !ok || len(items) > seqMask+1 {
		return nil, fmt.Errorf("not a list of events")
	}
	out := make([]events.Event, len(items))
	for i, it := range items {
		t, ok := it.(py.Tuple)
		if !ok || len(t) != 3 {
			return nil, fmt.Errorf("event %d is not a (subject, time, message) tuple", i)
		}
		subj, ok1 := t[0].(string)
		tm, ok2 := t[1].(float64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("event %d has a bad subject or time", i)
		}
		out[i] = events.Event{Subject: subj, Time: tm, Msg: t[2]}
	}
	return out, nil
}

// Read calls fn with the events of the log after seq after, in order.
// A Read whose position the instance's tail still has in its window
// (logTail: one consumer per instance following the log's end, each
// message fetched and decoded once) takes its events from there and
// holds no consumer and none of the fetch budget; one that is behind
// the window (it starts behind it, or its fn did not keep up while the
// window moved on), or finds the tail stalled, reads through an
// ephemeral pull consumer of its own until it reaches the window again.
// Its consumer reads in fetches of at most readBatch messages and readB
// bytes that each wait at most readStall: nothing in it can wait for
// ever (an ordered consumer's internal reset can, after a NATS node's
// death during leader elections). A fetch that brings nothing while the
// log has more than was read (its consumer was lost with its node) ends
// Read with an error, and the caller reads again from where it got. So
// does a gap in the consumer's delivery sequence (a message lost on its
// way); the tail checks its own the same way and reads on after its
// last message with a new consumer. Each fetch of a Read's own consumer
// first takes its byte limit from the instance's fetch budget
// (WithFetchBudget) and gives back each message's share once fn has
// taken its events, the rest when the fetch ends.
func (es *EventStore) Read(ctx context.Context, after uint64, fn func(events.Stored) bool) error {
	start := after >> seqShift
	read := start - 1 // the last log message read
	switch {
	case start == 0:
		read = 0
	case after&seqMask == seqMask: // every event of message start
		read = start
	}
	msg := func(seq uint64, evs []events.Event) bool {
		for i := range evs {
			s := seq<<seqShift | uint64(i)
			if s <= after {
				continue
			}
			ev := evs[i] // a copy: the tail's events are shared
			ev.Seq = s
			if !fn(events.Stored{Seq: s, Event: ev}) {
				return false
			}
		}
		return true
	}
	for {
		if t := es.tail; t.covers(read) {
			var done bool
			var err error
			if read, done, err = t.follow(ctx, read, msg); done || err != nil {
				return err
			}
		}
		var done bool
		var err error
		if read, done, err = es.readOwn(ctx, read, msg); done || err != nil {
			return err
		}
		es.tail.joins.Add(1) // covers: not nil
	}
}

// consumer creates a Read's ephemeral pull consumer from stream
// sequence start.
func (es *EventStore) consumer(ctx context.Context, start uint64) (jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, es.spec.Timeout)
	defer cancel()
	cons, err := es.js.CreateConsumer(cctx, es.stream, jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: max(start, 1),
		AckPolicy: jetstream.AckNonePolicy, InactiveThreshold: es.inactive,
		MemoryStorage: true, Replicas: 1,
	})
	if err != nil {
		return nil, es.opErr("read events", err)
	}
	return cons, nil
}

// readOwn reads after message read through a consumer of its own until
// msg or ctx ends Read (done), or it reaches the tail's window (not
// done: follow the tail from the returned position).
func (es *EventStore) readOwn(ctx context.Context, read uint64, msg func(uint64, []events.Event) bool) (uint64, bool, error) {
	cons, err := es.consumer(ctx, read+1)
	if err != nil {
		if ctx.Err() != nil {
			return read, true, nil
		}
		return read, true, err
	}
	es.readConsumers.Add(1)
	defer func() { // the server removes it after readInactive anyway
		dctx, cancel := context.WithTimeout(context.Background(), es.beatTimeout)
		_ = es.js.DeleteConsumer(dctx, es.stream, cons.CachedInfo().Name)
		cancel()
	}()
	r := reader{es: es, msg: msg, read: read, pulled: time.Now()}
	for {
		more, err := r.fetch(ctx, cons)
		if !more || err != nil {
			return r.read, true, err
		}
		if es.tail.covers(r.read) {
			return r.read, false, nil
		}
	}
}

// reader is the state of one consumer's reading: a Read's own, or the
// tail's.
type reader struct {
	es *EventStore
	// msg takes the events of one log message; false: Read is done
	msg       func(seq uint64, evs []events.Event) bool
	read      uint64 // the last message read
	delivered uint64 // the consumer's delivery sequence
	pulled    time.Time
	// tail: the tail's reader, which holds a fetch open while it waits
	// for the log to grow and takes nothing from the fetch budget (its
	// memory is taken at Attach)
	tail bool
	// add, for the tail: msg with the message's size
	add func(seq uint64, evs []events.Event, size int)
}

// readHook, when set (tests), sees every message a reader (tail: the
// tail's) receives before it is checked; false makes the reader ignore
// it, as if it had been lost on its way.
var readHook atomic.Pointer[func(tail bool, streamSeq, consumerSeq uint64) bool]

// fetch runs one fetch of r's consumer; false: Read is done (fn or ctx
// ended it, or err).
func (r *reader) fetch(ctx context.Context, cons jetstream.Consumer) (bool, error) {
	es := r.es
	// a Read's reader that read everything waits for the log to grow,
	// holding no fetch open (and none of the budget) meanwhile; the
	// tail's holds one fetch open for the instance
	grown := es.grown()
	end := es.logEnd.Load()
	keepAlive := false
	if end <= r.read && !r.tail {
		t := time.NewTimer(min(readStall, es.inactive/3))
		select {
		case <-grown:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		if ctx.Err() != nil {
			return false, nil
		}
		if end = es.logEnd.Load(); end <= r.read {
			// the server removes a consumer with no pull request for
			// readInactive: an idle one asks for what is there, without
			// waiting
			if time.Since(r.pulled) < es.inactive/3 {
				return true, nil
			}
			keepAlive = true
		}
	}
	// as many messages as there are (a purged start makes it fewer, and
	// the fetch waits readStall for the rest)
	want := int(min(max(end, r.read+1)-r.read, readBatch))
	stall := readStall
	held := int64(0)
	if r.tail {
		want = readBatch
		stall = min(readStall, es.inactive/3) // its pull requests keep it alive
	} else {
		var err error
		if held, err = es.budget.acquire(ctx, int64(es.readB)); err != nil {
			return false, nil // ctx ended
		}
	}
	defer func() { es.budget.release(held) }()
	fctx, fcancel := context.WithTimeout(ctx, stall)
	defer fcancel()
	var batch jetstream.MessageBatch
	var err error
	if keepAlive {
		batch, err = cons.FetchNoWait(1) // one message: at most max_payload, within readB
	} else {
		batch, err = cons.Fetch(want, jetstream.FetchMaxBytes(es.readB), jetstream.FetchContext(fctx))
	}
	r.pulled = time.Now()
	if err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		return false, es.opErr("read events", err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		meta, err := m.Metadata()
		if err != nil {
			return false, es.opErr("read events", err)
		}
		if h := readHook.Load(); h != nil && !(*h)(r.tail, meta.Sequence.Stream, meta.Sequence.Consumer) {
			continue
		}
		// deliveries are numbered from 1 without gaps: a gap is a
		// message lost on its way (a NATS node died meanwhile), which
		// an unacknowledged consumer does not send again; a new one
		// starts after the last message handled
		if meta.Sequence.Consumer != r.delivered+1 && !noGapCheck.Load() {
			return false, es.opErr("read events", fmt.Errorf("delivery %d after %d: a message was lost on its way", meta.Sequence.Consumer, r.delivered))
		}
		r.delivered = meta.Sequence.Consumer
		seq := meta.Sequence.Stream
		data := m.Data()
		evs, err := es.decode(data)
		if err != nil {
			es.log.Warn("nats event store: ignoring an undecodable message of the log", "sequence", seq, "err", err)
			evs = nil
		}
		if r.tail {
			r.add(seq, evs, len(data))
		} else if evs != nil && !r.msg(seq, evs) {
			return false, nil
		}
		r.read = seq
		// the message is handed on: its share of the budget is free
		give := min(held, int64(len(data)))
		es.budget.release(give)
		held -= give
	}
	ferr := batch.Error()
	switch {
	case ctx.Err() != nil:
		return false, nil
	case n == 0 && es.logEnd.Load() > r.read:
		return false, es.opErr("read events", fmt.Errorf("no message for %v while the log has more (%v)", stall, ferr))
	case ferr != nil && n == 0 && !errors.Is(ferr, context.DeadlineExceeded) && !errors.Is(ferr, nats.ErrTimeout):
		return false, es.opErr("read events", ferr)
	}
	return true, nil
}

// noGapCheck turns Read's gap check off (tests: showing that it is what
// keeps a lost delivery from being lost to the subscriber).
var noGapCheck atomic.Bool

// get reads subscriber's record from the bucket (rev 0: none).
func (es *EventStore) get(ctx context.Context, key string) (subRecord, uint64, error) {
	var r subRecord
	e, err := untilAnswered(ctx, func() (jetstream.KeyValueEntry, error) { return es.kv.Get(ctx, key) })
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return r, 0, nil
	}
	if err != nil {
		return r, 0, es.opErr("read subscriber", err)
	}
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return r, 0, fmt.Errorf("nats event store: subscriber record %s: %w", key, err)
	}
	return r, e.Revision(), nil
}

// casTries bounds the compare-and-set retries of one write.
const casTries = 8

// errConflict: another write came first.
var errConflict = errors.New("concurrent change")

// update reads the subscriber's record, lets change modify it (false:
// write nothing; a record left without subscriptions is deleted) and
// writes it back if nobody wrote meanwhile, retrying otherwise. change's
// error is returned as it is. With sync, the owner is told at once what
// changed for this instance; otherwise the watch brings it (update is
// then safe to call while the owner's own locks are held).
func (es *EventStore) update(subscriber string, sync bool, change func(r *subRecord, exists bool) (bool, error)) error {
	key := subKey(subscriber)
	for range casTries {
		ctx, cancel := es.ctx()
		err := func() error {
			r, rev, err := es.get(ctx, key)
			if err != nil {
				return err
			}
			if rev != 0 && r.URI != subscriber {
				return fmt.Errorf("nats event store: subscriber record %s holds %q", key, r.URI)
			}
			if rev == 0 {
				r = subRecord{URI: subscriber}
			}
			write, err := change(&r, rev != 0)
			if err != nil || !write {
				return err
			}
			if len(r.Subs) == 0 {
				if rev == 0 {
					return nil
				}
				if err := es.kv.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil {
					return es.writeErr(err)
				}
				es.setRec(key, rev+1, nil) // its marker's revision is higher than rev; the watch brings it
				return nil
			}
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			var nrev uint64
			if rev == 0 {
				nrev, err = untilAnswered(ctx, func() (uint64, error) { return es.kv.Create(ctx, key, data) })
			} else {
				nrev, err = untilAnswered(ctx, func() (uint64, error) { return es.kv.Update(ctx, key, data, rev) })
			}
			if err != nil {
				return es.writeErr(err)
			}
			es.setRec(key, nrev, &r)
			return nil
		}()
		cancel()
		if err == nil {
			if sync {
				es.reconcile()
			}
			return nil
		}
		if !errors.Is(err, errConflict) {
			return err
		}
	}
	return es.opErr("write subscriber", errors.New("too many concurrent changes"))
}

// writeErr is the error of a failed write of a subscriber record.
func (es *EventStore) writeErr(err error) error {
	if conflict(err) {
		return errConflict
	}
	return es.opErr("write subscriber", err)
}

// lastSeq returns the log's last sequence.
func (es *EventStore) lastSeq(ctx context.Context) (uint64, error) {
	st, err := es.js.Stream(ctx, es.stream)
	if err != nil {
		return 0, es.opErr("read event log", err)
	}
	return st.CachedInfo().State.LastSeq, nil
}

// Subscribe adds subs to subscriber's record (created with its cursor
// at the end of the log: it gets the events published from now on) and
// makes this instance its owner.
//
// Subscribes of one instance run one at a time, so that the limits check
// sees every subscribe before it applied (update tells the owner before
// it returns); a subscribe that would fill the bucket past 3/4 of
// max_bytes is refused (checkRoom).
func (es *EventStore) Subscribe(subscriber string, subs []events.Sub, check func(all []events.Sub) error) error {
	es.subMu.Lock()
	defer es.subMu.Unlock()
	return es.update(subscriber, true, func(r *subRecord, exists bool) (bool, error) {
		oldSize := 0
		if exists {
			oldSize = recordSize(r)
		}
		if !exists {
			ctx, cancel := es.ctx()
			last, err := es.lastSeq(ctx)
			cancel()
			if err != nil {
				return false, err
			}
			r.Cursor = last<<seqShift | seqMask
		}
		have := map[subID]bool{}
		for _, s := range r.Subs {
			have[subID{s.Kind, s.Subject}] = true
		}
		merged := append([]events.Sub(nil), r.Subs...)
		for _, s := range subs {
			k := subID{s.Kind, s.Subject}
			if !have[k] {
				have[k] = true
				s.Subscriber = subscriber
				merged = append(merged, s)
			}
		}
		if check != nil {
			if err := check(merged); err != nil {
				return false, err
			}
		}
		if exists && r.Owner == es.id && len(merged) == len(r.Subs) {
			return false, nil // nothing new: no write (a repeated subscribe is one read)
		}
		r.Subs, r.Owner = merged, es.id
		if err := es.checkRoom(oldSize, recordSize(r)); err != nil {
			return false, err
		}
		return true, nil
	})
}

// subID identifies a subscription within a subscriber's record.
type subID struct {
	kind    events.Kind
	subject string
}

// recordSize is the size of r as written to the bucket.
func recordSize(r *subRecord) int {
	b, _ := json.Marshal(r)
	return len(b)
}

// Unsubscribe removes subs from subscriber's record.
func (es *EventStore) Unsubscribe(subscriber string, subs []events.Sub) error {
	drop := map[subID]bool{}
	for _, s := range subs {
		drop[subID{s.Kind, s.Subject}] = true
	}
	return es.update(subscriber, true, func(r *subRecord, exists bool) (bool, error) {
		if !exists {
			return false, nil
		}
		kept := r.Subs[:0:0]
		for _, s := range r.Subs {
			if !drop[subID{s.Kind, s.Subject}] {
				kept = append(kept, s)
			}
		}
		if len(kept) == len(r.Subs) {
			return false, nil
		}
		r.Subs = kept
		return true, nil
	})
}

// AddSub adds one subscription (as Subscribe, without limits).
func (es *EventStore) AddSub(s events.Sub) error {
	return es.Subscribe(s.Subscriber, []events.Sub{s}, nil)
}

// RemoveSub removes one subscription.
func (es *EventStore) RemoveSub(s events.Sub) error {
	return es.Unsubscribe(s.Subscriber, []events.Sub{s})
}

// RemoveSubscriber forgets a subscriber this instance delivers to (its
// deliveries failed); one another instance owns now is left alone. The
// service calls it holding its lock: the owner is not called back.
func (es *EventStore) RemoveSubscriber(subscriber string) error {
	return es.update(subscriber, false, func(r *subRecord, exists bool) (bool, error) {
		if !exists || r.Owner != es.id {
			return false, nil
		}
		r.Subs = nil
		return true, nil
	})
}

// Subs returns nothing: subscribers come through Attach's Owner.
func (es *EventStore) Subs() ([]events.Sub, error) { return nil, nil }

// Append is not used with a shared store.
func (es *EventStore) Append([]events.Record) error { return events.ErrSharedOnly }

// Pending returns nothing: an owned subscriber reads the log.
func (es *EventStore) Pending(string) ([]events.Stored, error) { return nil, nil }

// Ack records that subscriber's deliveries up to seq are confirmed, if
// this instance still owns it (otherwise events.ErrNotOwner). The cursor
// is written by a goroutine of the store, not by the caller: a delivery
// does not wait while NATS elects a leader, and an acknowledgement that
// is lost (the instance stops first) only means those events are
// delivered again, with their seq.
func (es *EventStore) Ack(subscriber string, seq uint64) error {
	key := subKey(subscriber)
	es.mu.Lock()
	e := es.recs[key]
	es.mu.Unlock()
	switch {
	case e == nil || e.deleted:
		return nil // gone
	case e.r.Owner != es.id:
		return events.ErrNotOwner
	case seq <= e.r.Cursor:
		return nil
	}
	es.ackCalls.Add(1)
	es.ackMu.Lock()
	if seq > es.acks[key] {
		es.acks[key] = seq
	}
	es.ackMu.Unlock()
	select {
	case es.ackWake <- struct{}{}:
	default:
	}
	return nil
}

// ackCoalesce is how long writeAcks lets acknowledgements gather after
// the first one before it writes the cursors: the acknowledgements of a
// subscriber within it make one bucket write. An instance that stops
// within it delivers those events again (with their seq).
const ackCoalesce = 50 * time.Millisecond

// writeAcks writes the cursors Ack recorded, until Close; then it writes
// what is left once (each write within the beat timeout) and returns.
func (es *EventStore) writeAcks() {
	defer close(es.acksDone)
	for {
		final := false
		select {
		case <-es.ackWake:
			t := time.NewTimer(min(ackCoalesce, es.beat))
			select {
			case <-t.C:
			case <-es.stop:
				t.Stop()
				final = true
			}
		case <-es.stop:
			final = true
		}
		es.ackMu.Lock()
		batch := es.acks
		es.acks = map[string]uint64{}
		es.ackMu.Unlock()
		failed := false
		for key, seq := range batch {
			if err := es.writeAck(key, seq, final); err != nil {
				if !final && errors.Is(err, ErrUnavailable) {
					es.ackMu.Lock()
					if seq > es.acks[key] {
						es.acks[key] = seq
					}
					es.ackMu.Unlock()
					failed = true
				}
				es.log.Debug("nats event store: writing a cursor", "key", key, "err", err)
			}
		}
		if final {
			return
		}
		if failed { // try again after a beat
			select {
			case <-time.After(es.beat):
			case <-es.stop:
			}
			select {
			case es.ackWake <- struct{}{}:
			default:
			}
		}
	}
}

// writeAck advances the cursor of the record key to seq while this
// instance owns it.
func (es *EventStore) writeAck(key string, seq uint64, short bool) error {
	timeout := es.spec.Timeout
	if short {
		timeout = es.beatTimeout
	}
	for range casTries {
		es.mu.Lock()
		e := es.recs[key]
		var r subRecord
		var rev uint64
		if e != nil && !e.deleted {
			r, rev = e.r, e.rev
		}
		es.mu.Unlock()
		switch {
		case rev == 0:
			return nil // gone
		case r.Owner != es.id:
			return events.ErrNotOwner
		case seq <= r.Cursor:
			return nil
		}
		r.Cursor = seq
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		nrev, err := untilAnswered(ctx, func() (uint64, error) { return es.kv.Update(ctx, key, data, rev) })
		if err == nil {
			cancel()
			es.ackWrites.Add(1)
			es.setRec(key, nrev, &r)
			return nil
		}
		if !conflict(err) {
			cancel()
			return es.opErr("acknowledge", err)
		}
		cur, crev, err := es.get(ctx, key)
		cancel()
		if err != nil {
			return err
		}
		if crev == 0 {
			es.setRec(key, rev+1, nil)
			return nil
		}
		es.setRec(key, crev, &cur)
	}
	return es.opErr("acknowledge", errors.New("too many concurrent changes"))
}

// Close stops sharing, removes this instance's heartbeat (the others
// take its subscribers over at once) and closes the connection.
func (es *EventStore) Close() error {
	es.closeOnce.Do(func() {
		close(es.stop)
		if es.attached {
			<-es.done
			<-es.acksDone
			<-es.beatDone
			if es.tail != nil {
				es.tail.stop()
			}
			ctx, cancel := context.WithTimeout(context.Background(), es.beatTimeout)
			_ = es.kv.Delete(ctx, "i."+es.id)
			cancel()
		}
		es.nc.Close()
	})
	return nil
}

var _ events.Shared = (*EventStore)(nil)
