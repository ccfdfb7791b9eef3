package events

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ErrStoreSpec is matched (errors.Is) by OpenStore's errors for a spec
// it cannot use at all (unknown scheme, missing argument), as opposed to
// a store that failed to open.
var ErrStoreSpec = errors.New("bad event storage spec")

// storeSpecError is an OpenStore error for the spec itself.
type storeSpecError struct{ msg string }

func (e *storeSpecError) Error() string        { return e.msg }
func (e *storeSpecError) Is(target error) bool { return target == ErrStoreSpec }

// StoreOpener opens a Store from the part of a storage spec after
// "scheme:" (for "sql:/var/es.db", the file name "/var/es.db").
type StoreOpener func(arg string) (Store, error)

var (
	storeOpenersMu sync.RWMutex
	storeOpeners   = map[string]StoreOpener{}
)

// RegisterStore makes a storage scheme available to OpenStore as
// "scheme:arg". Store packages call it from an init function, so
// importing them is enough (events/sqlstore registers "sql"). It panics
// if the scheme is empty, "memory", contains ':' or is registered twice.
func RegisterStore(scheme string, open StoreOpener) {
	if scheme == "" || scheme == "memory" || strings.Contains(scheme, ":") || open == nil {
		panic("events: RegisterStore: invalid scheme " + scheme)
	}
	storeOpenersMu.Lock()
	defer storeOpenersMu.Unlock()
	if _, dup := storeOpeners[scheme]; dup {
		panic("events: RegisterStore: scheme " + scheme + " registered twice")
	}
	storeOpeners[scheme] = open
}

// StoreSchemes returns the registered schemes, sorted, after "memory".
func StoreSchemes() []string {
	storeOpenersMu.RLock()
	defer storeOpenersMu.RUnlock()
	out := []string{"memory"}
	for s := range storeOpeners {
		out = append(out, s)
	}
	sort.Strings(out[1:])
	return out
}

// OpenStore opens a store from a `pyro es -s` spec: "memory" (or "") for
// a new MemoryStore, or "scheme:arg" for a registered scheme, such as
// "sql:FILE" once events/sqlstore is imported.
func OpenStore(spec string) (Store, error) {
	if spec == "" || spec == "memory" {
		return NewMemoryStore(), nil
	}
	scheme, arg, ok := strings.Cut(spec, ":")
	if ok && arg != "" {
		storeOpenersMu.RLock()
		open := storeOpeners[scheme]
		storeOpenersMu.RUnlock()
		if open != nil {
			return open(arg)
		}
	}
	return nil, &storeSpecError{fmt.Sprintf("invalid event storage %q (known: %s; a scheme takes an argument, as in sql:FILE)",
		spec, strings.Join(StoreSchemes(), ", "))}
}
