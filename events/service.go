package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/accessrule"
	"github.com/pyrogo/pyro/internal/pyre"
	"github.com/pyrogo/pyro/py"
)

// ObjectID is the id the service is registered under.
const ObjectID = "Pyro.EventService"

// Event is one delivered event.
type Event struct {
	Subject string  // as the publisher spelled it
	Msg     any     // the message
	Time    float64 // publish time, epoch seconds
	// Seq is the event's sequence number, sent as "seq" by a service
	// with a durable store (0 when absent): it increases from event to
	// event of one subscriber, and an event delivered again after a
	// restart has the same Seq.
	Seq uint64
}

// dict is the wire form {"subject", "msg", "time"}.
func (e Event) dict() *py.Dict {
	return py.DictOf("subject", e.Subject, "msg", e.Msg, "time", e.Time)
}

// ErrClosed is returned by calls on a closed Service.
var ErrClosed = errors.New("events: service closed")

// Service is the EventService remote object. Create it with NewService,
// register it in a daemon under ObjectID, and Close or Shutdown it after
// the daemon stopped.
type Service struct {
	o   options
	cfg *pyro.Config

	mu       sync.Mutex
	closed   bool
	subs     map[string]*subscriber            // by subscriber URI
	exact    map[string]map[string]*subscriber // lower-cased subject -> URI -> subscriber
	patterns map[string]*patternSubs           // pattern text -> its subscribers
	nPattern int
	nExact   int // exact subscriptions in all
	program  int // compiled size of the patterns in s.patterns

	// pmu serialises appending a publish's events to the store and
	// queueing them, so that every queue holds its events in the order
	// of their sequence numbers (deliver.go).
	pmu      sync.Mutex
	durable  bool  // the store is Durable: events carry "seq"
	startErr error // the store failed when the service was resumed

	shared Shared // the store is Shared with other instances (sharedsvc.go)

	ctx    context.Context // ends on Close: stops deliveries
	cancel context.CancelFunc
	wg     sync.WaitGroup

	dropped   atomic.Int64
	removed   atomic.Int64
	published atomic.Int64 // events published (one per subject of a publish)
	delivered atomic.Int64 // event calls that reached a subscriber
	nSubs     atomic.Int64 // len(subs), read without mu

	sending     sendBudget    // the bytes being delivered (sendbudget.go)
	bmu         sync.Mutex    // guards the byte counts (budget.go)
	totalQueued int64         // bytes queued for all subscribers
	room        chan struct{} // closed when bytes are given back
}

type patternSubs struct {
	text string
	p    *pyre.Pattern
	subs map[string]*subscriber
}

// NewService returns a service that delivers with cfg's settings (nil =
// pyro.BuiltinConfig(); the service keeps a copy): ES_QUEUESIZE,
// ES_BLOCKQUEUE, ES_BLOCKTIMEOUT unless WithQueue says otherwise, and the
// HMAC key, TLS and protocol settings of the delivering proxies. When
// the store (WithStore) holds subscriptions, NewService resumes them:
// their subscribers are started again, each first delivering the events
// its stream holds that were not acknowledged, in order (see Err).
func NewService(cfg *pyro.Config, opts ...Option) *Service {
	if cfg == nil {
		cfg = pyro.BuiltinConfig()
	} else {
		cfg = cfg.Clone()
	}
	s := &Service{cfg: cfg, subs: map[string]*subscriber{}, exact: map[string]map[string]*subscriber{},
		patterns: map[string]*patternSubs{}}
	for _, opt := range opts {
		if opt != nil {
			opt(&s.o)
		}
	}
	s.o.fill(cfg)
	s.sending.limit = s.o.sendBytes
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if d, ok := s.o.store.(Durable); ok && d.Durable() {
		s.durable = true
	}
	if err := s.resume(); err != nil {
		s.startErr = fmt.Errorf("events: resuming from the event store failed: %w", err)
		s.o.log.Error("events: resuming from the event store failed; the service refuses every call", "err", err)
	} else if err := s.attachShared(); err != nil {
		s.startErr = fmt.Errorf("events: joining the shared event store failed: %w", err)
		s.o.log.Error("events: joining the shared event store failed; the service refuses every call", "err", err)
	}
	return s
}

// Err returns the error that makes the service refuse every call: the
// store failed while NewService resumed its subscribers and their
// pending events. Check it after NewService with a durable store.
func (s *Service) Err() error { return s.startErr }

