package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pyrogo/pyro/internal/sqlitefile"
	"github.com/pyrogo/pyro/naming"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// BusyTimeout is how long an operation waits for a lock that another
// connection or process (for instance a Python name server using the same
// file) holds, before it fails with "database is locked". Python's sqlite3
// waits 5 s by default; the longer wait here means that a Go name server
// gives up after a Python one would.
const BusyTimeout = 10 * time.Second

// maxQueryTags is the largest tag list ListMetadata sends to SQLite as
// query parameters (SQLite allows 32766 per statement); longer lists are
// matched in Go over all entries.
const maxQueryTags = 10000

// memoryRefused is Pyro's message for ":memory:" (a ValueError there).
const memoryRefused = "We don't support the sqlite :memory: database type. Just use the default volatile in-memory store."

// SQL text.
const (
	createNames = `CREATE TABLE pyro_names (
	id integer PRIMARY KEY,
	name nvarchar NOT NULL UNIQUE,
	uri nvarchar NOT NULL
)`
	createMetadata = `CREATE TABLE pyro_metadata (
	object integer NOT NULL,
	metadata nvarchar NOT NULL,
	FOREIGN KEY(object) REFERENCES pyro_names(id)
)`
	createIndexes = `CREATE INDEX IF NOT EXISTS pyrogo_metadata_object ON pyro_metadata(object, metadata);
CREATE INDEX IF NOT EXISTS pyrogo_metadata_tag ON pyro_metadata(metadata, object)`

	sqlGet     = `SELECT n.uri, m.metadata FROM pyro_names AS n LEFT JOIN pyro_metadata AS m ON m.object = n.id WHERE n.name = ? ORDER BY m.metadata`
	sqlIDOf    = `SELECT id FROM pyro_names WHERE name = ?`
	sqlDelMeta = `DELETE FROM pyro_metadata WHERE object = ?`
	sqlDelName = `DELETE FROM pyro_names WHERE id = ?`
	sqlInsName = `INSERT INTO pyro_names(name, uri) VALUES (?, ?)`
	sqlInsMeta = `INSERT INTO pyro_metadata(object, metadata) VALUES (?, ?)`
	sqlLen     = `SELECT count(*) FROM pyro_names`

	// ListPrefix's conditions on pyro_names AS n (see Store.join).
	wherePrefixFrom = ` WHERE n.name >= ?`
	wherePrefix     = ` WHERE n.name >= ? AND n.name < ?`
	sqlAllNames     = `SELECT id, name, uri FROM pyro_names ORDER BY id`
	sqlAllTags      = `SELECT object, metadata FROM pyro_metadata ORDER BY object, metadata`
)

