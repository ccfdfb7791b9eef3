package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pyrogo/pyro/naming"
)

// Scheme is the storage scheme this package registers with
// naming.RegisterStorage: "nats://HOST:PORT[,HOST:PORT...]/BUCKET".
const Scheme = "nats"

func init() {
	naming.RegisterStorage(Scheme, func(arg string) (naming.Storage, error) {
		return Open(arg)
	})
}

// ErrUnavailable is matched (errors.Is) by the errors of writes and
// opens that NATS did not answer in time (no server reachable, or no
// JetStream quorum for the bucket).
var ErrUnavailable = errors.New("NATS unavailable")

// ErrTooLarge is matched by the error of a registration whose encoding
// exceeds the spec's max_value.
var ErrTooLarge = errors.New("registration too large")

// Option configures Open.
type Option func(*options)

type options struct {
	log   *slog.Logger
	lease time.Duration // OpenEvents: WithLease

	fetchBudget  int64         // OpenEvents: WithFetchBudget
	readInactive time.Duration // OpenEvents: tests (default readInactive)
	tailWindow   int64         // OpenEvents: tests (default tailWindow)
}

// WithLogger makes the storage log connection losses and recoveries.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Store is a naming.Storage in a NATS JetStream key-value bucket, shared
// by every name server that opens the same bucket. Reads are served from
// a local cache that a watch of the bucket keeps up to date; writes
// return once JetStream acknowledged them. It also implements
// naming.Shared (so naming.Creator), naming.PrefixLister and
// naming.MetadataLister. It is
// safe for concurrent use.
type Store struct {
	spec Spec
	nc   *nats.Conn
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	log  *slog.Logger

	mu       sync.RWMutex
	c        *cache
	watchRev uint64 // last revision the watch applied

	applied      atomic.Uint64 // watch updates handled, for Open's progress check
	ready        chan struct{} // closed when the watch delivered the initial contents
	readyOnce    sync.Once
	life         context.Context    // every request's parent; ended by Close
	endLife      context.CancelFunc // ends life
	watchMu      sync.Mutex         // guards consume
	checkMu      sync.Mutex         // held by each of the supervisor's checks (a test pauses it)
	consume      jetstream.ConsumeContext
	stop         chan struct{} // closed by Close: ends the supervisor
	supervised   chan struct{} // closed when the supervisor has ended
	supervising  bool          // the supervisor and purger were started (set by Open)
	purged       chan struct{} // closed when the purger has ended
	disconnected atomic.Int64  // unix nanoseconds of the loss of the connection; 0 when connected
	closeOnce    sync.Once
}

// Open connects to the NATS servers of spec ("nats://..." or the part
// after "nats:"), opens the bucket (creating it with history 1, the
// spec's replicas, max_value and max_bytes if it does not exist), and
// loads its contents into the cache before it returns.
func Open(spec string, opts ...Option) (*Store, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	return OpenSpec(s, opts...)
}

// OpenSpec is Open with a parsed spec.
func OpenSpec(spec Spec, opts ...Option) (*Store, error) {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	st := &Store{spec: spec, log: o.log, c: newCache(), ready: make(chan struct{}),
		stop: make(chan struct{}), supervised: make(chan struct{}), purged: make(chan struct{})}
	st.life, st.endLife = context.WithCancel(context.Background())
	nopts, err := st.natsOptions()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(strings.Join(spec.Servers, ","), nopts...)
	if err != nil {
		return nil, fmt.Errorf("nats storage %s: connect: %w: %w", spec.Redacted(), ErrUnavailable, err)
	}
	st.nc = nc
	if err := st.open(); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// natsOptions returns the connection options of the spec.
func (st *Store) natsOptions() ([]nats.Option, error) {
	sp := st.spec
	opts := []nats.Option{
		nats.Name("pyrogo name server"),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			st.disconnected.CompareAndSwap(0, time.Now().UnixNano())
			st.log.Warn("nats storage: connection lost; lookups are served from the cache", "bucket", sp.Bucket, "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			st.disconnected.Store(0)
			st.log.Info("nats storage: reconnected", "bucket", sp.Bucket, "server", nc.ConnectedUrlRedacted())
		}),
	}
	return specOptions(sp, opts)
}

