package pyro

import (
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Brute force: slow guessing down without locking anybody out.
//
// Every answer to a proof, right or wrong, is sent only after a delay
// computed, before the proof is checked, from the failures seen so far:
//
//   - the failures of the proof's source (its IP address; an IPv6 /64;
//     the peer's uid on a unix socket), a count that halves every
//     authSourceHalfLife: n failures delay the source's next answers by
//     1 s·2^(n-1), up to AuthPenaltyMax (30 s);
//   - the failures of all sources, a count that halves every
//     authGlobalHalfLife and to which each source adds only its first
//     failures (so one client that keeps failing does not slow the
//     others): beyond authGlobalFree it delays the answers of every
//     source that has not authenticated successfully in the last hour,
//     1 s doubling every 4 failures, up to AuthPenaltyMax.
//
// The delay does not depend on whether the proof is right, so a client
// cannot tell a right guess early by an answer that comes at once: a
// guess costs a connection held for the delay. A right passphrase is
// never refused (no lockout); during an attack its answer may wait. The
// connection is held meanwhile, counting against MAXCONNECTIONS and
// per-host limits; a client that hangs up gets no answer. With a sources
// at its disposal, each holding c connections, an attacker makes at most
// about a·c guesses per AuthPenaltyMax once the counts have grown.

// AuthPenaltyMax is the longest delay of an authentication answer.
const AuthPenaltyMax = 30 * time.Second

// Parameters of the delays (see above).
const (
	authPenaltyUnit    = time.Second
	authSourceHalfLife = 2 * time.Minute
	authGlobalHalfLife = time.Minute
	authGlobalFree     = 8 // global failures (decayed) before the global delay starts
	authGlobalStep     = 4 // global failures per doubling of the global delay
	authGlobalPerSrc   = 2 // a source adds to the global count while its own count is below this
	authKnownGood      = time.Hour
	maxAuthSources     = 4096 // sources remembered; beyond, the faded ones and then a random quarter give way
)

// decayCount is a count that halves every half-life.
type decayCount struct {
	v  float64
	at time.Time
}

func (c decayCount) value(now time.Time, halfLife time.Duration) float64 {
	if c.v == 0 {
		return 0
	}
	dt := now.Sub(c.at)
	if dt <= 0 {
		return c.v
	}
	return c.v * math.Exp2(-float64(dt)/float64(halfLife))
}

func (c *decayCount) add(now time.Time, halfLife time.Duration, x float64) {
	c.v = c.value(now, halfLife) + x
	c.at = now
}

// authSourceState is what the limiter remembers of one source.
type authSourceState struct {
	fails decayCount
	good  time.Time // last successful authentication
}

// guessLimiter computes the delays and keeps the counts. Its zero value
// is ready.
type guessLimiter struct {
	mu      sync.Mutex
	global  decayCount
	sources map[string]*authSourceState

	// for tests
	unit     time.Duration                                     // 0: authPenaltyUnit
	now      func() time.Time                                  // nil: time.Now
	onSettle func(source string, ok bool, delay time.Duration) // called for each proof
	failures atomic.Int64
}

func (l *guessLimiter) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// penalty is unit·2^x, capped at AuthPenaltyMax·unit/authPenaltyUnit.
func (l *guessLimiter) penalty(x float64) time.Duration {
	unit := l.unit
	if unit <= 0 {
		unit = authPenaltyUnit
	}
	max := AuthPenaltyMax / authPenaltyUnit * unit
	if x > 20 {
		return max
	}
	d := time.Duration(float64(unit) * math.Exp2(x))
	return min(d, max)
}

// settle records the outcome of a proof from source and returns the delay
// its answer must wait: the one the failures before it impose, whatever
// the outcome.
func (l *guessLimiter) settle(source string, ok bool) time.Duration {
	now := l.clock()
	l.mu.Lock()
	s := l.sources[source]
	var delay time.Duration
	var own float64
	if s != nil {
		own = s.fails.value(now, authSourceHalfLife)
		if n := math.Round(own); n >= 1 {
			delay = l.penalty(n - 1)
		}
	}
	if s == nil || s.good.IsZero() || now.Sub(s.good) > authKnownGood {
		if g := l.global.value(now, authGlobalHalfLife); g >= authGlobalFree {
			delay = max(delay, l.penalty((g-authGlobalFree)/authGlobalStep))
		}
	}
	if s == nil {
		s = &authSourceState{}
		l.remember(source, s, now)
	}
	if ok {
		s.good = now
	} else {
		if own < authGlobalPerSrc {
			l.global.add(now, authGlobalHalfLife, 1)
		}
		s.fails.add(now, authSourceHalfLife, 1)
	}
	l.mu.Unlock()
	if !ok {
		l.failures.Add(1)
	}
	if l.onSettle != nil {
		l.onSettle(source, ok, delay)
	}
	return delay
}

// remember adds a source, making room first when the table is full: the
// sources with nothing left to remember go, and if that is not enough, a
// quarter of the table chosen at random. l.mu is held.
func (l *guessLimiter) remember(source string, s *authSourceState, now time.Time) {
	if l.sources == nil {
		l.sources = map[string]*authSourceState{}
	}
	if len(l.sources) >= maxAuthSources {
		for k, x := range l.sources {
			if x.fails.value(now, authSourceHalfLife) < 0.5 && (x.good.IsZero() || now.Sub(x.good) > authKnownGood) {
				delete(l.sources, k)
			}
		}
		if len(l.sources) >= maxAuthSources {
			for k := range l.sources { // map order is random
				delete(l.sources, k)
				if len(l.sources) < maxAuthSources*3/4 {
					break
				}
			}
		}
	}
	l.sources[source] = s
}

// size returns the number of sources remembered.
func (l *guessLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sources)
}

// authSource names the source of a connection for the limiter: its IP
// address (an IPv6 address by its /64, which one subscriber usually
// holds whole), or on a unix socket the peer's uid when the kernel tells
// it.
func authSource(info *ConnInfo) string {
	ip, ok := peerIP(info.RemoteAddr)
	if !ok {
		if _, isUnix := info.RemoteAddr.(*net.UnixAddr); isUnix && info.conn != nil {
			if pc, err := info.PeerCredentials(); err == nil {
				return "uid:" + strconv.Itoa(pc.UID)
			}
		}
		return "unix"
	}
	ip = ip.WithZone("")
	if ip.Is6() && !ip.IsLoopback() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
