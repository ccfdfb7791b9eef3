// Package sqlitefile checks the files of a SQLite database before a store
// opens them (naming/sqlstore, events/sqlstore): no symbolic links, only
// regular files, none writable by every user, a new file created 0600.
package sqlitefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// SideSuffixes are the files SQLite keeps next to a database: the
// write-ahead log, its shared-memory index, and the rollback journal.
var SideSuffixes = []string{"-wal", "-shm", "-journal"}

// ErrUnsafe is matched (errors.Is) by Prepare's error for a database
// file or side file that is a symbolic link, not a regular file, or
// writable by every user.
var ErrUnsafe = errors.New("unsafe database file")

// unsafeFile is an Open refusal naming the file and why.
type unsafeFile struct {
	path, why string
}

func (e *unsafeFile) Error() string { return fmt.Sprintf("%s: refused: %s", e.path, e.why) }

// Is makes errors.Is(err, ErrUnsafe) true.
func (e *unsafeFile) Is(target error) bool { return target == ErrUnsafe }

// Prepare checks the database file at abs and its side files before
// SQLite opens them, and creates the database file with mode 0600 when
// it does not exist. SQLite gives the side files it creates the database
// file's mode, so a new database and its -wal and -shm files are 0600
// whatever the umask. An existing file keeps its mode. Refused: a
// symbolic link (a planted link would make the server write where
// the link points, or create a file there), anything but a regular file,
// and a file every user may write (anyone could then rewrite the
// contents).
func Prepare(abs string) error {
	for _, suffix := range SideSuffixes {
		if err := checkFile(abs + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return pathError(err)
		}
	}
	for range 3 { // the file may appear between the check and the creation
		err := checkFile(abs)
		if !errors.Is(err, fs.ErrNotExist) {
			return pathError(err)
		}
		// O_EXCL: never through a symbolic link, never an existing file
		f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return pathError(err)
		}
		return pathError(f.Close())
	}
	return &unsafeFile{abs, "it keeps being replaced while it is opened"}
}

// checkFile returns an *unsafeFile error for an existing path that must
// not be opened, fs.ErrNotExist (wrapped) when there is no such file,
// and nil for an acceptable file.
func checkFile(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return &unsafeFile{path, "it is a symbolic link"}
	case !m.IsRegular():
		return &unsafeFile{path, "it is not a regular file"}
	case m.Perm()&0o002 != 0 && runtime.GOOS != "windows": // Windows has no such bits (writable files show 0666)
		return &unsafeFile{path, fmt.Sprintf("every user may write it (mode %04o; chmod o-w it)", m.Perm())}
	}
	return nil
}

// pathError words a file system error as Open's other errors are: "PATH:
// reason" (an *fs.PathError says "open PATH: reason").
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