// specOptions appends the spec's connection options (timeout,
// reconnection, credentials, TLS) to opts.
func specOptions(sp Spec, opts []nats.Option) ([]nats.Option, error) {
	opts = append(opts,
		nats.Timeout(sp.Timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond))
	if sp.User != "" {
		opts = append(opts, nats.UserInfo(sp.User, sp.Password))
	}
	if sp.Creds != "" {
		opts = append(opts, nats.UserCredentials(sp.Creds))
	}
	if sp.TLSCA != "" || sp.TLSCert != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if sp.TLSCA != "" {
			pem, err := os.ReadFile(sp.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("nats storage: tls_ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("nats storage: tls_ca %s: no PEM certificate", sp.TLSCA)
			}
			cfg.RootCAs = pool
		}
		if sp.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(sp.TLSCert, sp.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("nats storage: tls_cert/tls_key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, nats.Secure(cfg))
	}
	return opts, nil
}

// open opens or creates the bucket and starts the watch.
func (st *Store) open() error {
	js, err := jetstream.New(st.nc)
	if err != nil {
		return fmt.Errorf("nats storage %s: %w", st.spec.Redacted(), err)
	}
	st.js = js
	// A cluster that is still electing leaders (for instance all nodes
	// and name servers starting together) answers late or with errors for
	// a moment: retry until a deadline of three timeouts.
	deadline := time.Now().Add(3 * st.spec.Timeout)
	for {
		err = st.bucketAndWatch()
		if err == nil || time.Now().After(deadline) {
			break
		}
		st.log.Debug("nats storage: opening the bucket, retrying", "bucket", st.spec.Bucket, "err", err)
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	// Wait for the initial contents while they keep coming.
	last := uint64(0)
	for {
		select {
		case <-st.ready:
			st.supervising = true
			go st.supervise()
			if st.spec.PurgeDeletes > 0 {
				go st.purge()
			} else {
				close(st.purged)
			}
			return nil
		case <-time.After(st.spec.Timeout):
			if n := st.applied.Load(); n != last {
				last = n
				continue
			}
			return st.opErr("load bucket", "", context.DeadlineExceeded)
		}
	}
}

// bucketAndWatch opens or creates the bucket and starts watching it.
func (st *Store) bucketAndWatch() error {
	ctx, cancel := context.WithTimeout(context.Background(), st.spec.Timeout)
	defer cancel()
	kv, err := st.js.KeyValue(ctx, st.spec.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = st.js.CreateKeyValue(ctx, st.bucketConfig())
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			kv, err = st.js.KeyValue(ctx, st.spec.Bucket) // created meanwhile by another instance
		}
	}
	if err != nil {
		return st.opErr("open bucket", "", err)
	}
	st.kv = kv
	return st.startWatch(ctx, 0)
}

// watchHeartbeat is how often the server signals an idle watch: a watch
// whose consumer was lost (its node died) notices within two heartbeats
// and is recreated from the last revision it applied, so the cache is at
// most that much staler than the bucket while NATS is reachable.
const watchHeartbeat = time.Second

// startWatch watches the bucket with an ordered consumer: every key's
// last value, then every write, in revision order. jetstream's
// KeyValue.Watch is not used because its heartbeat (5 s) is not
// settable, and a lost consumer took it some 18 s to notice.
//
// With from > 0 it resumes after revision from (see supervise).
func (st *Store) startWatch(ctx context.Context, from uint64) error {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{st.subjectPrefix() + ">"},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from+1
	}
	cons, err := st.js.OrderedConsumer(ctx, st.streamName(), cfg)
	if err != nil {
		return st.opErr("watch bucket", "", err)
	}
	if from == 0 {
		info, err := cons.Info(ctx)
		if err != nil {
			return st.opErr("watch bucket", "", err)
		}
		if info.NumPending == 0 {
			st.readyOnce.Do(func() { close(st.ready) })
		}
	}
	cc, err := cons.Consume(st.handle,
		jetstream.PullHeartbeat(watchHeartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			st.log.Debug("nats storage: watch", "bucket", st.spec.Bucket, "err", err)
		}))
	if err != nil {
		return st.opErr("watch bucket", "", err)
	}
	st.watchMu.Lock()
	old := st.consume
	st.consume = cc
	st.watchMu.Unlock()
	if old != nil {
		old.Stop()
	}
	return nil
}

