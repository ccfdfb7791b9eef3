package events

import (
	"context"
	"strings"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pyre"
)

// The service's side of a Shared store (shared.go): subscriptions are
// recorded in the store, which decides which instance delivers to which
// subscriber (Own, Disown); an owned subscriber is fed from the shared
// log by a goroutine of its own (feed), into the same queue and delivery
// goroutine as with the other stores. The limits on subscribers,
// subscriptions and patterns apply to the subscribers this instance
// delivers to, when it is asked to subscribe; a subscriber taken over
// from another instance is taken whatever they say (it was accepted
// there), as with a resume.

// serviceOwner is the Owner a Shared store calls.
type serviceOwner struct{ s *Service }

func (o serviceOwner) Own(subscriber string, subs []Sub, after uint64) {
	o.s.own(subscriber, subs, after)
}
func (o serviceOwner) Disown(subscriber string)               { o.s.disown(subscriber) }
func (o serviceOwner) Skip(subscriber string, to uint64) bool { return o.s.skip(subscriber, to) }

// attachShared starts sharing when the store is Shared.
func (s *Service) attachShared() error {
	sh, ok := s.o.store.(Shared)
	if !ok {
		return nil
	}
	s.shared = sh
	return sh.Attach(serviceOwner{s})
}

// live returns the error that refuses calls now, if any.
func (s *Service) live() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.startErr
}

// subscribeShared records a checked subscribe or subscribeMatch in the
// shared store; compiled holds the patterns of a subscribeMatch.
func (s *Service) subscribeShared(r subRequest, kind Kind, compiled map[string]*pyre.Pattern) error {
	if err := s.live(); err != nil {
		return err
	}
	// a subscriber the service could not make a proxy for is refused
	// here, as by worker; Own makes the delivering proxy
	p, err := pyro.NewProxyURI(r.dial, s.cfg, s.o.proxyOpts...)
	if err != nil {
		return typeError("subscriber: %v", err)
	}
	p.Close()
	key := r.u.String()
	subs := make([]Sub, 0, len(r.list))
	for _, name := range r.list {
		if kind == Exact {
			name = strings.ToLower(name)
		}
		subs = append(subs, Sub{Subscriber: key, Kind: kind, Subject: name, Client: r.client})
	}
	return s.shared.Subscribe(key, subs, func(all []Sub) error { return s.checkShared(key, all, compiled) })
}

