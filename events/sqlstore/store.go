package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/sqlitefile"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// LockWait is how long Open waits for the file's lock before it fails
// with ErrLocked: long enough for a killed server's process to be gone,
// short enough that a second server started on the same file says so
// at once.
const LockWait = 2 * time.Second

// applicationID marks the file as a pyrogo event store ("PyES") in its
// header (PRAGMA application_id); schemaVersion is its user_version.
const (
	applicationID = 0x50794553
	schemaVersion = 1
)

const schema = `
CREATE TABLE es_subscribers (
	id integer PRIMARY KEY,
	uri text NOT NULL UNIQUE
);
CREATE TABLE es_subs (
	subscriber integer NOT NULL REFERENCES es_subscribers(id),
	kind integer NOT NULL,
	subject text NOT NULL,
	network text NOT NULL,
	addr text NOT NULL,
	identity text NOT NULL,
	cn text NOT NULL,
	PRIMARY KEY (subscriber, kind, subject)
) WITHOUT ROWID;
CREATE TABLE es_events (
	seq integer PRIMARY KEY AUTOINCREMENT,
	subject text NOT NULL,
	msg blob NOT NULL,
	time real NOT NULL,
	refs integer NOT NULL
);
CREATE TABLE es_streams (
	subscriber integer NOT NULL REFERENCES es_subscribers(id),
	seq integer NOT NULL REFERENCES es_events(seq),
	PRIMARY KEY (subscriber, seq)
) WITHOUT ROWID;
`

