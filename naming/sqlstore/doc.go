// Package sqlstore is the name server's persistent "sql:FILE" storage: a
// SQLite database with exactly the tables Pyro4's SqlStorage uses, which
// are also Pyro5's (Pyro5/nameserver.py creates the same two tables with
// the same columns and migrates old files the same way), so a Go name
// server ("pyro ns -s sql:FILE"), Python's pyro4-ns ("-s sql:FILE") and
// Pyro5's name server (python -m Pyro5.nameserver -s sql:FILE) can open
// each other's files, one after the other or even at the same time. Each
// name server registers itself under Pyro.NameServer when it starts,
// replacing the entry the previous one left: Pyro4's with the tag
// "class:Pyro4.naming.NameServer", Pyro5's with
// "class:Pyro5.nameserver.NameServer", pyrogo's with both. SQLite comes from modernc.org/sqlite, a pure-Go
// translation of the C library: no cgo is needed.
//
// Importing the package registers the "sql" scheme with
// naming.RegisterStorage, so that naming.OpenStorage("sql:FILE") works:
//
//	import _ "github.com/pyrogo/pyro/naming/sqlstore"
//
// Open can also be called directly and the Store handed to
// naming.WithStorage.
//
// # Schema
//
// The tables are Pyro4's and Pyro5's:
//
//	pyro_names(id integer PRIMARY KEY, name nvarchar NOT NULL UNIQUE, uri nvarchar NOT NULL)
//	pyro_metadata(object integer NOT NULL, metadata nvarchar NOT NULL,
//	              FOREIGN KEY(object) REFERENCES pyro_names(id))
//
// A file from an old Pyro4 that has pyro_names but no pyro_metadata is
// migrated as Pyro does it (its names keep their URIs and get no
// metadata). Open also adds two indexes that Pyro lacks, on
// pyro_metadata(object, metadata) and pyro_metadata(metadata, object):
// without them every lookup scans the whole metadata table. They change
// nothing for Python, whose SQLite keeps them up to date when it writes.
// Like Pyro, a registration that is replaced is deleted and inserted
// again, so it gets a new id and moves to the end of the listing order
// (the order of id).
//
// # Durability and concurrency
//
// The database is switched to write-ahead logging (PRAGMA
// journal_mode=WAL, which is a lasting property of the file; Python's
// sqlite3 handles it transparently) and every connection runs with
// PRAGMA synchronous=FULL. Every Put and Delete is one transaction whose
// commit appends to the log and fsyncs it before the call returns, so a
// write survives not only a SIGKILL of the process right after the call
// but also a power failure; a later Open, by Go or Python, replays the log.
// WAL was chosen over the rollback journal because a commit costs one
// fsync instead of three or four, and because readers and the single
// writer never block each other: lookups go on during a registration, and
// a long listing does not hold up a Python name server's writes. When the
// last connection to the file closes, SQLite folds the log back into the
// main file and removes the -wal and -shm side files, so a stopped name
// server leaves one self-contained file, as Pyro's does. Write-ahead
// logging needs shared memory between the processes using the file, so
// the file must be on a local file system (not NFS or SMB), and every
// process using it on the same machine.
//
// A Store is safe for concurrent use: reads run in parallel on a pool of
// connections, writes from one process are serialised by a mutex, and a
// busy timeout (BusyTimeout) makes a write wait while another process,
// such as a Python name server on the same file, holds the write lock,
// instead of failing with "database is locked". Write transactions start
// with BEGIN IMMEDIATE, so they never deadlock on a lock upgrade.
//
// # Prefix listing
//
// ListPrefix returns exactly the names that start with the prefix, case
// and all, as strings.HasPrefix does and as the name server's memory
// storage does. This deliberately differs from Pyro4's SqlStorage, which
// uses LIKE 'prefix%' (as does Pyro5's): there the match ignores ASCII case and "%" and "_"
// in the prefix are wildcards, so list(prefix=...) answers differently
// depending on the storage. Here the storage never changes the answer.
// It is a range query on the unique index of name (name >= prefix and
// name < the next string after all that start with prefix), in SQLite's
// byte order.
//
// # Files and permissions
//
// A new database file is created with mode 0600 (owner only, whatever
// the umask), and SQLite gives its -wal and -shm side files the database
// file's mode, so the registrations are private to the name server's
// user. Pyro4 creates its file with the process umask (typically 0644,
// readable by every local user).
//
// An existing file keeps its mode: Open neither widens nor narrows it, so
// a file shared on purpose (say 0660 with a group that runs a Python name
// server on it) stays usable; chmod 600 a file that pyro4-ns created if
// the registrations are private. Open refuses, with an error matching
// ErrUnsafeFile and naming the file, a database file or side file that
// every user may write (anyone could rewrite the registrations), that is
// not a regular file, or that is a symbolic link: a link planted where
// the database or its side files will be (in a shared directory, for
// instance) would otherwise make the name server create or write the file
// it points to. The database is created with O_EXCL, which never follows
// a link. Keep the file in a directory that only its owner can write.
//
// # Errors
//
// Failures are plain Go errors whose text follows Pyro's NamingError
// messages, "sqlite error in <operation>: <SQLite's message>", with the
// operation named as in Pyro's SqlStorage (getitem, setitem,
// remove_items, len, everything, optimized_prefix_list,
// optimized_metadata_search) or open and close; the naming package turns
// them into NamingError for remote callers. The SQLite error is wrapped
// (errors.As reaches it).
package sqlstore