// PyroExpose gives the remote names and parameter names of Pyro3.
func (s *Service) PyroExpose() pyro.Exposure {
	return pyro.Exposure{
		Names: map[string]string{"publish": "Publish", "subscribe": "Subscribe",
			"subscribeMatch": "SubscribeMatch", "unsubscribe": "Unsubscribe"},
		Params: map[string][]string{
			"publish":        {"subjects", "message"},
			"subscribe":      {"subjects", "subscriber"},
			"subscribeMatch": {"subjects", "subscriber"},
			"unsubscribe":    {"subjects", "subscriber"},
		},
	}
}

// Stats are counters of a service.
type Stats struct {
	Subscribers int   // current subscribers
	Dropped     int64 // events dropped for a full queue
	Removed     int64 // subscribers removed after failed deliveries
	// Subs holds the current subscribers' counters, by subscriber URI.
	Subs map[string]SubStats
	// QueuedBytes is the estimated size of every queued event (counted
	// once per subscriber it waits for).
	QueuedBytes int64
}

// SubStats are the counters of one subscriber.
type SubStats struct {
	Queued      int   // events waiting in its queue
	QueuedBytes int64 // their estimated size
	Dropped     int64 // events dropped for it because its queue was full
}

// Stats returns the current counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bmu.Lock()
	defer s.bmu.Unlock()
	subs := make(map[string]SubStats, len(s.subs))
	for k, w := range s.subs {
		subs[k] = SubStats{Queued: len(w.q), QueuedBytes: w.bytes, Dropped: w.dropped.Load()}
	}
	return Stats{Subscribers: len(subs), Dropped: s.dropped.Load(), Removed: s.removed.Load(), Subs: subs,
		QueuedBytes: s.totalQueued}
}

func valueError(format string, a ...any) error {
	return &pyro.PythonError{Class: "ValueError", Msg: fmt.Sprintf(format, a...)}
}

func typeError(format string, a ...any) error {
	return &pyro.PythonError{Class: "TypeError", Msg: fmt.Sprintf(format, a...)}
}

// subjectList is Pyro3's _mksequence: a str is one subject, a list or
// tuple holds several; every one must be a str within the limits.
func subjectList(v any, what string, maxLen int) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		items = []any{x}
	case []any:
		items = x
	case py.Tuple:
		items = x
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		items = out
	default:
		return nil, typeError("%s must be a str or a list of str, not %s", what, py.TypeName(v))
	}
	if len(items) > MaxSubjectsPerCall {
		return nil, valueError("too many %s in one call (%d, at most %d)", what, len(items), MaxSubjectsPerCall)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		str, ok := it.(string)
		if !ok {
			return nil, typeError("%s must be str, not %s", what, py.TypeName(it))
		}
		if n := len([]rune(str)); n > maxLen {
			return nil, valueError("%s too long (%d characters, at most %d)", what, n, maxLen)
		}
		out = append(out, str)
	}
	return out, nil
}

// subscriberURI accepts a proxy reference, a URI or a URI string.
func subscriberURI(v any) (pyro.URI, error) {
	switch x := v.(type) {
	case *codec.ProxyRef:
		return x.URI, nil
	case *pyro.Proxy:
		return x.URI(), nil
	case pyro.URI:
		return x, nil
	case string:
		u, err := pyro.ParseURI(x)
		if err != nil {
			return pyro.URI{}, typeError("subscriber must be a Pyro proxy or URI: %v", err)
		}
		return u, nil
	}
	return pyro.URI{}, typeError("subscriber must be a Pyro proxy or URI, not %s", py.TypeName(v))
}

// Publish is publish(subjects, message): it queues one event per subject
// for every subscriber of it (once per subscriber and subject, whatever
// number of its subscriptions match), all with the same time.
func (s *Service) Publish(ctx context.Context, subjects, message any) error {
	list, err := subjectList(subjects, "subjects", MaxSubjectLen)
	if err != nil || len(list) == 0 {
		return err
	}
	if err := s.checkSubjects(ctx, accessrule.EventPublish, "publish", list); err != nil {
		return err
	}
	now := float64(time.Now().UnixNano()) / 1e9
	if s.shared != nil {
		if err := s.live(); err != nil {
			return err
		}
		evs := make([]Event, len(list))
		for i, subj := range list {
			evs[i] = Event{Subject: subj, Msg: message, Time: now}
		}
		if err := s.shared.Publish(ctx, evs); err != nil {
			return err
		}
		s.published.Add(int64(len(evs)))
		return nil
	}
	// every subject's subscribers first, under one budget of matching
	// work for the whole call: a publish the patterns would make too
	// costly is refused before anything is delivered
	budget := pyre.NewBudget(s.o.regexBudget)
	targets := make([][]*subscriber, len(list))
	for i, subj := range list {
		if targets[i], err = s.targets(subj, budget); err != nil {
			return err
		}
	}
	evs := make([]Event, len(list))
	for i, subj := range list {
		evs[i] = Event{Subject: subj, Msg: message, Time: now}
	}
	if err := s.deliver(ctx, evs, targets); err != nil {
		return err
	}
	s.published.Add(int64(len(evs)))
	return nil
}