// SQL text of the operations.
const (
	sqlInsSubscriber = `INSERT OR IGNORE INTO es_subscribers(uri) VALUES (?)`
	sqlSubscriberID  = `SELECT id FROM es_subscribers WHERE uri = ?`
	sqlInsSub        = `INSERT OR IGNORE INTO es_subs(subscriber, kind, subject, network, addr, identity, cn) VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlDelSub        = `DELETE FROM es_subs WHERE subscriber = ? AND kind = ? AND subject = ?`
	sqlInsEvent      = `INSERT INTO es_events(subject, msg, time, refs) VALUES (?, ?, ?, ?)`
	sqlInsStream     = `INSERT INTO es_streams(subscriber, seq) VALUES (?, ?)`
	// forgetting the events of a stream up to a seq: the events lose a
	// reference, those left with none are deleted, then the stream rows
	sqlUnref   = `UPDATE es_events SET refs = refs - 1 WHERE seq IN (SELECT seq FROM es_streams WHERE subscriber = ?1 AND seq <= ?2)`
	sqlDelFree = `DELETE FROM es_events WHERE refs <= 0 AND seq IN (SELECT seq FROM es_streams WHERE subscriber = ?1 AND seq <= ?2)`
	sqlDelRows = `DELETE FROM es_streams WHERE subscriber = ?1 AND seq <= ?2`

	sqlDelSubs       = `DELETE FROM es_subs WHERE subscriber = ?`
	sqlDelSubscriber = `DELETE FROM es_subscribers WHERE id = ?`
	sqlAllSubs       = `SELECT u.uri, s.kind, s.subject, s.network, s.addr, s.identity, s.cn FROM es_subs AS s JOIN es_subscribers AS u ON u.id = s.subscriber ORDER BY u.id, s.kind, s.subject`
	sqlPending       = `SELECT e.seq, e.subject, e.msg, e.time FROM es_streams AS s JOIN es_events AS e ON e.seq = s.seq WHERE s.subscriber = ? ORDER BY s.seq`
)

// maxSeq is the largest sequence number (SQLite integers are signed).
const maxSeq = 1<<63 - 1

// Store is an events.Store in a SQLite file that one process at a time
// may use. It is safe for concurrent use; see the package documentation.
type Store struct {
	db   *sql.DB
	conn *sql.Conn // the one connection, which holds the file's lock
	path string

	mu  sync.Mutex       // serialises the use of conn
	ids map[string]int64 // subscriber URI -> es_subscribers.id
	enc codec.Codec

	stmts map[string]*sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

var (
	_ events.Store   = (*Store)(nil)
	_ events.Durable = (*Store)(nil)
)

func init() {
	events.RegisterStore("sql", func(arg string) (events.Store, error) {
		s, err := Open(arg)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}

// Open opens the event store in the SQLite file at path, creating it
// (mode 0600) when it does not exist. It fails with ErrLocked when
// another process has the store open (the lock is the file's own SQLite
// lock, held while the store is open and released by the system when
// the process ends, also by SIGKILL), with ErrNotEventStore for a file
// that is not an event store, and with ErrCorrupt when SQLite's
// quick_check finds the file damaged.
func Open(path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("events/sqlstore: %q is not a file name (sql:FILE needs one; use memory for a store that does not survive a restart)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("events/sqlstore: %w", err)
	}
	if err := prepareFile(abs); err != nil {
		return nil, fmt.Errorf("events/sqlstore: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("events/sqlstore: %s: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	s := &Store{db: db, path: abs, ids: map[string]int64{}, enc: codec.Default(codec.IDMarshal)}
	if err := s.setup(); err != nil {
		s.closeAll()
		return nil, fmt.Errorf("events/sqlstore: %w", err)
	}
	return s, nil
}

// dsn is the driver's data source name for abs: exclusive locking (the
// connection keeps the file locked from its first use on, and SQLite
// then keeps the write-ahead log's index in memory rather than in a
// shared -shm file), write-ahead logging, and synchronous=FULL: a commit
// is on disk when it returns.
func dsn(abs string) string {
	return sqlitefile.DSN(abs, "busy_timeout("+strconv.FormatInt(LockWait.Milliseconds(), 10)+")",
		"locking_mode(EXCLUSIVE)", "journal_mode(WAL)", "synchronous(FULL)")
}

func (s *Store) setup() error {
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return classify(s.path, err)
	}
	s.conn = conn
	// a write transaction takes the lock (kept: exclusive locking) and
	// creates the schema of a new file
	if err := s.write(s.schema); err != nil {
		return classify(s.path, err)
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{sqlInsSubscriber, sqlSubscriberID, sqlInsSub, sqlDelSub, sqlInsEvent, sqlInsStream,
		sqlUnref, sqlDelFree, sqlDelRows, sqlDelSubs, sqlDelSubscriber, sqlPending} {
		st, err := conn.PrepareContext(ctx, q)
		if err != nil {
			return classify(s.path, err)
		}
		s.stmts[q] = st
	}
	rows, err := conn.QueryContext(ctx, `SELECT id, uri FROM es_subscribers`)
	if err != nil {
		return classify(s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var uri string
		if err := rows.Scan(&id, &uri); err != nil {
			return classify(s.path, err)
		}
		s.ids[uri] = id
	}
	return classify(s.path, rows.Err())
}

// schema creates the tables in a new (empty) database and refuses one
// that is not an event store of this version.
func (s *Store) schema(tx *sql.Tx) error {
	var app, version, tables int64
	if err := tx.QueryRow(`PRAGMA application_id`).Scan(&app); err != nil {
		return err
	}
	if err := tx.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if err := tx.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&tables); err != nil {
		return err
	}
	switch {
	case app == 0 && version == 0 && tables == 0:
		if _, err := tx.Exec(schema); err != nil {
			return err
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = %d`, applicationID, schemaVersion)); err != nil {
			return err
		}
		return nil
	case app != applicationID:
		return fmt.Errorf("%s: %w (a SQLite database with %d tables and application id %#x, not a pyrogo event store's %#x)",
			s.path, ErrNotEventStore, tables, app, applicationID)
	case version != schemaVersion:
		return fmt.Errorf("%s: %w: schema version %d, this pyrogo reads version %d", s.path, ErrNotEventStore, version, schemaVersion)
	}
	return nil
}