// streamName is the JetStream stream of the bucket.
func (st *Store) streamName() string { return "KV_" + st.spec.Bucket }

// watchCheck is how often the supervisor compares the watch with the
// bucket.
const watchCheck = 2 * time.Second

// supervise restarts a stalled watch. The ordered consumer heals itself
// after most failures, but not all: when its recreation fails with an
// error it does not retry on (seen when a NATS node is SIGKILLed while
// the bucket elects a new leader), it stops for good. Every watchCheck
// the supervisor asks the stream for its last revision; a watch that is
// behind it and has not moved since the previous check is replaced by a
// new one that resumes after the last revision applied. So the cache
// trails the bucket by at most about two checks plus the restart, while
// NATS is reachable.
func (st *Store) supervise() {
	defer close(st.supervised)
	t := time.NewTicker(watchCheck)
	defer t.Stop()
	var prev uint64
	behind := false
	current := time.Now() // when the watch was last seen current
	for {
		select {
		case <-st.stop:
			return
		case <-t.C:
		}
		st.checkMu.Lock()
		prev, behind, current = st.check(prev, behind, current)
		st.checkMu.Unlock()
	}
}

// check is one of the supervisor's checks: it takes and returns the
// watch's revision at the previous check, whether it was behind then,
// and when it was last seen current.
func (st *Store) check(prev uint64, behind bool, current time.Time) (uint64, bool, time.Time) {
	ctx, cancel := st.ctx()
	stream, err := st.js.Stream(ctx, st.streamName())
	cancel()
	if err != nil {
		return prev, behind, current // unreachable: nothing to catch up with now
	}
	last, cur := stream.CachedInfo().State.LastSeq, st.Revision()
	switch {
	case cur >= last:
		behind = false
		if age := st.spec.PurgeDeletes; age > 0 && time.Since(current) > age/2 {
			// Away long enough to have missed a purged marker.
			ctx, cancel := context.WithTimeout(st.life, 6*st.spec.Timeout)
			err := st.resync(ctx)
			cancel()
			if err != nil {
				st.log.Warn("nats storage: resync after a long disconnection", "bucket", st.spec.Bucket, "err", err)
				return cur, behind, current // again at the next check
			}
		}
		current = time.Now()
	case behind && cur == prev:
		st.log.Warn("nats storage: watch stalled; restarting it", "bucket", st.spec.Bucket, "revision", cur, "bucket_revision", last)
		ctx, cancel := st.ctx()
		if err := st.startWatch(ctx, cur); err != nil {
			st.log.Warn("nats storage: restarting the watch", "bucket", st.spec.Bucket, "err", err)
		}
		cancel()
		behind = false
	default:
		behind = true
		if cur > prev {
			current = time.Now() // moving: in touch with the bucket
		}
	}
	return cur, behind, current
}

// subjectPrefix is the bucket's subject prefix, "$KV.BUCKET.".
func (st *Store) subjectPrefix() string { return "$KV." + st.spec.Bucket + "." }

// handle applies one message of the watch.
func (st *Store) handle(m jetstream.Msg) {
	st.applied.Add(1)
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	key, ok := strings.CutPrefix(m.Subject(), st.subjectPrefix())
	if !ok {
		return
	}
	rev := meta.Sequence.Stream
	put := true
	if h := m.Headers(); h != nil && (h.Get("KV-Operation") != "" || h.Get(jetstream.MarkerReasonHeader) != "") {
		put = false // DEL, PURGE, or a marker of a removed message
	}
	var e naming.Entry
	if put {
		if e, err = st.decode(key, m.Data()); err != nil {
			st.log.Warn("nats storage: ignoring a value", "bucket", st.spec.Bucket, "key", key, "revision", rev, "err", err)
			put = false // treat as absent
		}
	}
	st.mu.Lock()
	st.watchRev = max(st.watchRev, rev)
	if put {
		st.c.put(key, rev, e)
	} else {
		st.c.deleted(key, rev)
	}
	if t, ok := st.c.tomb[key]; ok && t <= rev {
		delete(st.c.tomb, key)
	}
	st.mu.Unlock()
	if meta.NumPending == 0 {
		st.readyOnce.Do(func() { close(st.ready) })
	}
}

