package events

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
)

// proxyFor returns a proxy for es (a *pyro.Proxy, a pyro.URI or a URI
// string) and whether the caller must close it.
func proxyFor(es any, cfg *pyro.Config, opts []pyro.ProxyOption) (*pyro.Proxy, bool, error) {
	switch x := es.(type) {
	case *pyro.Proxy:
		return x, false, nil
	case pyro.URI:
		p, err := pyro.NewProxyURI(x, cfg, opts...)
		return p, true, err
	case string:
		p, err := pyro.NewProxy(x, cfg, opts...)
		return p, true, err
	}
	return nil, false, fmt.Errorf("events: event service must be a *pyro.Proxy, pyro.URI or URI string, not %T", es)
}

// Publish calls publish(subjects, msg) on the event service es (a
// *pyro.Proxy, a pyro.URI or a URI string; a URI gets a proxy with
// pyro.BuiltinConfig() and opts, closed on return).
func Publish(ctx context.Context, es any, subjects []string, msg any, opts ...pyro.ProxyOption) error {
	p, own, err := proxyFor(es, nil, opts)
	if err != nil {
		return err
	}
	if own {
		defer p.Close()
	}
	_, err = p.Call(ctx, "publish", stringsAny(subjects), msg)
	return err
}

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// SubscribeOption configures Subscribe and SubscribeMatch.
type SubscribeOption func(*subOptions)

type subOptions struct {
	cfg       *pyro.Config
	daemon    []pyro.DaemonOption
	proxy     []pyro.ProxyOption
	buffer    int
	hostIsSet bool
}

// WithConfig sets the config of the subscription's daemon and of its
// proxy to the event service (default pyro.BuiltinConfig()).
func WithConfig(cfg *pyro.Config) SubscribeOption { return func(o *subOptions) { o.cfg = cfg } }

// WithDaemonOptions passes options to the subscription's daemon (TLS,
// HMAC key, pyro.WithHost to listen elsewhere than 127.0.0.1, ...).
func WithDaemonOptions(opts ...pyro.DaemonOption) SubscribeOption {
	return func(o *subOptions) { o.daemon = append(o.daemon, opts...) }
}

// WithHost makes the subscription's daemon listen on host instead of
// 127.0.0.1 (for an event service on another machine).
func WithHost(host string) SubscribeOption {
	return func(o *subOptions) { o.daemon = append(o.daemon, pyro.WithHost(host)); o.hostIsSet = true }
}

// WithServiceProxyOptions passes options to the proxy that calls the
// event service.
func WithServiceProxyOptions(opts ...pyro.ProxyOption) SubscribeOption {
	return func(o *subOptions) { o.proxy = append(o.proxy, opts...) }
}

// WithBuffer sets how many received events wait for the reader (default
// 100); when it is full the daemon stops reading the service's calls, so
// the service's queue for this subscriber fills instead.
func WithBuffer(n int) SubscribeOption { return func(o *subOptions) { o.buffer = n } }

// Subscription is a subscriber run by this package: a daemon of its own
// holding the callback object. Read it with Events; Close unsubscribes
// and stops the daemon.
type Subscription struct {
	es       *pyro.Proxy
	ownES    bool
	d        *pyro.Daemon
	uri      pyro.URI
	ch       chan Event
	stop     chan struct{}
	served   chan struct{}
	names    []string
	once     sync.Once
	closeErr error
	// turn is held by the one event call that checks and hands over its
	// event, and guards lastSeq
	turn    chan struct{}
	lastSeq uint64       // the highest Seq handed to the reader
	repeats atomic.Int64 // events dropped as repeats
}

// Repeats returns how many events the subscription dropped because it
// had received them already (a service with a durable store sends the
// events it had not confirmed again after a restart; see Event.Seq).
func (s *Subscription) Repeats() int64 { return s.repeats.Load() }

// sink is the remote callback object.
type sink struct{ sub *Subscription }

// PyroExpose marks event as oneway.
func (k *sink) PyroExpose() pyro.Exposure { return pyro.Exposure{Oneway: []string{"event"}} }

// Event receives one event.
func (k *sink) Event(ctx context.Context, ev any) error {
	e, err := eventFrom(ev)
	if err != nil {
		return err
	}
	s := k.sub
	// The daemon runs the oneway calls of one connection one at a time
	// (OnewayThreaded off, subscribe), but the service may deliver over
	// two connections at once (a new connection after a failed delivery,
	// or another instance of a shared event server taking over while the
	// old one's last delivery is in flight): one call at a time checks
	// and hands over, so that the events reach the reader in increasing
	// seq, and a seq is recorded only once its event was handed over. An
	// event dropped because the call ends first (the subscription or its
	// daemon closing) is taken when the service sends it again.
	select {
	case s.turn <- struct{}{}:
	case <-s.stop:
		return nil
	case <-ctx.Done():
		return nil
	}
	defer func() { <-s.turn }()
	// a repeat after the service's restart or a takeover (see Event.Seq)
	if e.Seq != 0 && e.Seq <= s.lastSeq {
		s.repeats.Add(1)
		return nil
	}
	select {
	case s.ch <- e:
		if e.Seq != 0 {
			s.lastSeq = e.Seq
		}
	case <-s.stop:
	case <-ctx.Done():
	}
	return nil
}

