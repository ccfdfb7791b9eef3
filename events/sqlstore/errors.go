package sqlstore

import (
	"errors"
	"fmt"
	"github.com/pyrogo/pyro/internal/sqlitefile"
)

// Errors of Open, matched with errors.Is.
var (
	// ErrNotEventStore: the file is not a pyrogo event store (another
	// SQLite database, such as a name server's, or not a database).
	ErrNotEventStore = errors.New("not an event store")
	// ErrLocked: another live process (another event server) has the
	// file open.
	ErrLocked = errors.New("event store in use by another process")
	// ErrCorrupt: SQLite found the file damaged.
	ErrCorrupt = errors.New("event store damaged")
)

// SQLite's primary result codes this package tells apart.
const (
	codeBusy    = 5
	codeLocked  = 6
	codeCorrupt = 11
	codeNotADB  = 26
)

// sqliteCode returns the primary result code of a driver error, or 0.
func sqliteCode(err error) int {
	var c interface{ Code() int }
	if errors.As(err, &c) {
		return c.Code() & 0xff
	}
	return 0
}

// classify gives an Open error its sentinel, by SQLite's result code.
func classify(path string, err error) error {
	if err == nil {
		return nil
	}
	switch sqliteCode(err) {
	case codeBusy, codeLocked:
		return fmt.Errorf("%s: %w (another event server, or another program, holds its lock): %w", path, ErrLocked, err)
	case codeCorrupt:
		return fmt.Errorf("%s: %w: %w", path, ErrCorrupt, err)
	case codeNotADB:
		return fmt.Errorf("%s: %w (not a SQLite database): %w", path, ErrNotEventStore, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// ErrUnsafeFile is matched (errors.Is) by Open's error for a database
// file or side file that is a symbolic link, not a regular file, or
// writable by every user (the name server's sql store refuses the same).
var ErrUnsafeFile = sqlitefile.ErrUnsafe

// prepareFile checks the file and its side files and creates a new file
// with mode 0600.
func prepareFile(abs string) error { return sqlitefile.Prepare(abs) }