// bucketConfig is the configuration of a bucket Open creates.
func (st *Store) bucketConfig() jetstream.KeyValueConfig {
	r := st.spec.Replicas
	if r == 0 {
		r = min(maxReplicas, max(1, len(st.nc.Servers())))
	}
	return jetstream.KeyValueConfig{
		Bucket:       st.spec.Bucket,
		Description:  "pyrogo name server registrations",
		History:      1,
		MaxValueSize: int32(st.spec.MaxValue),
		MaxBytes:     st.spec.MaxBytes,
		Storage:      jetstream.FileStorage,
		Replicas:     r,
	}
}

// decode decodes the value of key and checks that it belongs there.
func (st *Store) decode(key string, v []byte) (naming.Entry, error) {
	e, err := decodeEntry(v)
	if err != nil {
		return e, err
	}
	if nameKey(e.Name) != key {
		return e, fmt.Errorf("%w: name does not match the key", errValue)
	}
	return e, nil
}

// opErr is the error of a failed request to NATS.
func (st *Store) opErr(op, name string, err error) error {
	what := op
	if name != "" {
		what += " " + strconv.Quote(name)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoServers) {
		return fmt.Errorf("nats storage %s: %s: %w: no answer within %v (%w)", st.spec.Redacted(), what, ErrUnavailable, st.spec.Timeout, err)
	}
	return fmt.Errorf("nats storage %s: %s: %w", st.spec.Redacted(), what, err)
}

// ctx returns the context of one request: it ends after the spec's
// timeout, or when the store is closed.
func (st *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(st.life, st.spec.Timeout)
}

// noLeaderRetry is how often a write is sent again while the bucket's
// stream has no leader (see untilAnswered).
const noLeaderRetry = 100 * time.Millisecond

// untilAnswered runs a request again while the stream answers nothing at
// all (no responders: no leader yet after a NATS node died or came back,
// or a new bucket's replicas still settling: a blip of up to a few
// seconds), until ctx ends. With no responder a write reached no
// replica, so sending it again cannot store it twice. jetstream's own
// retries (writes only) stop after half a second.
func untilAnswered[T any](ctx context.Context, write func() (T, error)) (T, error) {
	for {
		v, err := write()
		if !errors.Is(err, jetstream.ErrNoStreamResponse) && !errors.Is(err, nats.ErrNoResponders) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(noLeaderRetry):
		}
	}
}

// Get returns the entry for name from the cache.
func (st *Store) Get(name string) (naming.Entry, bool, error) {
	key := nameKey(name)
	st.mu.RLock()
	n := st.c.byKey[key]
	var e naming.Entry
	if n != nil {
		e = n.e
	}
	st.mu.RUnlock()
	if n == nil || e.Name != name {
		return naming.Entry{}, false, nil
	}
	return e, true, nil
}

// encode normalizes and encodes e, refusing one larger than max_value.
func (st *Store) encode(e *naming.Entry) ([]byte, error) {
	e.Metadata = naming.NormalizeTags(e.Metadata)
	v := encodeEntry(*e)
	if len(v) > st.spec.MaxValue {
		return nil, fmt.Errorf("nats storage: register %q: %w (%d bytes encoded, the limit is %d)", truncate(e.Name), ErrTooLarge, len(v), st.spec.MaxValue)
	}
	return v, nil
}

// Put stores e; it returns once JetStream acknowledged the write.
func (st *Store) Put(e naming.Entry) error {
	v, err := st.encode(&e)
	if err != nil {
		return err
	}
	key := nameKey(e.Name)
	ctx, cancel := st.ctx()
	defer cancel()
	rev, err := untilAnswered(ctx, func() (uint64, error) { return st.kv.Put(ctx, key, v) })
	if err != nil {
		return st.opErr("put", truncate(e.Name), err)
	}
	st.mu.Lock()
	st.c.put(key, rev, e)
	st.mu.Unlock()
	return nil
}

// Create stores e only if its name is not registered in the bucket (on
// any instance), atomically: of several instances creating the same name
// at once, exactly one succeeds.
func (st *Store) Create(e naming.Entry) (bool, error) {
	v, err := st.encode(&e)
	if err != nil {
		return false, err
	}
	key := nameKey(e.Name)
	ctx, cancel := st.ctx()
	defer cancel()
	rev, err := untilAnswered(ctx, func() (uint64, error) { return st.kv.Create(ctx, key, v) })
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, st.opErr("create", truncate(e.Name), err)
	}
	st.mu.Lock()
	st.c.put(key, rev, e)
	st.mu.Unlock()
	return true, nil
}

