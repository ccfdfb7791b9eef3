package gateway

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pyrogo/pyro/gateway/console"
)

// errDaemonBusy is the error of a request for a daemon that already has
// MaxPerDaemon requests waiting on it.
var errDaemonBusy = fmt.Errorf("gateway: too many concurrent requests for this object's daemon: %w", console.ErrBusy)

// textBusyDaemon answers a request refused with errDaemonBusy.
const textBusyDaemon = "503 Service Unavailable - too many concurrent requests for this object's daemon"

// daemonSlots counts the requests waiting on each daemon (URI location)
// and refuses more than max: a daemon that never answers, or a name
// registered to an address that swallows connections, holds at most max
// of the gateway's MaxConcurrent slots, for at most the timeout.
type daemonSlots struct {
	mu  sync.Mutex
	max int
	n   map[string]int
}

func (s *daemonSlots) init(max int) {
	s.max = max
	s.n = make(map[string]int)
}

// acquire takes a slot for loc, or fails with errDaemonBusy.
func (s *daemonSlots) acquire(loc string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[loc] >= s.max {
		return errDaemonBusy
	}
	s.n[loc]++
	return nil
}

// release gives back a slot of loc.
func (s *daemonSlots) release(loc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[loc]--; s.n[loc] <= 0 {
		delete(s.n, loc)
	}
}

// isBusy reports whether err is the refusal of a daemon's slot.
func isBusy(err error) bool { return errors.Is(err, errDaemonBusy) }
