package events

import (
	"context"
	"fmt"

	"github.com/pyrogo/pyro"
)

// resume starts the subscribers of the store's subscriptions again, each
// with its pending events as the backlog it delivers first. The limits
// on subscribers and subscriptions are not applied: what the store holds
// was accepted before.
func (s *Service) resume() error {
	subs, err := s.o.store.Subs()
	if err != nil {
		return err
	}
	if len(subs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// one deadline for every host name lookup of the resume
	lookups, cancel := context.WithTimeout(context.Background(), resumeResolveTimeout)
	defer cancel()
	var order []*subscriber // in the order first seen, started at the end
	thirdParty := map[*subscriber]bool{}
	for _, sub := range subs {
		w := s.subs[sub.Subscriber]
		if w == nil {
			u, err := pyro.ParseURI(sub.Subscriber)
			if err != nil {
				return fmt.Errorf("stored subscriber %q: %w", sub.Subscriber, err)
			}
			// the third-party rule again, as when it was subscribed
			dial, tp := s.resumeTarget(lookups, u, sub.Client)
			p, err := pyro.NewProxyURI(dial, s.cfg, s.o.proxyOpts...)
			if err != nil {
				return fmt.Errorf("stored subscriber %q: %w", sub.Subscriber, err)
			}
			w = newSubscriber(s, u.String(), p)
			if w.key != sub.Subscriber {
				p.Close()
				return fmt.Errorf("stored subscriber %q is not a URI in its canonical form", sub.Subscriber)
			}
			s.subs[w.key] = w
			thirdParty[w] = tp
			order = append(order, w)
		}
		if thirdParty[w] && !s.thirdPartyAllowed(sub) {
			s.o.log.Warn("events: a stored subscription of a subscriber on another host than its client is not allowed by the policy now; it is dropped",
				"subscriber", w.key, "subject", sub.Subject, "client", sub.Client.Addr)
			_ = s.o.store.RemoveSub(sub)
			continue
		}
		switch sub.Kind {
		case Exact:
			m := s.exact[sub.Subject]
			if m == nil {
				m = map[string]*subscriber{}
				s.exact[sub.Subject] = m
			}
			m[w.key] = w
			w.exact[sub.Subject] = struct{}{}
		case Pattern:
			ps := s.patterns[sub.Subject]
			if ps == nil {
				p, err := compilePattern(sub.Subject)
				if err != nil {
					s.o.log.Warn("events: a stored pattern is refused now; its subscription is dropped",
						"subscriber", w.key, "pattern", sub.Subject, "err", err)
					_ = s.o.store.RemoveSub(sub)
					continue
				}
				ps = &patternSubs{text: sub.Subject, p: p, subs: map[string]*subscriber{}}
				s.patterns[sub.Subject] = ps
			}
			if ps.subs[w.key] == nil {
				ps.subs[w.key] = w
				w.patterns[sub.Subject] = sub.Client
				s.nPattern++
			}
		default:
			return fmt.Errorf("stored subscription of %q has unknown kind %d", sub.Subscriber, sub.Kind)
		}
	}
	for _, w := range order {
		if len(w.exact) == 0 && len(w.patterns) == 0 {
			continue // removed below, its events with it
		}
		pend, err := s.o.store.Pending(w.key)
		if err != nil {
			s.stopUnstarted(order)
			return err
		}
		limit := max(s.o.queueBytes, s.o.totalBytes)
		for _, st := range pend {
			size := eventSize(st.Event, limit)
			s.holdBacklog(w, size)
			w.backlog = append(w.backlog, queued{Stored: st, size: size})
		}
	}
	s.nSubs.Store(int64(len(s.subs)))
	for _, w := range order {
		if len(w.exact) == 0 && len(w.patterns) == 0 {
			delete(s.subs, w.key)
			_ = s.o.store.RemoveSubscriber(w.key)
			w.proxy.Close()
			continue
		}
		delete(s.subs, w.key)
		s.startLocked(w)
	}
	return nil
}

// stopUnstarted forgets the subscribers resume made before it failed.
// s.mu held.
func (s *Service) stopUnstarted(ws []*subscriber) {
	for _, w := range ws {
		w.proxy.Close()
	}
	s.subs = map[string]*subscriber{}
	s.exact = map[string]map[string]*subscriber{}
	s.patterns = map[string]*patternSubs{}
	s.nPattern = 0
	s.nSubs.Store(0)
}