// check runs SQLite's quick_check on the file.
func (s *Store) check(ctx context.Context) error {
	rows, err := s.conn.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return classify(s.path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return classify(s.path, err)
		}
		if line != "ok" && len(problems) < 5 {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(s.path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w: %s", s.path, ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// write runs fn in a write transaction and commits it; the commit is
// durable when write returns. s.mu must not be held.
func (s *Store) write(fn func(tx *sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(fn)
}

func (s *Store) writeLocked(fn func(tx *sql.Tx) error) error {
	if s.conn == nil {
		return errors.New("events/sqlstore: store closed")
	}
	tx, err := s.conn.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Store) st(tx *sql.Tx, q string) *sql.Stmt { return tx.Stmt(s.stmts[q]) }

// wrap names the operation and the file in an error.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("events/sqlstore: %s: %s: %w", op, s.path, err)
}

// Path returns the absolute name of the database file.
func (s *Store) Path() string { return s.path }

// Durable reports true: the streams survive a restart.
func (s *Store) Durable() bool { return true }

// AddSub records a subscription (one already recorded keeps its Client).
func (s *Store) AddSub(sub events.Sub) error {
	var newID int64
	err := s.write(func(tx *sql.Tx) error {
		id, ok := s.ids[sub.Subscriber]
		if !ok {
			if _, err := s.st(tx, sqlInsSubscriber).Exec(sub.Subscriber); err != nil {
				return err
			}
			if err := s.st(tx, sqlSubscriberID).QueryRow(sub.Subscriber).Scan(&id); err != nil {
				return err
			}
			newID = id
		}
		c := sub.Client
		_, err := s.st(tx, sqlInsSub).Exec(id, int64(sub.Kind), sub.Subject, c.Network, c.Addr, c.Identity, c.CommonName)
		return err
	})
	if err == nil && newID != 0 {
		s.mu.Lock()
		s.ids[sub.Subscriber] = newID
		s.mu.Unlock()
	}
	return s.wrap("adding a subscription", err)
}

// RemoveSub forgets a subscription (the subscriber's stream stays; the
// service removes a subscriber left without subscriptions).
func (s *Store) RemoveSub(sub events.Sub) error {
	return s.wrap("removing a subscription", s.write(func(tx *sql.Tx) error {
		id, ok := s.ids[sub.Subscriber]
		if !ok {
			return nil
		}
		_, err := s.st(tx, sqlDelSub).Exec(id, int64(sub.Kind), sub.Subject)
		return err
	}))
}

// RemoveSubscriber forgets the subscriber, its subscriptions and its
// stream (events no other stream holds are deleted).
func (s *Store) RemoveSubscriber(subscriber string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.ids[subscriber]
	if !ok {
		return nil
	}
	err := s.writeLocked(func(tx *sql.Tx) error {
		if err := s.forget(tx, id, maxSeq); err != nil {
			return err
		}
		if _, err := s.st(tx, sqlDelSubs).Exec(id); err != nil {
			return err
		}
		_, err := s.st(tx, sqlDelSubscriber).Exec(id)
		return err
	})
	if err == nil {
		delete(s.ids, subscriber)
	}
	return s.wrap("removing a subscriber", err)
}

// forget drops the events of stream id up to seq.
func (s *Store) forget(tx *sql.Tx, id int64, seq uint64) error {
	for _, q := range []string{sqlUnref, sqlDelFree, sqlDelRows} {
		if _, err := s.st(tx, q).Exec(id, int64(min(seq, maxSeq))); err != nil {
			return err
		}
	}
	return nil
}

// Subs returns the subscriptions.
func (s *Store) Subs() ([]events.Sub, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, errors.New("events/sqlstore: store closed")
	}
	rows, err := s.conn.QueryContext(context.Background(), sqlAllSubs)
	if err != nil {
		return nil, s.wrap("reading the subscriptions", err)
	}
	defer rows.Close()
	var out []events.Sub
	for rows.Next() {
		var sub events.Sub
		var kind int64
		c := &sub.Client
		if err := rows.Scan(&sub.Subscriber, &kind, &sub.Subject, &c.Network, &c.Addr, &c.Identity, &c.CommonName); err != nil {
			return nil, s.wrap("reading the subscriptions", err)
		}
		sub.Kind = events.Kind(kind)
		out = append(out, sub)
	}
	return out, s.wrap("reading the subscriptions", rows.Err())
}

// Append stores the records in one durable transaction: each event once
// (its message encoded once), and a row in the stream of each of its
// subscribers. Subscribers not known (removed) are skipped.
func (s *Store) Append(recs []events.Record) error {
	msgs := make([][]byte, len(recs))
	for i, r := range recs {
		b, err := s.enc.Marshal(r.Event.Msg)
		if err != nil {
			return fmt.Errorf("events/sqlstore: storing the message of an event of subject %q: %w", r.Event.Subject, err)
		}
		msgs[i] = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seqs := make([]uint64, len(recs))
	err := s.writeLocked(func(tx *sql.Tx) error {
		insEvent, insStream := s.st(tx, sqlInsEvent), s.st(tx, sqlInsStream)
		ids := make([]int64, 0, 8)
		for i, r := range recs {
			ids = ids[:0]
			for _, sub := range r.Subscribers {
				if id, ok := s.ids[sub]; ok {
					ids = append(ids, id)
				}
			}
			if len(ids) == 0 {
				continue // every subscriber removed meanwhile: still numbered below
			}
			res, err := insEvent.Exec(r.Event.Subject, msgs[i], r.Event.Time, len(ids))
			if err != nil {
				return err
			}
			seq, err := res.LastInsertId()
			if err != nil {
				return err
			}
			seqs[i] = uint64(seq)
			for _, id := range ids {
				if _, err := insStream.Exec(id, seq); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap("appending events", err)
	}
	// a record whose subscribers are all gone gets the number of the
	// record before it: numbers never go down, and nobody receives it
	var last uint64
	for i := range recs {
		if seqs[i] == 0 {
			seqs[i] = last
		}
		last = seqs[i]
		recs[i].Seq = seqs[i]
	}
	return nil
}

// Ack forgets the events of subscriber's stream up to seq. Its commit
// is not synced to disk (synchronous=NORMAL for this transaction): it
// survives a crash of the process at once, and a power loss once a
// later Append (synced) or a checkpoint wrote it; an ack lost to a power
// loss only means those events are delivered again.
func (s *Store) Ack(subscriber string, seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.ids[subscriber]
	if !ok || s.conn == nil {
		return nil
	}
	ctx := context.Background()
	if _, err := s.conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return s.wrap("acknowledging events", err)
	}
	err := s.writeLocked(func(tx *sql.Tx) error { return s.forget(tx, id, seq) })
	if _, err2 := s.conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err2 != nil && err == nil {
		err = err2
	}
	return s.wrap("acknowledging events", err)
}

// Pending returns the events of subscriber's stream, in order.
func (s *Store) Pending(subscriber string) ([]events.Stored, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, errors.New("events/sqlstore: store closed")
	}
	id, ok := s.ids[subscriber]
	if !ok {
		return nil, nil
	}
	rows, err := s.stmts[sqlPending].Query(id)
	if err != nil {
		return nil, s.wrap("reading a stream", err)
	}
	defer rows.Close()
	var out []events.Stored
	for rows.Next() {
		var st events.Stored
		var seq int64
		var msg []byte
		if err := rows.Scan(&seq, &st.Event.Subject, &msg, &st.Event.Time); err != nil {
			return nil, s.wrap("reading a stream", err)
		}
		v, err := s.enc.Unmarshal(msg)
		if err != nil {
			return nil, s.wrap("reading a stream", fmt.Errorf("%w: the message of event %d: %w", ErrCorrupt, seq, err))
		}
		st.Seq, st.Event.Msg = uint64(seq), v
		out = append(out, st)
	}
	return out, s.wrap("reading a stream", rows.Err())
}

// Close closes the database, releasing its lock. Calling it again
// returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closeErr = s.wrap("close", s.closeAll())
	})
	return s.closeErr
}

func (s *Store) closeAll() error {
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	var errs []error
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
		s.conn = nil
	}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}
