package metrics

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pyrogo/pyro"
)

// Daemon returns the option that makes a daemon feed the registry's
// daemon metrics under the label server="<server>" (give each daemon of
// a process its own name; daemons given the same name add up).
func (r *Registry) Daemon(server string) pyro.DaemonOption {
	return pyro.WithObserver(r.Observer(server))
}

// Observer returns the pyro.Observer behind Daemon(server), to combine
// with an observer of the application's own.
func (r *Registry) Observer(server string) pyro.Observer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o := r.daemons[server]; o != nil {
		return o
	}
	o := &daemonObserver{r: r, server: server, open: r.conns.WithLabelValues(server),
		accepted: r.accepted.WithLabelValues(server), refused: map[pyro.RefusalReason]prometheus.Counter{},
		pairs: map[pair]*pairSeries{}, outcomes: map[string]string{}, bytes: r.bytes.server(server)}
	for _, reason := range refusalReasons {
		o.refused[reason] = r.refused.WithLabelValues(server, string(reason))
	}
	o.other = o.newSeries(Other, Other)
	o.unknown = o.newSeries(Unknown, Unknown)
	r.daemons[server] = o
	return o
}

// refusalReasons are all the values of pyro.RefusalReason: their series
// exist from the start, at 0.
var refusalReasons = []pyro.RefusalReason{pyro.RefusedConnectionCap, pyro.RefusedMaxConnections, pyro.RefusedValidator,
	pyro.RefusedTLS, pyro.RefusedHMAC, pyro.RefusedAuth, pyro.RefusedHandshake, pyro.RefusedProtocol}

type pair struct{ object, method string }

// pairSeries are the series of one object/method pair.
type pairSeries struct {
	object, method string
	ok             prometheus.Counter
	duration       prometheus.Observer
}

// daemonObserver is the pyro.Observer of one server label.
type daemonObserver struct {
	r        *Registry
	server   string
	open     prometheus.Gauge
	accepted prometheus.Counter
	refused  map[pyro.RefusalReason]prometheus.Counter // read only after Observer
	bytes    *serverBytes

	other, unknown *pairSeries // outside the cap

	mu       sync.RWMutex
	pairs    map[pair]*pairSeries
	outcomes map[string]string // exception class → its label value
}

func (o *daemonObserver) newSeries(object, method string) *pairSeries {
	return &pairSeries{object: object, method: method,
		ok:       o.r.calls.WithLabelValues(o.server, object, method, "ok"),
		duration: o.r.durations.WithLabelValues(o.server, object, method)}
}

// ConnOpened implements pyro.Observer.
func (o *daemonObserver) ConnOpened(conn *pyro.ConnInfo) {
	o.open.Inc()
	o.accepted.Inc()
	o.bytes.opened(conn)
}

// ConnRefused implements pyro.Observer.
func (o *daemonObserver) ConnRefused(_ *pyro.ConnInfo, reason pyro.RefusalReason) {
	c := o.refused[reason]
	if c == nil {
		c = o.refused[pyro.RefusedProtocol] // not a known reason: never a new series
	}
	c.Inc()
}

// ConnClosed implements pyro.Observer.
func (o *daemonObserver) ConnClosed(conn *pyro.ConnInfo, st pyro.ConnStats) {
	o.open.Dec()
	o.bytes.closed(conn, st)
}

// CallDone implements pyro.Observer. Only registered objects and exposed
// methods label the series, up to the cap; everything a client makes up
// is counted under "unknown", everything beyond the cap under "other".
func (o *daemonObserver) CallDone(ev pyro.CallEvent) {
	s := o.unknown
	switch {
	case ev.Registered && ev.Exposed:
		s = o.series(ev.Object, ev.Method)
	case ev.Registered:
		s = o.series(ev.Object, Unknown)
	}
	s.duration.Observe(ev.Duration.Seconds())
	if ev.Class == "" {
		s.ok.Inc()
		return
	}
	o.r.calls.WithLabelValues(o.server, s.object, s.method, o.outcome(ev.Class)).Inc()
}

// series returns the series of a pair, made if the cap allows.
func (o *daemonObserver) series(object, method string) *pairSeries {
	k := pair{object, method}
	o.mu.RLock()
	s := o.pairs[k]
	o.mu.RUnlock()
	if s != nil {
		return s
	}
	if !utf8.ValidString(object) || !utf8.ValidString(method) {
		return o.other
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if s = o.pairs[k]; s != nil {
		return s
	}
	if len(o.pairs) >= o.r.maxSeries {
		return o.other
	}
	s = o.newSeries(object, method)
	o.pairs[k] = s
	return s
}

// outcome returns the label value of an exception class.
func (o *daemonObserver) outcome(class string) string {
	o.mu.RLock()
	v, ok := o.outcomes[class]
	o.mu.RUnlock()
	if ok {
		return v
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if v, ok = o.outcomes[class]; ok {
		return v
	}
	if len(o.outcomes) >= o.r.maxOutcome || !utf8.ValidString(class) || class == "ok" {
		return Other
	}
	o.outcomes[class] = class
	return class
}

// bytesCollector serves pyro_received_bytes_total and
// pyro_sent_bytes_total: the bytes of closed connections plus those of
// the open ones so far, read at scrape time.
type bytesCollector struct {
	in, out *prometheus.Desc
	mu      sync.Mutex
	servers map[string]*serverBytes
}

// serverBytes are the byte counts of one server label.
type serverBytes struct {
	mu      sync.Mutex
	in, out int64 // of closed connections
	live    map[*pyro.ConnInfo]struct{}
}

func newBytesCollector() *bytesCollector {
	return &bytesCollector{
		in: prometheus.NewDesc("pyro_received_bytes_total", "Bytes a daemon read from its clients' connections (TLS records included).",
			[]string{"server"}, nil),
		out: prometheus.NewDesc("pyro_sent_bytes_total", "Bytes a daemon wrote to its clients' connections (TLS records included).",
			[]string{"server"}, nil),
		servers: map[string]*serverBytes{}}
}

func (b *bytesCollector) server(name string) *serverBytes {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.servers[name]
	if s == nil {
		s = &serverBytes{live: map[*pyro.ConnInfo]struct{}{}}
		b.servers[name] = s
	}
	return s
}

func (s *serverBytes) opened(c *pyro.ConnInfo) {
	s.mu.Lock()
	s.live[c] = struct{}{}
	s.mu.Unlock()
}

func (s *serverBytes) closed(c *pyro.ConnInfo, st pyro.ConnStats) {
	s.mu.Lock()
	delete(s.live, c)
	s.in += st.BytesIn
	s.out += st.BytesOut
	s.mu.Unlock()
}

func (s *serverBytes) totals() (in, out int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, out = s.in, s.out
	for c := range s.live {
		i, o := c.Bytes()
		in += i
		out += o
	}
	return in, out
}

// Describe implements prometheus.Collector.
func (b *bytesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.in; ch <- b.out }

// Collect implements prometheus.Collector.
func (b *bytesCollector) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	servers := make(map[string]*serverBytes, len(b.servers))
	for k, v := range b.servers {
		servers[k] = v
	}
	b.mu.Unlock()
	for name, s := range servers {
		in, out := s.totals()
		ch <- prometheus.MustNewConstMetric(b.in, prometheus.CounterValue, float64(in), name)
		ch <- prometheus.MustNewConstMetric(b.out, prometheus.CounterValue, float64(out), name)
	}
}

func sprint(v ...any) string { return fmt.Sprint(v...) }