// Delete removes the named entries from the bucket and returns how many
// existed. A name missing from the cache is looked up in the bucket, so
// a registration another instance just made is removed too.
func (st *Store) Delete(names ...string) (int, error) {
	count := 0
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		ok, err := st.delete(name)
		if err != nil {
			return count, err
		}
		if ok {
			count++
		}
	}
	return count, nil
}

// delete removes one name.
func (st *Store) delete(name string) (bool, error) {
	key := nameKey(name)
	ctx, cancel := st.ctx()
	defer cancel()
	if _, ok, _ := st.Get(name); !ok {
		ent, err := untilAnswered(ctx, func() (jetstream.KeyValueEntry, error) { return st.kv.Get(ctx, key) })
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return false, nil
		}
		if err != nil {
			return false, st.opErr("delete", truncate(name), err)
		}
		if e, err := st.decode(key, ent.Value()); err != nil || e.Name != name {
			return false, nil
		}
	}
	return st.deleteAt(name, 0)
}

// deleteAt writes the delete marker of name; with rev > 0 only if the
// key's last write is still revision rev (false when it is not).
func (st *Store) deleteAt(name string, rev uint64) (bool, error) {
	key := nameKey(name)
	ctx, cancel := st.ctx()
	defer cancel()
	// A delete marker, as jetstream's KeyValue.Delete writes it, but
	// published here to learn its revision from the acknowledgement.
	m := nats.NewMsg(st.subjectPrefix() + key)
	m.Header.Set("KV-Operation", "DEL")
	var popts []jetstream.PublishOpt
	if rev > 0 {
		popts = append(popts, jetstream.WithExpectLastSequencePerSubject(rev))
	}
	ack, err := untilAnswered(ctx, func() (*jetstream.PubAck, error) { return st.js.PublishMsg(ctx, m, popts...) })
	if rev > 0 && isWrongLastSeq(err) {
		return false, nil
	}
	if err != nil {
		return false, st.opErr("delete", truncate(name), err)
	}
	st.mu.Lock()
	if st.c.newer(key, ack.Sequence) {
		st.c.unlink(key)
		if ack.Sequence > st.watchRev {
			st.c.tomb[key] = ack.Sequence // ignore older writes still in the watch
		}
	}
	st.mu.Unlock()
	return true, nil
}

// GetRevision returns the entry for name and its revision (the bucket's
// sequence of its last write): with fresh from the bucket itself,
// otherwise from the cache.
func (st *Store) GetRevision(name string, fresh bool) (naming.Entry, uint64, bool, error) {
	key := nameKey(name)
	if !fresh {
		st.mu.RLock()
		defer st.mu.RUnlock()
		if n := st.c.byKey[key]; n != nil && n.e.Name == name {
			return n.e, n.rev, true, nil
		}
		return naming.Entry{}, 0, false, nil
	}
	ctx, cancel := st.ctx()
	defer cancel()
	ent, err := untilAnswered(ctx, func() (jetstream.KeyValueEntry, error) { return st.kv.Get(ctx, key) })
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return naming.Entry{}, 0, false, nil
	}
	if err != nil {
		return naming.Entry{}, 0, false, st.opErr("get", truncate(name), err)
	}
	e, err := st.decode(key, ent.Value())
	if err != nil || e.Name != name {
		return naming.Entry{}, 0, false, nil
	}
	st.mu.Lock()
	st.c.put(key, ent.Revision(), e) // the cache may be behind
	st.mu.Unlock()
	return e, ent.Revision(), true, nil
}

// Update replaces the entry of e.Name if the bucket still holds revision
// rev of it (JetStream's compare-and-set on the key's last sequence).
func (st *Store) Update(e naming.Entry, rev uint64) (bool, error) {
	v, err := st.encode(&e)
	if err != nil {
		return false, err
	}
	key := nameKey(e.Name)
	ctx, cancel := st.ctx()
	defer cancel()
	nrev, err := untilAnswered(ctx, func() (uint64, error) { return st.kv.Update(ctx, key, v, rev) })
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return false, nil
	}
	if err != nil {
		return false, st.opErr("update", truncate(e.Name), err)
	}
	st.mu.Lock()
	st.c.put(key, nrev, e)
	st.mu.Unlock()
	return true, nil
}

