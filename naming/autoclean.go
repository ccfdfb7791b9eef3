package naming

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pyrogo/pyro"
)

// Auto-clean defaults, Pyro4's values.
const (
	minAutoclean          = 3 * time.Second
	defaultCleanTick      = 2 * time.Second
	defaultMaxUnreachable = 20 * time.Second
	defaultProbeTimeout   = 5 * time.Second
	probeWorkers          = 16
)

// AutocleanTiming configures auto-clean (Pyro's NS_AUTOCLEAN): every
// Period, the name server tries a plain connection to the address of
// every registration (except its own and Pyro.Daemon) and removes a
// registration that has been unreachable for MaxUnreachable. Zero fields
// take Pyro's values: Tick 2 s, MaxUnreachable 20 s, ProbeTimeout the
// config's COMMTIMEOUT or 5 s. Period 0 turns auto-clean off.
//
// Unlike Pyro, registrations on unix sockets are probed by connecting to
// the socket (Pyro cannot probe them and so always removes them), probes
// run in parallel, and a registration that was re-registered with another
// URI while being probed is kept (on a Shared storage, any registration
// written after the probe, whichever name server took it).
type AutocleanTiming struct {
	Period         time.Duration
	Tick           time.Duration
	MaxUnreachable time.Duration
	ProbeTimeout   time.Duration
}

// cleaner is the auto-clean loop of one name server.
type cleaner struct {
	ns          *NameServer
	t           AutocleanTiming
	log         *slog.Logger
	unreachable map[string]unreachableSince
}

type unreachableSince struct {
	uri   string
	since time.Time
}

func newCleaner(ns *NameServer, t AutocleanTiming, cfg *pyro.Config, logger *slog.Logger) *cleaner {
	if t.Tick <= 0 {
		t.Tick = defaultCleanTick
	}
	if t.MaxUnreachable <= 0 {
		t.MaxUnreachable = defaultMaxUnreachable
	}
	if t.ProbeTimeout <= 0 {
		t.ProbeTimeout = cfg.CommTimeout
		if t.ProbeTimeout <= 0 {
			t.ProbeTimeout = defaultProbeTimeout
		}
	}
	return &cleaner{ns: ns, t: t, log: logger, unreachable: map[string]unreachableSince{}}
}

// run loops until ctx is cancelled.
func (c *cleaner) run(ctx context.Context) {
	tick := time.NewTicker(c.t.Tick)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if now.Sub(last) < c.t.Period {
				continue
			}
			c.sweep(ctx)
			last = time.Now()
		}
	}
}

// sweep probes every registration once and removes the long-unreachable.
func (c *cleaner) sweep(ctx context.Context) {
	entries, err := c.ns.filter(ctx, func(e Entry) bool { return e.Name != ObjectID && e.Name != pyro.DaemonObjectID })
	if err != nil {
		c.log.Warn("naming: autoclean cannot list registrations", "err", err)
		return
	}
	// On a Shared storage, each entry is taken with its revision, and only
	// that revision is removed: a registration another name server made
	// after the probe (even of the same URI) is kept.
	sh, shared := c.ns.store.(Shared)
	var revs []uint64
	if shared {
		revs = make([]uint64, 0, len(entries))
		kept := entries[:0]
		for _, e := range entries {
			cur, rev, found, err := sh.GetRevision(e.Name, false)
			if err != nil || !found {
				continue
			}
			kept = append(kept, cur)
			revs = append(revs, rev)
		}
		entries = kept
	}
	ok := make([]bool, len(entries))
	var wg sync.WaitGroup
	sem := make(chan struct{}, probeWorkers)
	for i, e := range entries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ok[i] = c.probe(ctx, e.URI)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	now := time.Now()
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		seen[e.Name] = true
		if ok[i] {
			delete(c.unreachable, e.Name)
			continue
		}
		u, known := c.unreachable[e.Name]
		if !known || u.uri != e.URI {
			u = unreachableSince{uri: e.URI, since: now}
			c.unreachable[e.Name] = u
		}
		if now.Sub(u.since) >= c.t.MaxUnreachable {
			var removed bool
			var err error
			if shared {
				removed, err = c.ns.removeRevision(sh, e.Name, revs[i])
			} else {
				removed, err = c.ns.removeIfURI(e.Name, e.URI)
			}
			if err != nil {
				c.log.Warn("naming: autoclean remove failed", "name", e.Name, "err", err)
				continue
			}
			if removed {
				c.log.Info("naming: autoclean: unregistering", "name", e.Name, "uri", e.URI, "unreachable", now.Sub(u.since).Round(time.Second))
			}
			delete(c.unreachable, e.Name)
		}
	}
	for name := range c.unreachable {
		if !seen[name] {
			delete(c.unreachable, name)
		}
	}
	if len(c.unreachable) > 0 {
		c.log.Debug("naming: autoclean: names currently unreachable", "count", len(c.unreachable), "total", len(entries))
	}
}

// probe reports whether a connection to the URI's address succeeds.
func (c *cleaner) probe(ctx context.Context, text string) bool {
	u, err := pyro.ParseURI(text)
	if err != nil {
		return false
	}
	network, addr, err := u.Dial()
	if err != nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, c.t.ProbeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(pctx, network, addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
