package sqlstore

import "github.com/pyrogo/pyro/internal/sqlitefile"

// sideSuffixes are the files SQLite keeps next to a database: the
// write-ahead log, its shared-memory index, and the rollback journal.
var sideSuffixes = sqlitefile.SideSuffixes

// ErrUnsafeFile is matched (errors.Is) by Open's error for a database file
// or side file that is a symbolic link, not a regular file, or writable
// by every user.
var ErrUnsafeFile = sqlitefile.ErrUnsafe

// prepareFiles checks the database file at abs and its side files before
// SQLite opens them, and creates the database file with mode 0600 when
// it does not exist (internal/sqlitefile.Prepare). Refused: a symbolic
// link (a planted link would make the name server write where the link
// points, or create a file there), anything but a regular file, and a
// file every user may write (anyone could then rewrite the
// registrations).
func prepareFiles(abs string) error { return sqlitefile.Prepare(abs) }
