//go:build unix

package sqlstore

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A new database and its side files are 0600 whatever the umask (they
// were 0644 under the usual umask 022).
func TestNewFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "ns.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPut(t, s, "a", "PYRO:a@localhost:1") // the -wal and -shm files exist while the store is open
	for _, name := range []string{"ns.db", "ns.db-wal", "ns.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, m)
		}
	}
}

// An existing file keeps its mode; one every user may write is refused.
func TestExistingFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("0640 file: %v", err)
	}
	s.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %04o", fi.Mode().Perm())
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path); !errors.Is(err, ErrUnsafeFile) {
		if s != nil {
			s.Close()
		}
		t.Errorf("world-writable file: %v", err)
	}
	// a world-writable side file too
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", nil, 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path+"-wal", 0o666)
	if s, err := Open(path); !errors.Is(err, ErrUnsafeFile) {
		if s != nil {
			s.Close()
		}
		t.Errorf("world-writable -wal file: %v", err)
	}
}

// A symbolic link planted as the database or as one of its side files
// is refused, and what it points to is neither created nor changed.
func TestPlantedSymlinksRefused(t *testing.T) {
	for _, suffix := range append([]string{""}, sideSuffixes...) {
		for _, dangling := range []bool{false, true} {
			dir := t.TempDir()
			path := filepath.Join(dir, "ns.db")
			target := filepath.Join(dir, "victim")
			if !dangling {
				if err := os.WriteFile(target, nil, 0o644); err != nil { // empty: SQLite would take it for a new database
					t.Fatal(err)
				}
			}
			if err := os.Symlink(target, path+suffix); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path)
			if s != nil {
				s.Close()
			}
			if !errors.Is(err, ErrUnsafeFile) || err.Error() != "sqlite error in open: "+path+suffix+": refused: it is a symbolic link" {
				t.Errorf("link as %q (dangling %v): %v", "ns.db"+suffix, dangling, err)
			}
			fi, statErr := os.Stat(target)
			switch {
			case dangling && statErr == nil:
				t.Errorf("link as %q: its target was created", "ns.db"+suffix)
			case !dangling && (statErr != nil || fi.Size() != 0):
				t.Errorf("link as %q: its target changed: %v %v", "ns.db"+suffix, fi, statErr)
			}
		}
	}
	// not a regular file
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "ns.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(dir, "ns.db")); !errors.Is(err, ErrUnsafeFile) {
		t.Errorf("directory: %v", err)
	}
}