// DeleteRevision removes name if the bucket still holds revision rev of
// it.
func (st *Store) DeleteRevision(name string, rev uint64) (bool, error) {
	if rev == 0 {
		return false, nil
	}
	return st.deleteAt(name, rev)
}

// Len returns the number of entries in the cache.
func (st *Store) Len() (int, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.c.byKey), nil
}

// All iterates over the cached entries in the order of their last write.
// It holds the cache's read lock while iterating: lookups go on, updates
// wait.
func (st *Store) All() iter.Seq2[naming.Entry, error] {
	return func(yield func(naming.Entry, error) bool) {
		st.mu.RLock()
		defer st.mu.RUnlock()
		for n := st.c.head; n != nil; n = n.next {
			if !yield(n.e, nil) {
				return
			}
		}
	}
}

// ListPrefix returns the cached entries whose name starts with prefix.
func (st *Store) ListPrefix(prefix string) ([]naming.Entry, error) {
	return st.filter(func(e naming.Entry) bool { return strings.HasPrefix(e.Name, prefix) }), nil
}

// ListMetadata returns the cached entries having all (or any) of tags.
func (st *Store) ListMetadata(tags []string, all bool) ([]naming.Entry, error) {
	tags = naming.NormalizeTags(tags)
	return st.filter(func(e naming.Entry) bool { return hasTags(e.Metadata, tags, all) }), nil
}

// hasTags reports whether the sorted set have holds all (or any) of the
// sorted set tags. Its cost is bounded by have's length (times a log),
// not by the query's: a client's list with a huge tag set costs, per
// entry, no more than the entry's own tags.
func hasTags(have, tags []string, all bool) bool {
	if all {
		if len(tags) > len(have) {
			return false
		}
		for _, t := range tags {
			if _, ok := slices.BinarySearch(have, t); !ok {
				return false
			}
		}
		return true
	}
	for _, t := range have {
		if _, ok := slices.BinarySearch(tags, t); ok {
			return true
		}
	}
	return false
}

func (st *Store) filter(keep func(naming.Entry) bool) []naming.Entry {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []naming.Entry
	for n := st.c.head; n != nil; n = n.next {
		if keep(n.e) {
			out = append(out, n.e)
		}
	}
	return out
}

// Connected reports whether the storage is connected to NATS, and if not,
// since when it is not: the cache holds the bucket as it was then.
func (st *Store) Connected() (bool, time.Time) {
	if d := st.disconnected.Load(); d != 0 {
		return false, time.Unix(0, d)
	}
	return st.nc.IsConnected(), time.Time{}
}

// Revision returns the last bucket revision the watch applied.
func (st *Store) Revision() uint64 {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.watchRev
}

// Spec returns the storage's spec.
func (st *Store) Spec() Spec { return st.spec }

// Close stops the watch and closes the connection. The cache stays
// readable.
func (st *Store) Close() error {
	st.closeOnce.Do(func() {
		close(st.stop)
		st.endLife() // requests in flight (the supervisor's too) end now
		if st.supervising {
			<-st.supervised
			<-st.purged
		}
		st.watchMu.Lock()
		cc := st.consume
		st.watchMu.Unlock()
		if cc != nil {
			cc.Stop()
			<-cc.Closed()
		}
		st.nc.Close()
	})
	return nil
}

// isWrongLastSeq reports whether err is JetStream's refusal of a
// compare-and-set write ("wrong last sequence"; a replicated stream
// reports it with another code).
func isWrongLastSeq(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && (ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// truncate shortens a name for messages.
func truncate(name string) string {
	if len(name) <= 200 {
		return name
	}
	return name[:200] + "..."
}

var (
	_ naming.Storage        = (*Store)(nil)
	_ naming.Creator        = (*Store)(nil)
	_ naming.Shared         = (*Store)(nil)
	_ naming.PrefixLister   = (*Store)(nil)
	_ naming.MetadataLister = (*Store)(nil)
)
