package cluster

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pyrogo/pyro/naming"
)

// Delete markers. A removed name leaves a delete marker in the bucket
// (history 1 keeps only it), which counts toward max_bytes and which
// every instance's watch delivers when it opens the bucket; a registry
// that churns through distinct names fills the bucket with them (see
// BenchmarkDeleteMarkers). Each instance purges the markers older than
// the spec's PurgeDeletes (default DefaultPurgeDeletes) every quarter of
// that age (at least every purgeEveryMax), each marker only up to its
// own revision, so a name registered again after its marker keeps its
// registration.
//
// An instance whose watch has been away from the bucket for longer than
// half that age (cut off from NATS) may have missed a removal whose
// marker was purged meanwhile; when its watch is current again, it
// checks its cache against the bucket's present keys (resync).

// purgeEveryMax bounds the period of the purge.
const purgeEveryMax = 10 * time.Minute

// purgeEvery is the period of the purge for markers older than age.
func purgeEvery(age time.Duration) time.Duration {
	return min(max(age/4, 250*time.Millisecond), purgeEveryMax)
}

// lastOf is the last message of one key, as scanLast reads it.
type lastOf struct {
	key     string
	rev     uint64
	deleted bool // a delete or purge marker
	at      time.Time
	data    []byte // nil with headersOnly
}

// scanLast reads the last message of every key of the bucket and calls
// fn with each; it returns the bucket's last revision when the scan
// started (every key whose last write is not later was seen).
func (st *Store) scanLast(ctx context.Context, headersOnly bool, fn func(lastOf)) (uint64, error) {
	stream, err := st.js.Stream(ctx, st.streamName())
	if err != nil {
		return 0, st.opErr("scan bucket", "", err)
	}
	upTo := stream.CachedInfo().State.LastSeq
	cons, err := st.js.OrderedConsumer(ctx, st.streamName(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{st.subjectPrefix() + ">"},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
		HeadersOnly:    headersOnly,
	})
	if err != nil {
		return 0, st.opErr("scan bucket", "", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, st.opErr("scan bucket", "", err)
	}
	pending := info.NumPending
	for pending > 0 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		batch, err := cons.Fetch(int(min(pending, 1000)), jetstream.FetchMaxWait(st.spec.Timeout))
		if err != nil {
			return 0, st.opErr("scan bucket", "", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				continue
			}
			pending = meta.NumPending
			key, ok := strings.CutPrefix(m.Subject(), st.subjectPrefix())
			if !ok {
				continue
			}
			h := m.Headers()
			l := lastOf{key: key, rev: meta.Sequence.Stream, at: meta.Timestamp,
				deleted: h != nil && (h.Get("KV-Operation") != "" || h.Get(jetstream.MarkerReasonHeader) != "")}
			if !headersOnly {
				l.data = m.Data()
			}
			fn(l)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return 0, st.opErr("scan bucket", "", err)
		}
		if got == 0 {
			return 0, st.opErr("scan bucket", "", context.DeadlineExceeded)
		}
	}
	return upTo, nil
}

// PurgeDeletes removes from the bucket the delete markers of removed
// names that are older than olderThan (by the NATS servers' clock; 0:
// all), each one only up to its own revision: a name registered again
// after its marker keeps its registration, whoever registered it.
// (jetstream.KeyValue.PurgeDeletes purges every message of the key,
// which would take a registration made meanwhile with it.) It returns
// how many markers it purged.
func (st *Store) PurgeDeletes(ctx context.Context, olderThan time.Duration) (int, error) {
	old, err := st.markers(ctx, olderThan)
	if err != nil {
		return 0, err
	}
	return st.purgeMarkers(ctx, old)
}

// markers returns the delete markers older than olderThan (0: all).
func (st *Store) markers(ctx context.Context, olderThan time.Duration) ([]lastOf, error) {
	limit := time.Now().Add(-olderThan)
	var old []lastOf
	_, err := st.scanLast(ctx, true, func(l lastOf) {
		if l.deleted && (olderThan == 0 || l.at.Before(limit)) {
			old = append(old, l)
		}
	})
	return old, err
}

// purgeMarkers purges each key's messages up to its marker's revision.
func (st *Store) purgeMarkers(ctx context.Context, old []lastOf) (int, error) {
	if len(old) == 0 {
		return 0, nil
	}
	stream, err := st.js.Stream(ctx, st.streamName())
	if err != nil {
		return 0, st.opErr("purge delete markers", "", err)
	}
	for i, l := range old {
		if err := stream.Purge(ctx, jetstream.WithPurgeSubject(st.subjectPrefix()+l.key), jetstream.WithPurgeSequence(l.rev+1)); err != nil {
			return i, st.opErr("purge delete markers", "", err)
		}
	}
	return len(old), nil
}

// purge runs PurgeDeletes every purgeEvery until Close.
func (st *Store) purge() {
	defer close(st.purged)
	age := st.spec.PurgeDeletes
	t := time.NewTicker(purgeEvery(age))
	defer t.Stop()
	ctx := st.life // ended by Close, right after it closes st.stop
	for {
		select {
		case <-st.stop:
			return
		case <-t.C:
		}
		n, err := st.PurgeDeletes(ctx, age)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			st.log.Debug("nats storage: purging delete markers", "bucket", st.spec.Bucket, "err", err)
		case n > 0:
			st.log.Debug("nats storage: purged delete markers", "bucket", st.spec.Bucket, "count", n)
		}
	}
}

// resync compares the cache with the bucket's present keys: what the
// cache holds from before the scan and the bucket no longer has (its
// marker purged before the watch saw it) goes, and the bucket's entries
// newer than the cache's come in.
func (st *Store) resync(ctx context.Context) error {
	present := map[string]bool{}
	type put struct {
		l lastOf
		e naming.Entry
	}
	var puts []put
	upTo, err := st.scanLast(ctx, false, func(l lastOf) {
		present[l.key] = true
		if l.deleted {
			puts = append(puts, put{l: l})
			return
		}
		e, err := st.decode(l.key, l.data)
		if err != nil {
			return
		}
		puts = append(puts, put{l: l, e: e})
	})
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	removed := 0
	for key, n := range st.c.byKey {
		if !present[key] && n.rev <= upTo {
			st.c.unlink(key)
			removed++
		}
	}
	for _, p := range puts {
		if p.l.deleted {
			st.c.deleted(p.l.key, p.l.rev)
		} else {
			st.c.put(p.l.key, p.l.rev, p.e)
		}
	}
	if removed > 0 {
		st.log.Info("nats storage: resync removed names whose removal the watch missed", "bucket", st.spec.Bucket, "count", removed)
	}
	return nil
}