func eventFrom(v any) (Event, error) {
	d, ok := v.(*py.Dict)
	if !ok {
		return Event{}, &pyro.PythonError{Class: "TypeError", Msg: "event must be a dict, not " + py.TypeName(v)}
	}
	var e Event
	s, _ := d.GetString("subject")
	e.Subject, ok = s.(string)
	if !ok {
		return Event{}, &pyro.PythonError{Class: "TypeError", Msg: "event subject must be a str"}
	}
	e.Msg, _ = d.GetString("msg")
	if n, ok := d.GetString("seq"); ok {
		if x, ok := n.(int64); ok && x > 0 {
			e.Seq = uint64(x)
		}
	}
	switch t, _ := d.GetString("time"); x := t.(type) {
	case float64:
		e.Time = x
	case int:
		e.Time = float64(x)
	case int64:
		e.Time = float64(x)
	}
	return e, nil
}

// Subscribe subscribes a new subscription to the exact subjects at es
// (a *pyro.Proxy, pyro.URI or URI string).
func Subscribe(ctx context.Context, es any, subjects []string, opts ...SubscribeOption) (*Subscription, error) {
	return subscribe(ctx, es, "subscribe", subjects, opts)
}

// SubscribeMatch subscribes a new subscription to the patterns at es.
func SubscribeMatch(ctx context.Context, es any, patterns []string, opts ...SubscribeOption) (*Subscription, error) {
	return subscribe(ctx, es, "subscribeMatch", patterns, opts)
}

func subscribe(ctx context.Context, es any, method string, names []string, opts []SubscribeOption) (*Subscription, error) {
	var o subOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	cfg := o.cfg
	if cfg == nil {
		cfg = pyro.BuiltinConfig()
	} else {
		cfg = cfg.Clone()
	}
	// one event at a time, in order: oneway calls of one connection run
	// in sequence
	cfg.OnewayThreaded = false
	if o.buffer <= 0 {
		o.buffer = 100
	}
	dopts := []pyro.DaemonOption{pyro.WithPort(0)}
	if !o.hostIsSet {
		dopts = append(dopts, pyro.WithHost("127.0.0.1"))
	}
	dopts = append(dopts, o.daemon...)
	d, err := pyro.NewDaemon(cfg, dopts...)
	if err != nil {
		return nil, err
	}
	s := newSubscription(d, o.buffer, names)
	u, err := d.Register(&sink{sub: s}, "")
	if err != nil {
		d.Close()
		return nil, err
	}
	s.uri = u
	go func() {
		defer close(s.served)
		_ = d.Serve(context.Background())
	}()
	p, own, err := proxyFor(es, cfg, o.proxy)
	if err != nil {
		s.shutdown()
		return nil, err
	}
	s.es, s.ownES = p, own
	if _, err := p.Call(ctx, method, stringsAny(names), u); err != nil {
		s.shutdown()
		return nil, err
	}
	return s, nil
}

// newSubscription returns the state of a subscription of names served
// by d, with room for buffer events.
func newSubscription(d *pyro.Daemon, buffer int, names []string) *Subscription {
	return &Subscription{d: d, ch: make(chan Event, buffer), stop: make(chan struct{}), served: make(chan struct{}),
		names: names, turn: make(chan struct{}, 1)}
}

// URI returns the subscriber's URI (what the event service calls).
func (s *Subscription) URI() pyro.URI { return s.uri }

// Events yields the received events until ctx ends or the subscription
// is closed; then it yields ctx's error (or ErrClosed) once and stops.
func (s *Subscription) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			select {
			case e := <-s.ch:
				if !yield(e, nil) {
					return
				}
			case <-ctx.Done():
				yield(Event{}, ctx.Err())
				return
			case <-s.stop:
				yield(Event{}, ErrClosed)
				return
			}
		}
	}
}

// Close unsubscribes (within ctx) and stops the daemon.
func (s *Subscription) Close(ctx context.Context) error {
	s.once.Do(func() {
		var err error
		if s.es != nil {
			_, err = s.es.Call(ctx, "unsubscribe", stringsAny(s.names), s.uri)
		}
		s.closeErr = errors.Join(err, s.shutdown())
	})
	return s.closeErr
}

func (s *Subscription) shutdown() error {
	close(s.stop)
	err := s.d.Close()
	<-s.served
	if s.ownES && s.es != nil {
		s.es.Close()
	}
	if errors.Is(err, pyro.ErrDaemonClosed) {
		err = nil
	}
	return err
}