// targets returns the subscribers of subject, each once, paying the
// pattern matches from budget.
func (s *Service) targets(subject string, budget *pyre.Budget) ([]*subscriber, error) {
	lc := strings.ToLower(subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.startErr != nil {
		return nil, s.startErr
	}
	seen := map[*subscriber]bool{}
	var out []*subscriber
	add := func(w *subscriber) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, w := range s.exact[lc] {
		add(w)
	}
	for _, ps := range s.patterns {
		ok, err := budget.Match(ps.p, subject)
		if err != nil {
			return nil, valueError("publish: matching the subjects against the subscribed patterns would take more than the event service's work budget (%d steps; WithRegexBudget): publish fewer or shorter subjects", s.o.regexBudget)
		}
		if ok {
			for _, w := range ps.subs {
				if s.patternAllows(w.patterns[ps.text], subject) {
					add(w)
				}
			}
		}
	}
	return out, nil
}

// subRequest is a subscribe or subscribeMatch call, checked: its
// subjects or patterns, the subscriber, where to deliver to it and the
// client that asked.
type subRequest struct {
	list    []string
	u, dial pyro.URI
	client  Client
}

// admit parses and checks the arguments of subscribe (pattern false) or
// subscribeMatch (pattern true): the names, the subscriber, the policy
// (subscribe per subject, match once), prepare (run on the names before
// the third-party rule, which may resolve a host name) and the
// third-party rule. No names is not an error: ok is false.
func (s *Service) admit(ctx context.Context, pattern bool, names, subscriberArg any, prepare func([]string) error) (r subRequest, ok bool, err error) {
	method, what, maxLen, op := "subscribe", "subjects", MaxSubjectLen, accessrule.EventSubscribe
	if pattern {
		method, what, maxLen, op = "subscribeMatch", "patterns", MaxPatternLen, accessrule.EventMatch
	}
	if r.list, err = subjectList(names, what, maxLen); err != nil || len(r.list) == 0 {
		return r, false, err
	}
	if r.u, err = subscriberURI(subscriberArg); err != nil {
		return r, false, err
	}
	checked := r.list
	if pattern {
		checked = []string{""} // a pattern is not a subject
	}
	if err := s.checkSubjects(ctx, op, method, checked); err != nil {
		return r, false, err
	}
	if prepare != nil {
		if err := prepare(r.list); err != nil {
			return r, false, err
		}
	}
	if r.dial, err = s.subscriberTarget(ctx, method, r.u, r.list, pattern); err != nil {
		return r, false, err
	}
	peer, _ := callerOf(ctx)
	r.client = clientOf(peer)
	return r, true, nil
}

// Subscribe is subscribe(subjects, subscriber).
func (s *Service) Subscribe(ctx context.Context, subjects, subscriberArg any) error {
	r, ok, err := s.admit(ctx, false, subjects, subscriberArg, nil)
	if !ok {
		return err
	}
	if s.shared != nil {
		return s.subscribeShared(r, Exact, nil)
	}
	list, client := r.list, r.client
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.worker(r.u, r.dial)
	if err != nil {
		return err
	}
	for _, subj := range list {
		lc := strings.ToLower(subj)
		m := s.exact[lc]
		if m[w.key] != nil {
			continue
		}
		if len(w.exact) >= s.o.maxSubjects {
			s.dropIfIdle(w)
			return valueError("too many subscriptions for this subscriber (at most %d subjects)", s.o.maxSubjects)
		}
		if s.nExact >= s.o.maxSubscriptions {
			s.dropIfIdle(w)
			return valueError("too many subscriptions in the event service (at most %d subjects)", s.o.maxSubscriptions)
		}
		if m == nil {
			m = map[string]*subscriber{}
			s.exact[lc] = m
		}
		m[w.key] = w
		w.exact[lc] = struct{}{}
		s.nExact++
		if err := s.o.store.AddSub(Sub{Subscriber: w.key, Kind: Exact, Subject: lc, Client: client}); err != nil {
			return err
		}
	}
	return nil
}

// SubscribeMatch is subscribeMatch(patterns, subscriber). Every pattern
// is checked before any is added: one refused pattern adds none.
func (s *Service) SubscribeMatch(ctx context.Context, patterns, subscriberArg any) error {
	var compiled []*pyre.Pattern
	r, ok, err := s.admit(ctx, true, patterns, subscriberArg, func(list []string) error {
		compiled = make([]*pyre.Pattern, len(list))
		for i, p := range list {
			var err error
			if compiled[i], err = compilePattern(p); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok {
		return err
	}
	if s.shared != nil {
		byText := make(map[string]*pyre.Pattern, len(r.list))
		for i, text := range r.list {
			byText[text] = compiled[i]
		}
		return s.subscribeShared(r, Pattern, byText)
	}
	list, client := r.list, r.client
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.worker(r.u, r.dial)
	if err != nil {
		return err
	}
	for i, text := range list {
		ps := s.patterns[text]
		if ps != nil && ps.subs[w.key] != nil {
			continue
		}
		if len(w.patterns) >= s.o.maxPatternsEach {
			s.dropIfIdle(w)
			return valueError("too many pattern subscriptions for this subscriber (at most %d)", s.o.maxPatternsEach)
		}
		if s.nPattern >= s.o.maxPatterns {
			s.dropIfIdle(w)
			return valueError("too many pattern subscriptions in the event service (at most %d)", s.o.maxPatterns)
		}
		if ps == nil {
			if s.program+compiled[i].Size() > s.o.maxPatternProgram {
				s.dropIfIdle(w)
				return valueError("too many pattern subscriptions in the event service (their compiled size would pass %d instructions)", s.o.maxPatternProgram)
			}
			ps = &patternSubs{text: text, p: compiled[i], subs: map[string]*subscriber{}}
			s.patterns[text] = ps
			s.program += compiled[i].Size()
		}
		ps.subs[w.key] = w
		w.patterns[text] = client
		s.nPattern++
		if err := s.o.store.AddSub(Sub{Subscriber: w.key, Kind: Pattern, Subject: text, Client: client}); err != nil {
			return err
		}
	}
	return nil
}

// compilePattern compiles a Python pattern, case-insensitive, within the
// name server's limits; a refused one is ValueError("invalid regex: ...").
func compilePattern(text string) (*pyre.Pattern, error) {
	if n := len([]rune(text)); n > MaxPatternLen {
		return nil, valueError("invalid regex: pattern too long (%d characters, at most %d)", n, MaxPatternLen)
	}
	p, err := pyre.Compile("(?i)"+text, pyre.Limits{MaxLen: MaxPatternLen + 4, MaxProgram: MaxPatternProgram})
	if err != nil {
		return nil, valueError("invalid regex: %v", err)
	}
	return p, nil
}

// Unsubscribe is unsubscribe(subjects, subscriber): each name is removed
// as an exact subject (case-insensitive) and as a pattern (by its text).
// A subscriber left with no subscription is stopped.
func (s *Service) Unsubscribe(ctx context.Context, subjects, subscriberArg any) error {
	list, err := subjectList(subjects, "subjects", max(MaxSubjectLen, MaxPatternLen))
	if err != nil || len(list) == 0 {
		return err
	}
	u, err := subscriberURI(subscriberArg)
	if err != nil {
		return err
	}
	// only the subscribers a client could subscribe may it unsubscribe:
	// otherwise anyone could cut others off their events
	if _, err := s.subscriberTarget(ctx, "unsubscribe", u, list, false); err != nil {
		return err
	}
	if s.shared != nil {
		return s.unsubscribeShared(u, list)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.subs[u.String()]
	if w == nil {
		return nil
	}
	for _, subj := range list {
		lc := strings.ToLower(subj)
		if m := s.exact[lc]; m[w.key] != nil {
			delete(m, w.key)
			if len(m) == 0 {
				delete(s.exact, lc)
			}
			delete(w.exact, lc)
			s.nExact--
			_ = s.o.store.RemoveSub(Sub{Subscriber: w.key, Kind: Exact, Subject: lc})
		}
		if ps := s.patterns[subj]; ps != nil && ps.subs[w.key] != nil {
			delete(ps.subs, w.key)
			if len(ps.subs) == 0 {
				delete(s.patterns, subj)
				s.program -= ps.p.Size()
			}
			delete(w.patterns, subj)
			s.nPattern--
			_ = s.o.store.RemoveSub(Sub{Subscriber: w.key, Kind: Pattern, Subject: subj})
		}
	}
	s.dropIfIdle(w)
	return nil
}

// worker returns the subscriber for u, starting one that delivers to
// dial if needed. s.mu held.
func (s *Service) worker(u, dial pyro.URI) (*subscriber, error) {
	if s.closed {
		return nil, ErrClosed
	}
	if s.startErr != nil {
		return nil, s.startErr
	}
	key := u.String()
	if w := s.subs[key]; w != nil {
		return w, nil
	}
	if len(s.subs) >= s.o.maxSubscribers {
		return nil, valueError("too many subscribers (at most %d)", s.o.maxSubscribers)
	}
	p, err := pyro.NewProxyURI(dial, s.cfg, s.o.proxyOpts...)
	if err != nil {
		return nil, typeError("subscriber: %v", err)
	}
	w := newSubscriber(s, key, p)
	s.startLocked(w)
	return w, nil
}

// startLocked adds w and starts its goroutine. s.mu held.
func (s *Service) startLocked(w *subscriber) {
	s.subs[w.key] = w
	s.nSubs.Store(int64(len(s.subs)))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		w.run(s.ctx)
	}()
}

// dropIfIdle stops w when it has no subscription left. s.mu held.
func (s *Service) dropIfIdle(w *subscriber) {
	if len(w.exact) == 0 && len(w.patterns) == 0 {
		s.removeLocked(w)
	}
}

// removeLocked forgets w and all its subscriptions and stops it. s.mu held.
func (s *Service) removeLocked(w *subscriber) {
	if s.subs[w.key] != w {
		return
	}
	s.unlinkLocked(w)
	_ = s.o.store.RemoveSubscriber(w.key)
	w.stop()
}

// unlinkLocked takes w and its subscriptions out of the service's maps
// (the store is left as it is). s.mu held.
func (s *Service) unlinkLocked(w *subscriber) {
	delete(s.subs, w.key)
	s.nSubs.Store(int64(len(s.subs)))
	// only w's own subscriptions: the cost of a removal does not grow
	// with what other clients subscribed
	for subj := range w.exact {
		s.unlinkExactLocked(w, subj)
	}
	for text := range w.patterns {
		s.unlinkPatternLocked(w, text)
	}
}

// unlinkExactLocked takes w out of the subscribers of subj. s.mu held.
func (s *Service) unlinkExactLocked(w *subscriber, subj string) {
	if m := s.exact[subj]; m[w.key] == w {
		delete(m, w.key)
		s.nExact--
		if len(m) == 0 {
			delete(s.exact, subj)
		}
	}
}

// unlinkPatternLocked takes w out of the subscribers of the pattern
// text. s.mu held.
func (s *Service) unlinkPatternLocked(w *subscriber, text string) {
	if ps := s.patterns[text]; ps != nil && ps.subs[w.key] == w {
		delete(ps.subs, w.key)
		s.nPattern--
		if len(ps.subs) == 0 {
			delete(s.patterns, text)
			s.program -= ps.p.Size()
		}
	}
}

// remove is called by a subscriber's goroutine that gave up.
func (s *Service) remove(w *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs[w.key] == w {
		s.removed.Add(1)
		s.o.log.Warn("events: subscriber removed after failed deliveries", "subscriber", w.key)
		s.removeLocked(w)
	}
}

// Shutdown stops accepting calls and lets every subscriber deliver what
// is queued until ctx ends; then it stops them (as Close).
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		for _, w := range s.subs {
			w.finish()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return s.close()
	case <-ctx.Done():
		err := s.close()
		return errors.Join(ctx.Err(), err)
	}
}

// Close stops every subscriber at once (queued events are discarded) and
// waits for their goroutines.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return s.close()
}

func (s *Service) close() error {
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	for _, w := range s.subs {
		w.proxy.Close()
	}
	s.subs = map[string]*subscriber{}
	s.exact = map[string]map[string]*subscriber{}
	s.patterns = map[string]*patternSubs{}
	s.nPattern, s.nExact, s.program = 0, 0, 0
	s.nSubs.Store(0)
	s.mu.Unlock()
	return s.o.store.Close()
}
