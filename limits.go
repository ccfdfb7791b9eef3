package pyro

import (
	"fmt"
	"time"
)

// Built-in defaults of the daemon's resource limits (Config items; see
// SECURITY.md, "Resource limits").
const (
	// defaultRequestTimeout (REQUEST_TIMEOUT) is the time a message has to
	// arrive once its first byte has, before the length allowance.
	defaultRequestTimeout = 30 * time.Second
	// defaultRequestMinRate (REQUEST_MINRATE) is the rate, in bytes per
	// second, at which the bytes of a message earn it more time: a 10 MiB
	// message arriving at 64 KiB/s or faster gets through (it takes at
	// most 160 s), one that falls 30 s behind that rate is dropped.
	defaultRequestMinRate = 64 << 10
	// defaultIterStreamMax (ITER_STREAM_MAX) bounds the item streams of a
	// daemon, lingering ones included (each holds an iterator and its
	// goroutine, about 3 KiB plus what the iterator keeps).
	defaultIterStreamMax = 4096
	// defaultIterStreamMaxConn (ITER_STREAM_MAXCONN) bounds the item
	// streams one connection holds open.
	defaultIterStreamMaxConn = 64
	// defaultOnewayMax (ONEWAY_MAX) bounds the oneway calls running at
	// once in a daemon (each is a goroutine with its arguments).
	defaultOnewayMax = 1024
	// defaultOnewayMaxConn (ONEWAY_MAXCONN) bounds the oneway calls of
	// one connection running at once; more wait (the connection is not
	// read meanwhile), none is dropped.
	defaultOnewayMaxConn = 64

	// connCapMax bounds the connection cap derived from RLIMIT_NOFILE:
	// Go raises the soft limit to the hard one, often a million, and an
	// idle connection costs memory too (goroutine, buffers): about 10 KiB
	// in `pyro echoserver` (TestEchoserverFloods), so 160 MiB at this cap.
	connCapMax = 16384
	// connCapFallback is the cap where RLIMIT_NOFILE cannot be read.
	connCapFallback = 4096
	// maxRefusing bounds the connections being refused politely (a
	// CONNECTFAIL with the reason) at once when the cap is reached and no
	// connection is idle; further ones are closed at once.
	maxRefusing = 16
)

// limits are a daemon's resource limits, resolved from its Config once.
// A zero count or duration means no limit.
type limits struct {
	idle        time.Duration // IDLE_TIMEOUT (min with COMMTIMEOUT)
	request     time.Duration // REQUEST_TIMEOUT (min with COMMTIMEOUT)
	minRate     int           // REQUEST_MINRATE, bytes/s
	connCap     int           // CONNECTION_CAP
	streams     int           // ITER_STREAM_MAX
	streamsConn int           // ITER_STREAM_MAXCONN
	oneway      int           // ONEWAY_MAX
	onewayConn  int           // ONEWAY_MAXCONN
}

// resolveLimits turns the config items into limits: 0 selects the
// built-in default, a negative value no limit. COMMTIMEOUT, when set,
// also bounds the idle time and the base time of a request, as a socket
// timeout does in Pyro.
func resolveLimits(cfg *Config) limits {
	count := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	l := limits{
		idle:        max(cfg.IdleTimeout, 0),
		minRate:     count(cfg.RequestMinRate, defaultRequestMinRate),
		connCap:     count(cfg.ConnectionCap, derivedConnCap()),
		streams:     count(cfg.IterStreamMax, defaultIterStreamMax),
		streamsConn: count(cfg.IterStreamMaxConn, defaultIterStreamMaxConn),
		oneway:      count(cfg.OnewayMax, defaultOnewayMax),
		onewayConn:  count(cfg.OnewayMaxConn, defaultOnewayMaxConn),
	}
	switch {
	case cfg.RequestTimeout == 0:
		l.request = defaultRequestTimeout
	case cfg.RequestTimeout > 0:
		l.request = cfg.RequestTimeout
	}
	if ct := cfg.CommTimeout; ct > 0 {
		if l.idle == 0 || ct < l.idle {
			l.idle = ct
		}
		if l.request == 0 || ct < l.request {
			l.request = ct
		}
	}
	return l
}

// derivedConnCap is the default CONNECTION_CAP: the process's open-file
// limit less a reserve for everything else the process opens (listeners,
// files, outgoing connections), so that a daemon never runs out of file
// descriptors on its own; at most connCapMax.
func derivedConnCap() int {
	soft, ok := openFileLimit()
	if !ok {
		return connCapFallback
	}
	return connCapFor(soft)
}

// connCapFor derives the cap from an open-file limit: the limit less an
// eighth of it (at least 32) for other files; at least 1.
func connCapFor(nofile uint64) int {
	if nofile > 1<<40 {
		nofile = 1 << 40 // "unlimited"
	}
	reserve := max(nofile/8, 32)
	if nofile <= reserve {
		return 1
	}
	return int(min(nofile-reserve, connCapMax))
}

// limitError is a refusal because a resource limit was reached; the
// client gets it as a DaemonError.
func limitError(format string, args ...any) *Error {
	return NewError(ErrDaemon, fmt.Sprintf(format, args...))
}