// checkShared applies the limits to the subscriptions all that the
// subscriber key would have after a subscribe here.
func (s *Service) checkShared(key string, all []Sub, compiled map[string]*pyre.Pattern) error {
	nExact, nPattern := 0, 0
	for _, sb := range all {
		if sb.Kind == Exact {
			nExact++
		} else {
			nPattern++
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.subs[key]
	if w == nil && len(s.subs) >= s.o.maxSubscribers {
		return valueError("too many subscribers (at most %d)", s.o.maxSubscribers)
	}
	if nExact > s.o.maxSubjects {
		return valueError("too many subscriptions for this subscriber (at most %d subjects)", s.o.maxSubjects)
	}
	if nPattern > s.o.maxPatternsEach {
		return valueError("too many pattern subscriptions for this subscriber (at most %d)", s.o.maxPatternsEach)
	}
	addExact, addPattern := nExact, nPattern
	if w != nil {
		addExact -= len(w.exact)
		addPattern -= len(w.patterns)
	}
	if s.nExact+addExact > s.o.maxSubscriptions {
		return valueError("too many subscriptions in the event service (at most %d subjects)", s.o.maxSubscriptions)
	}
	if s.nPattern+addPattern > s.o.maxPatterns {
		return valueError("too many pattern subscriptions in the event service (at most %d)", s.o.maxPatterns)
	}
	program := 0
	for _, sb := range all {
		if sb.Kind != Pattern || s.patterns[sb.Subject] != nil {
			continue
		}
		p := compiled[sb.Subject]
		if p == nil {
			var err error
			if p, err = compilePattern(sb.Subject); err != nil {
				return err
			}
		}
		program += p.Size()
	}
	if s.program+program > s.o.maxPatternProgram {
		return valueError("too many pattern subscriptions in the event service (their compiled size would pass %d instructions)", s.o.maxPatternProgram)
	}
	return nil
}

// unsubscribeShared removes names, as subjects and as patterns, from
// the shared subscriptions of u.
func (s *Service) unsubscribeShared(u pyro.URI, names []string) error {
	if err := s.live(); err != nil {
		return err
	}
	key := u.String()
	subs := make([]Sub, 0, 2*len(names))
	for _, n := range names {
		subs = append(subs, Sub{Subscriber: key, Kind: Exact, Subject: strings.ToLower(n)},
			Sub{Subscriber: key, Kind: Pattern, Subject: n})
	}
	return s.shared.Unsubscribe(key, subs)
}

// own makes this instance deliver to subscriber with exactly subs.
func (s *Service) own(key string, subs []Sub, after uint64) {
	if len(subs) == 0 {
		s.disown(key)
		return
	}
	u, err := pyro.ParseURI(key)
	if err != nil || u.String() != key {
		s.o.log.Warn("events: a shared subscriber is not a URI in its canonical form; ignored", "subscriber", key)
		return
	}
	compiled := map[string]*pyre.Pattern{}
	s.mu.Lock()
	w, closed := s.subs[key], s.closed
	for _, sb := range subs { // compiled already: not again
		if ps := s.patterns[sb.Subject]; sb.Kind == Pattern && ps != nil {
			compiled[sb.Subject] = ps.p
		}
	}
	s.mu.Unlock()
	if closed {
		return
	}
	var p *pyro.Proxy
	thirdParty := false
	if w == nil {
		ctx, cancel := context.WithTimeout(s.ctx, resumeResolveTimeout)
		var dial pyro.URI
		dial, thirdParty = s.resumeTarget(ctx, u, subs[0].Client)
		cancel()
		if p, err = pyro.NewProxyURI(dial, s.cfg, s.o.proxyOpts...); err != nil {
			s.o.log.Warn("events: cannot deliver to a shared subscriber", "subscriber", key, "err", err)
			return
		}
	} else {
		thirdParty = w.thirdParty
	}
	for _, sb := range subs {
		if sb.Kind == Pattern && compiled[sb.Subject] == nil {
			c, err := compilePattern(sb.Subject)
			if err != nil {
				s.o.log.Warn("events: a shared pattern is refused here; ignored", "subscriber", key, "pattern", sb.Subject, "err", err)
				continue
			}
			compiled[sb.Subject] = c
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		if p != nil {
			p.Close()
		}
		return
	}
	switch cur := s.subs[key]; {
	case cur != nil:
		if p != nil {
			p.Close()
		}
		w = cur
	case p != nil:
		w = newSubscriber(s, key, p)
		w.thirdParty = thirdParty
		s.startLocked(w)
		s.startFeed(w, after)
		s.o.log.Info("events: delivering to a shared subscriber", "subscriber", key, "after", after)
	default:
		return // removed meanwhile (failed deliveries): the store forgets it
	}
	exact := map[string]struct{}{}
	patterns := map[string]Client{}
	for _, sb := range subs {
		if thirdParty && !s.thirdPartyAllowed(sb) {
			s.o.log.Warn("events: a shared subscription of a subscriber on another host than its client is not allowed by the policy here; ignored",
				"subscriber", key, "subject", sb.Subject, "client", sb.Client.Addr)
			continue
		}
		switch {
		case sb.Kind == Exact:
			exact[sb.Subject] = struct{}{}
		case sb.Kind == Pattern && compiled[sb.Subject] != nil:
			patterns[sb.Subject] = sb.Client
		}
	}
	s.setSubsLocked(w, exact, patterns, compiled)
}

// setSubsLocked replaces w's subscriptions. s.mu held.
func (s *Service) setSubsLocked(w *subscriber, exact map[string]struct{}, patterns map[string]Client, compiled map[string]*pyre.Pattern) {
	for subj := range w.exact {
		if _, keep := exact[subj]; !keep {
			s.unlinkExactLocked(w, subj)
			delete(w.exact, subj)
		}
	}
	for text := range w.patterns {
		if _, keep := patterns[text]; !keep {
			s.unlinkPatternLocked(w, text)
			delete(w.patterns, text)
		}
	}
	for subj := range exact {
		if _, have := w.exact[subj]; have {
			continue
		}
		m := s.exact[subj]
		if m == nil {
			m = map[string]*subscriber{}
			s.exact[subj] = m
		}
		m[w.key] = w
		w.exact[subj] = struct{}{}
		s.nExact++
	}
	for text, client := range patterns {
		if _, have := w.patterns[text]; have {
			w.patterns[text] = client
			continue
		}
		ps := s.patterns[text]
		if ps == nil {
			ps = &patternSubs{text: text, p: compiled[text], subs: map[string]*subscriber{}}
			s.patterns[text] = ps
			s.program += ps.p.Size()
		}
		ps.subs[w.key] = w
		w.patterns[text] = client
		s.nPattern++
	}
}

// disown stops delivering to subscriber here, leaving the store as it is.
func (s *Service) disown(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.subs[key]
	if w == nil {
		return
	}
	s.unlinkLocked(w)
	w.stop()
	s.o.log.Info("events: stopped delivering to a shared subscriber", "subscriber", key)
}

// skip implements Owner.Skip: when subscriber has been sent and
// confirmed every event up to seq to that it takes, true; when it lags
// (see lagging), it drops the events up to seq to
// that are not sent yet (those in its queue, by its goroutine, and those
// its feed reads still), each counted as dropped, and returns whether
// its feed has read past to yet (so that every dropped event is counted
// before the log is trimmed); otherwise false.
func (s *Service) skip(key string, to uint64) bool {
	s.mu.Lock()
	w := s.subs[key]
	s.mu.Unlock()
	if w == nil {
		return false
	}
	// read first: whatever the feed queues after it read past to is
	// after to
	if w.readPos.Load() >= to && w.lastQueued.Load() <= max(w.acked.Load(), w.skipTo.Load()) {
		return true
	}
	if !s.lagging(w) {
		return false
	}
	for {
		cur := w.skipTo.Load()
		if to <= cur {
			break
		}
		if w.skipTo.CompareAndSwap(cur, to) {
			s.o.log.Warn("events: a shared subscriber's queue stayed full while the shared log filled up; events it was not sent yet are dropped",
				"subscriber", key, "up_to", to)
			s.wakeAll() // its feed, waiting for room, reads on
			break
		}
	}
	// its feed reads (and counts) the dropped events before the store
	// may trim them: at a later call once it got past to
	return w.readPos.Load() >= to
}

// lagging reports whether w's queue has been full for the block
// timeout (at once without ES_BLOCKQUEUE), or the oldest event it was
// sent and has not confirmed was queued more than the block timeout ago
// (a subscriber that takes few events, slowly, or does not answer).
func (s *Service) lagging(w *subscriber) bool {
	now := time.Now()
	if full := w.fullSince.Load(); full != 0 && (!s.o.block || now.Sub(time.Unix(0, full)) >= s.o.blockTimeout) {
		return true
	}
	old := w.oldest.Load()
	return old != 0 && now.Sub(time.Unix(0, old)) >= s.o.blockTimeout
}

// startFeed starts the goroutine that feeds w from the shared log after
// seq after. s.mu held.
func (s *Service) startFeed(w *subscriber, after uint64) {
	ctx, cancel := context.WithCancel(s.ctx)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		select {
		case <-w.quit:
		case <-w.fin:
		case <-ctx.Done():
		}
		cancel()
	}()
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.feed(ctx, w, after)
	}()
}

// wakeAll wakes whoever waits for room in a queue.
func (s *Service) wakeAll() {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	s.wakeLocked()
}

// feed reads the shared log after seq after and queues for w the events
// its subscriptions match, within its queue's bounds (in events and
// bytes): the log is the backlog, so nothing is dropped for a full
// queue, unless the store moves a subscriber that lags too far behind
// forward (Owner.Skip). When the queue is full, feed stops reading (the
// fetched messages go back to the store's fetch budget, so a slow
// subscriber holds none of it), waits until the queue is down to half
// its bounds, queues the event that did not fit and reads on after it.
// A failed read is retried after a pause.
func (s *Service) feed(ctx context.Context, w *subscriber, after uint64) {
	limit := max(s.o.queueBytes, s.o.totalBytes)
	var held *queued // read, matched, and found the queue full
	w.readPos.Store(after)
	w.acked.Store(after)
	w.lastQueued.Store(after)
	for {
		if held != nil {
			w.fullSince.Store(time.Now().UnixNano())
			ok := s.queueHeld(ctx, w, *held)
			w.fullSince.Store(0)
			if !ok {
				return
			}
			held = nil
		}
		err := s.shared.Read(ctx, after, func(st Stored) bool {
			after = st.Seq
			w.readPos.Store(after)
			if st.Seq <= w.skipTo.Load() {
				if s.matches(w, st.Event.Subject) {
					w.dropped.Add(1)
					s.dropped.Add(1)
				}
				return true
			}
			if !s.matches(w, st.Event.Subject) {
				return true
			}
			q := queued{Stored: st, size: eventSize(st.Event, limit), at: time.Now().UnixNano()}
			if !s.offer(w, q) {
				held = &q
				return false
			}
			return true
		})
		if ctx.Err() != nil {
			return
		}
		if held != nil {
			continue
		}
		if err != nil {
			s.o.log.Warn("events: reading the shared event log failed; retrying", "subscriber", w.key, "err", err)
		}
		t := time.NewTimer(s.o.retryBase)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// offer queues q for w if its queue has room. Only w's feed adds to its
// queue (a shared store's publishes go to the log), so a free slot stays
// free until it does.
func (s *Service) offer(w *subscriber, q queued) bool {
	if len(w.q) >= cap(w.q) {
		return false
	}
	if _, ok := s.reserve(w, q.size); !ok {
		return false
	}
	select {
	case w.q <- q:
		w.lastQueued.Store(q.Seq)
		return true
	default:
		s.release(w, q.size)
		return false
	}
}

// queueHeld waits until w's queue is down to half its bounds (or the
// event was skipped meanwhile), then queues q, waiting for room; false:
// ctx ended.
func (s *Service) queueHeld(ctx context.Context, w *subscriber, q queued) bool {
	half := false
	for {
		room := s.roomSignal() // before the checks: no wake-up is missed
		if q.Seq <= w.skipTo.Load() {
			w.dropped.Add(1)
			s.dropped.Add(1)
			return true
		}
		if !half {
			s.bmu.Lock()
			half = w.gone || (len(w.q) <= cap(w.q)/2 && w.bytes <= s.o.queueBytes/2)
			s.bmu.Unlock()
		}
		if half && s.offer(w, q) {
			return true
		}
		select {
		case <-room:
		case <-ctx.Done():
			return false
		}
	}
}

// matches reports whether w's subscriptions take an event of subject.
// The patterns' matching work per event is bounded by the regex budget
// (WithRegexBudget); an event that would pass it is not delivered to w
// and counts as dropped.
func (s *Service) matches(w *subscriber, subject string) bool {
	lc := strings.ToLower(subject)
	type pat struct {
		p      *pyre.Pattern
		client Client
	}
	s.mu.Lock()
	if _, ok := w.exact[lc]; ok {
		s.mu.Unlock()
		return true
	}
	pats := make([]pat, 0, len(w.patterns))
	for text, client := range w.patterns {
		if ps := s.patterns[text]; ps != nil {
			pats = append(pats, pat{ps.p, client})
		}
	}
	s.mu.Unlock()
	budget := pyre.NewBudget(s.o.regexBudget)
	for _, pt := range pats {
		ok, err := budget.Match(pt.p, subject)
		if err != nil {
			w.dropped.Add(1)
			s.dropped.Add(1)
			s.o.log.Warn("events: matching an event's subject against a subscriber's patterns passed the work budget; not delivered to it", "subscriber", w.key)
			return false
		}
		if ok && s.patternAllows(pt.client, subject) {
			return true
		}
	}
	return false
}
