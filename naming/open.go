package naming

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ErrStorageSpec is matched (errors.Is) by OpenStorage's errors for a
// spec it cannot use at all (unknown or unsupported type), as opposed to
// a storage that failed to open.
var ErrStorageSpec = errors.New("bad storage spec")

// specError is an OpenStorage error for the spec itself.
type specError struct{ msg string }

// Error returns the message.
func (e *specError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrStorageSpec) true.
func (e *specError) Is(target error) bool { return target == ErrStorageSpec }

// StorageOpener opens a storage from the part of a storage spec after
// "scheme:" (for "sql:/var/ns.db", the file name "/var/ns.db").
type StorageOpener func(arg string) (Storage, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]StorageOpener{}
)

// RegisterStorage makes a storage scheme available to OpenStorage, as
// "scheme:arg". Storage packages call it from an init function (package
// naming/sqlstore registers "sql"), so importing them is enough. It
// panics if the scheme is empty, "memory", or already registered.
func RegisterStorage(scheme string, open StorageOpener) {
	if scheme == "" || scheme == "memory" || strings.Contains(scheme, ":") || open == nil {
		panic("naming: RegisterStorage: invalid scheme " + scheme)
	}
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("naming: RegisterStorage: scheme " + scheme + " registered twice")
	}
	openers[scheme] = open
}

// StorageSchemes returns the registered schemes, sorted, with "memory".
func StorageSchemes() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	out := []string{"memory"}
	for s := range openers {
		out = append(out, s)
	}
	sort.Strings(out[1:])
	return out
}

// OpenStorage opens a storage from a pyro4-ns -s spec: "memory" (or "")
// for a new MemoryStorage, or "scheme:arg" for a registered scheme, such
// as "sql:FILE" once naming/sqlstore is imported. Pyro's "dbm:FILE" is not
// supported. An unknown spec gives Pyro's message "invalid storage type".
func OpenStorage(spec string) (Storage, error) {
	if spec == "" || spec == "memory" {
		return NewMemoryStorage(), nil
	}
	scheme, arg, ok := strings.Cut(spec, ":")
	if ok && arg != "" {
		openersMu.RLock()
		open := openers[scheme]
		openersMu.RUnlock()
		if open != nil {
			return open(arg)
		}
		if scheme == "dbm" {
			return nil, &specError{"storage type 'dbm' is not supported by pyrogo (use sql:FILE)"}
		}
		if scheme == "sql" {
			return nil, &specError{"storage type 'sql' is not available in this program (import github.com/pyrogo/pyro/naming/sqlstore)"}
		}
	}
	return nil, &specError{fmt.Sprintf("invalid storage type '%s'", spec)}
}