// Store is a naming.Storage in a SQLite file shared with Pyro4's
// SqlStorage. It also implements naming.PrefixLister and
// naming.MetadataLister. It is safe for concurrent use; see the package
// documentation for its durability and locking.
type Store struct {
	db   *sql.DB
	path string
	mode string

	// wmu serialises this process's write transactions, so that they
	// queue here instead of in SQLite's busy handler, which polls with
	// sleeps of up to 100 ms.
	wmu sync.Mutex

	get, idOf, delMeta, delName, insName, insMeta *sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

var (
	_ naming.Storage        = (*Store)(nil)
	_ naming.PrefixLister   = (*Store)(nil)
	_ naming.MetadataLister = (*Store)(nil)
)

func init() {
	naming.RegisterStorage("sql", func(arg string) (naming.Storage, error) {
		s, err := Open(arg)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}

// Open opens the SQLite database in the file at path, creating the file
// (mode 0600) and Pyro4's tables when they do not exist and migrating a
// metadata-less file of an old Pyro4, and switches it to write-ahead
// logging. Like Pyro it refuses ":memory:" (use naming.MemoryStorage). A
// relative path is taken from the current directory at the time of the
// call. It refuses (ErrUnsafeFile) a database file or side file (-wal,
// -shm, -journal) that is a symbolic link, not a regular file, or
// writable by every user; see the package documentation.
func Open(path string) (*Store, error) {
	if path == ":memory:" {
		//lint:ignore ST1005 Pyro's own message, word for word
		return nil, errors.New(memoryRefused)
	}
	if path == "" {
		return nil, errors.New("sqlite error in open: no database file name given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, wrap("open", err)
	}
	if err := prepareFiles(abs); err != nil {
		return nil, wrap("open", err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, wrap("open", fmt.Errorf("%s: %w", abs, err))
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := &Store{db: db, path: abs}
	if err := s.setup(); err != nil {
		db.Close()
		return nil, wrap("open", fmt.Errorf("%s: %w", abs, err)) // the error names the file
	}
	return s, nil
}

// dsn returns the driver's data source name for the file at abs: a SQLite
// URI (so that any character in the path is allowed) with the settings
// every pooled connection gets.
func dsn(abs string) string {
	return sqlitefile.DSN(abs, "busy_timeout("+strconv.FormatInt(BusyTimeout.Milliseconds(), 10)+")",
		"foreign_keys(1)", "synchronous(FULL)")
}

// setup switches the file to WAL, creates or migrates the schema and
// prepares the statements.
func (s *Store) setup() error {
	ctx := context.Background()
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&s.mode); err != nil {
		return err
	}
	if err := s.write(s.schema); err != nil {
		return err
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.get, sqlGet}, {&s.idOf, sqlIDOf}, {&s.delMeta, sqlDelMeta},
		{&s.delName, sqlDelName}, {&s.insName, sqlInsName}, {&s.insMeta, sqlInsMeta},
	} {
		st, err := s.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return err
		}
		*p.st = st
	}
	return nil
}

// schema creates Pyro's tables when pyro_names is missing, migrates a
// file that has pyro_names but no pyro_metadata as Pyro does (rename,
// create, copy the names and URIs, drop the old table), and adds the
// indexes.
func (s *Store) schema(tx *sql.Tx) error {
	has := func(table string) (bool, error) {
		var n int
		err := tx.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n)
		return n > 0, err
	}
	names, err := has("pyro_names")
	if err != nil {
		return err
	}
	meta, err := has("pyro_metadata")
	if err != nil {
		return err
	}
	var stmts []string
	switch {
	case !names:
		stmts = []string{createNames, createMetadata}
	case !meta:
		stmts = []string{
			`ALTER TABLE pyro_names RENAME TO pyro_names_old`,
			createNames, createMetadata,
			`INSERT INTO pyro_names(name, uri) SELECT name, uri FROM pyro_names_old`,
			`DROP TABLE pyro_names_old`,
		}
	}
	stmts = append(stmts, createIndexes)
	for _, q := range stmts {
		if _, err := tx.Exec(q); err != nil {
			return err
		}
	}
	return nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE) and commits it;
// the commit is durable when write returns.
func (s *Store) write(fn func(tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// wrap gives err Pyro's "sqlite error in <op>: ..." text.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite error in %s: %w", op, err)
}

// Path returns the absolute name of the database file.
func (s *Store) Path() string { return s.path }

// JournalMode returns the journal mode in effect ("wal" unless the file
// system refused write-ahead logging, in which case SQLite keeps its
// rollback journal, still with synchronous=FULL commits).
func (s *Store) JournalMode() string { return s.mode }

// Get returns the entry for name, with its tags sorted.
func (s *Store) Get(name string) (naming.Entry, bool, error) {
	rows, err := s.get.Query(name)
	if err != nil {
		return naming.Entry{}, false, wrap("getitem", err)
	}
	defer rows.Close()
	e := naming.Entry{Name: name}
	found := false
	for rows.Next() {
		var tag sql.NullString
		if err := rows.Scan(&e.URI, &tag); err != nil {
			return naming.Entry{}, false, wrap("getitem", err)
		}
		found = true
		if tag.Valid {
			e.Metadata = append(e.Metadata, tag.String)
		}
	}
	if err := rows.Err(); err != nil {
		return naming.Entry{}, false, wrap("getitem", err)
	}
	if !found {
		return naming.Entry{}, false, nil
	}
	e.Metadata = slices.Compact(e.Metadata)
	return e, true, nil
}

// Put inserts or replaces an entry in one durable transaction. As in
// Pyro, a replaced entry is deleted and inserted again (it gets a new id
// and moves to the end of the listing order); its tags are stored as a
// set.
func (s *Store) Put(e naming.Entry) error {
	tags := naming.NormalizeTags(e.Metadata)
	return wrap("setitem", s.write(func(tx *sql.Tx) error {
		st := s.txStmts(tx)
		if _, err := st.deleteName(e.Name); err != nil {
			return err
		}
		res, err := st.insName.Exec(e.Name, e.URI)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := st.insMeta.Exec(id, t); err != nil {
				return err
			}
		}
		return nil
	}))
}

// Delete removes the named entries (and their tags) in one durable
// transaction and returns how many existed.
func (s *Store) Delete(names ...string) (int, error) {
	if len(names) == 0 {
		return 0, nil
	}
	count := 0
	err := s.write(func(tx *sql.Tx) error {
		st := s.txStmts(tx)
		count = 0
		for _, name := range names {
			ok, err := st.deleteName(name)
			if err != nil {
				return err
			}
			if ok {
				count++
			}
		}
		return nil
	})
	if err != nil {
		return 0, wrap("remove_items", err)
	}
	return count, nil
}

// writeStmts are the prepared statements of the writes, bound to one
// transaction.
type writeStmts struct {
	idOf, delMeta, delName, insName, insMeta *sql.Stmt
}

// txStmts binds the write statements to tx.
func (s *Store) txStmts(tx *sql.Tx) writeStmts {
	return writeStmts{
		idOf: tx.Stmt(s.idOf), delMeta: tx.Stmt(s.delMeta), delName: tx.Stmt(s.delName),
		insName: tx.Stmt(s.insName), insMeta: tx.Stmt(s.insMeta),
	}
}

// deleteName deletes name and its tags and reports whether it existed.
func (st writeStmts) deleteName(name string) (bool, error) {
	var id int64
	err := st.idOf.QueryRow(name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := st.delMeta.Exec(id); err != nil {
		return false, err
	}
	if _, err := st.delName.Exec(id); err != nil {
		return false, err
	}
	return true, nil
}

// Len returns the number of entries.
func (s *Store) Len() (int, error) {
	var n int
	if err := s.db.QueryRow(sqlLen).Scan(&n); err != nil {
		return 0, wrap("len", err)
	}
	return n, nil
}

// All iterates over every entry in id order (registration order, a
// replaced entry counting as new), with tags sorted. It reads one
// consistent snapshot, in a read transaction on one pooled connection,
// while the loop runs; writes by others go on meanwhile (they are not
// seen), but the loop body must not write to this Store. Other calls from
// the loop body are served by other pooled connections (of which there
// are at least four).
func (s *Store) All() iter.Seq2[naming.Entry, error] {
	return func(yield func(naming.Entry, error) bool) {
		for e, err := range s.scanAll() {
			if err != nil {
				yield(naming.Entry{}, wrap("everything", err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// ListPrefix returns the entries whose name starts with prefix, compared
// byte for byte like strings.HasPrefix (no wildcards, case-sensitive,
// unlike Pyro's LIKE query), in id order.
func (s *Store) ListPrefix(prefix string) ([]naming.Entry, error) {
	var seq iter.Seq2[naming.Entry, error]
	if hi, ok := prefixEnd(prefix); ok {
		seq = s.join(wherePrefix, prefix, hi)
	} else {
		seq = s.join(wherePrefixFrom, prefix)
	}
	out, err := collect(seq, func(e naming.Entry) bool { return strings.HasPrefix(e.Name, prefix) })
	return out, wrap("optimized_prefix_list", err)
}

// prefixEnd returns the smallest string greater than every string that
// starts with prefix, in byte order; ok is false when there is none (the
// prefix is empty or all 0xFF bytes).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xFF {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), true
}

// ListMetadata returns the entries having all of the tags (all is true)
// or at least one of them, in id order. With no tags, all matches every
// entry and any matches none.
func (s *Store) ListMetadata(tags []string, all bool) ([]naming.Entry, error) {
	tags = naming.NormalizeTags(tags)
	if len(tags) == 0 && !all {
		return nil, nil
	}
	if len(tags) == 0 || len(tags) > maxQueryTags {
		want := make(map[string]bool, len(tags))
		for _, t := range tags {
			want[t] = true
		}
		out, err := collect(s.scanAll(), func(e naming.Entry) bool {
			n := 0
			for _, t := range e.Metadata {
				if want[t] {
					n++
				}
			}
			return (all && n == len(want)) || (!all && n > 0)
		})
		return out, wrap("optimized_metadata_search", err)
	}
	args := make([]any, 0, len(tags)+1)
	for _, t := range tags {
		args = append(args, t)
	}
	where := ` WHERE n.id IN (SELECT object FROM pyro_metadata WHERE metadata IN (` + strings.Repeat("?, ", len(tags)-1) + `?)`
	if all {
		// As Pyro: the entries having as many of the tags as there are.
		where += ` GROUP BY object HAVING count(DISTINCT metadata) = ?`
		args = append(args, len(tags))
	}
	where += `)`
	out, err := collect(s.join(where, args...), nil)
	return out, wrap("optimized_metadata_search", err)
}

// collect gathers the entries of seq that keep accepts (all when keep is
// nil).
func collect(seq iter.Seq2[naming.Entry, error], keep func(naming.Entry) bool) ([]naming.Entry, error) {
	var out []naming.Entry
	for e, err := range seq {
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// scanAll iterates over all entries in id order. In one read
// transaction it reads pyro_names ordered by id and pyro_metadata ordered
// by (object, metadata), both sequentially, and merges the two: for a
// whole table that is faster than a join, which looks every name's tags
// up in the index and repeats name and URI on the row of each tag.
func (s *Store) scanAll() iter.Seq2[naming.Entry, error] {
	return func(yield func(naming.Entry, error) bool) {
		tx, err := s.db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true}) // a deferred BEGIN
		if err != nil {
			yield(naming.Entry{}, err)
			return
		}
		defer tx.Rollback() //nolint:errcheck // nothing to undo
		names, err := tx.Query(sqlAllNames)
		if err != nil {
			yield(naming.Entry{}, err)
			return
		}
		defer names.Close()
		tags, err := tx.Query(sqlAllTags)
		if err != nil {
			yield(naming.Entry{}, err)
			return
		}
		defer tags.Close()
		intern := map[string]string{} // one string per distinct tag
		var tagObj int64
		var tag sql.RawBytes // never NULL (NOT NULL column)
		haveTag := false
		nextTag := func() error {
			if haveTag = tags.Next(); !haveTag {
				return tags.Err()
			}
			return tags.Scan(&tagObj, &tag)
		}
		if err := nextTag(); err != nil {
			yield(naming.Entry{}, err)
			return
		}
		for names.Next() {
			var id int64
			var e naming.Entry
			if err := names.Scan(&id, &e.Name, &e.URI); err != nil {
				yield(naming.Entry{}, err)
				return
			}
			// tagObj < id: a tag of an object missing from pyro_names
			// (impossible with foreign_keys=ON, as Pyro and pyrogo write).
			for haveTag && tagObj <= id {
				if tagObj == id {
					t, ok := intern[string(tag)]
					if !ok {
						t = string(tag)
						intern[t] = t
					}
					e.Metadata = append(e.Metadata, t)
				}
				if err := nextTag(); err != nil {
					yield(naming.Entry{}, err)
					return
				}
			}
			e.Metadata = slices.Compact(e.Metadata)
			if !yield(e, nil) {
				return
			}
		}
		if err := names.Err(); err != nil {
			yield(naming.Entry{}, err)
		}
	}
}

// Close closes the database. When no other connection (of this or
// another process) has the file open, SQLite then folds the write-ahead
// log into the file and removes the -wal and -shm files. Calling Close
// again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		for _, st := range []*sql.Stmt{s.get, s.idOf, s.delMeta, s.delName, s.insName, s.insMeta} {
			if st != nil {
				st.Close()
			}
		}
		s.closeErr = wrap("close", s.db.Close())
	})
	return s.closeErr
}

// join iterates over the entries of pyro_names AS n that satisfy where (a
// WHERE clause), in id order, with one statement: n joined with their
// tags, one row per (entry, tag), an entry without tags as one row with a
// NULL tag. For a part of the table this is faster than scanAll's two
// statements.
func (s *Store) join(where string, args ...any) iter.Seq2[naming.Entry, error] {
	q := `SELECT n.id, n.name, n.uri, m.metadata FROM pyro_names AS n LEFT JOIN pyro_metadata AS m ON m.object = n.id` +
		where + ` ORDER BY n.id, m.metadata`
	return func(yield func(naming.Entry, error) bool) {
		rows, err := s.db.Query(q, args...)
		if err != nil {
			yield(naming.Entry{}, err)
			return
		}
		defer rows.Close()
		var cur naming.Entry
		var curID int64
		have := false
		for rows.Next() {
			var id int64
			var name, uri string
			var tag sql.NullString
			if err := rows.Scan(&id, &name, &uri, &tag); err != nil {
				yield(naming.Entry{}, err)
				return
			}
			if !have || id != curID {
				if have {
					cur.Metadata = slices.Compact(cur.Metadata)
					if !yield(cur, nil) {
						return
					}
				}
				cur, curID, have = naming.Entry{Name: name, URI: uri}, id, true
			}
			if tag.Valid {
				cur.Metadata = append(cur.Metadata, tag.String)
			}
		}
		if err := rows.Err(); err != nil {
			yield(naming.Entry{}, err)
			return
		}
		if have {
			cur.Metadata = slices.Compact(cur.Metadata)
			yield(cur, nil)
		}
	}
}
