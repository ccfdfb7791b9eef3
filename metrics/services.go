package metrics

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/naming"
)

// NameServer returns the options that make a name server (naming.Start)
// feed the registry: its daemon's metrics under server="<server>", and
// its lookups, registrations and removals. Give the started server's
// NameServer to NameServerNames for the number of names.
func (r *Registry) NameServer(server string) []naming.ServerOption {
	o := &nsObserver{removed: r.nsRemoved.WithLabelValues(server)}
	for i, res := range nsResults {
		o.lookups[i] = r.nsLookups.WithLabelValues(server, lookupLabel(res))
		if res != naming.ResultNotFound {
			o.regs[i] = r.nsRegs.WithLabelValues(server, string(res))
		}
		if res != naming.ResultNotFound && res != naming.ResultExists {
			o.removals[i] = r.nsRemovals.WithLabelValues(server, string(res))
		}
	}
	return []naming.ServerOption{naming.WithObserver(o), naming.WithDaemonOptions(r.Daemon(server))}
}

// NameServerNames makes the registry report the number of names of ns
// (the name server's own registration included) as pyro_ns_names under
// server="<server>", read from its storage at every scrape.
func (r *Registry) NameServerNames(server string, ns *naming.NameServer) {
	r.nsNames.mu.Lock()
	r.nsNames.servers[server] = ns
	r.nsNames.mu.Unlock()
}

// nsResults are the results an observer is told.
var nsResults = []naming.Result{naming.ResultOK, naming.ResultNotFound, naming.ResultExists, naming.ResultDenied, naming.ResultError}

// lookupLabel is the label of a lookup's result: "found" for ok.
func lookupLabel(r naming.Result) string {
	if r == naming.ResultOK {
		return "found"
	}
	return string(r)
}

// nsObserver is the naming.Observer of one server label; its counters
// are made before use (nil where a result cannot happen), by the index of
// the result in nsResults.
type nsObserver struct {
	lookups, regs, removals [5]prometheus.Counter
	removed                 prometheus.Counter
}

// slot is a result's index in nsResults (ResultError for any other).
func slot(r naming.Result) int {
	for i, x := range nsResults {
		if x == r {
			return i
		}
	}
	return len(nsResults) - 1
}

// Lookup implements naming.Observer.
func (o *nsObserver) Lookup(r naming.Result) { countIn(&o.lookups, r) }

// Register implements naming.Observer.
func (o *nsObserver) Register(r naming.Result) { countIn(&o.regs, r) }

// Remove implements naming.Observer.
func (o *nsObserver) Remove(r naming.Result, n int) {
	countIn(&o.removals, r)
	if n > 0 {
		o.removed.Add(float64(n))
	}
}

// countIn counts r in cs, as an error when r has no counter there.
func countIn(cs *[5]prometheus.Counter, r naming.Result) {
	c := cs[slot(r)]
	if c == nil {
		c = cs[slot(naming.ResultError)]
	}
	c.Inc()
}

// namesCollector serves pyro_ns_names.
type namesCollector struct {
	desc    *prometheus.Desc
	mu      sync.Mutex
	servers map[string]*naming.NameServer
}

func newNamesCollector() *namesCollector {
	return &namesCollector{desc: prometheus.NewDesc("pyro_ns_names", "Names registered in the name server (its own included).",
		[]string{"server"}, nil), servers: map[string]*naming.NameServer{}}
}

// Describe implements prometheus.Collector.
func (c *namesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector; a storage that fails is left
// out of the scrape.
func (c *namesCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	servers := make(map[string]*naming.NameServer, len(c.servers))
	for k, v := range c.servers {
		servers[k] = v
	}
	c.mu.Unlock()
	for name, ns := range servers {
		if n, err := ns.Count(context.Background()); err == nil {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), name)
		}
	}
}

// EventServer returns the option that makes an event server
// (events.Start) feed the registry's daemon metrics under
// server="<server>". Give the started server's Service to EventCounters
// for the event counters.
func (r *Registry) EventServer(server string) events.ServerOption {
	return events.WithServerDaemonOptions(r.Daemon(server))
}

// EventCounters makes the registry report svc's counters (published,
// delivered, dropped, removed subscribers, subscribers) under
// server="<server>", read at every scrape.
func (r *Registry) EventCounters(server string, svc *events.Service) {
	r.es.mu.Lock()
	r.es.servers[server] = svc
	r.es.mu.Unlock()
}

// eventsCollector serves the pyro_es_ metrics.
type eventsCollector struct {
	published, delivered, dropped, removed, subscribers *prometheus.Desc

	mu      sync.Mutex
	servers map[string]*events.Service
}

func newEventsCollector() *eventsCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"server"}, nil)
	}
	return &eventsCollector{
		published:   d("pyro_es_published_total", "Events published (one per subject of a publish)."),
		delivered:   d("pyro_es_delivered_total", "Event calls that reached a subscriber."),
		dropped:     d("pyro_es_dropped_total", "Events dropped for a full subscriber queue (once per subscriber)."),
		removed:     d("pyro_es_subscribers_removed_total", "Subscribers removed after failed deliveries."),
		subscribers: d("pyro_es_subscribers", "Current subscribers."),
		servers:     map[string]*events.Service{},
	}
}

// Describe implements prometheus.Collector.
func (c *eventsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.published
	ch <- c.delivered
	ch <- c.dropped
	ch <- c.removed
	ch <- c.subscribers
}

// Collect implements prometheus.Collector.
func (c *eventsCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	servers := make(map[string]*events.Service, len(c.servers))
	for k, v := range c.servers {
		servers[k] = v
	}
	c.mu.Unlock()
	for name, svc := range servers {
		n := svc.Counters()
		ch <- prometheus.MustNewConstMetric(c.published, prometheus.CounterValue, float64(n.Published), name)
		ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.CounterValue, float64(n.Delivered), name)
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(n.Dropped), name)
		ch <- prometheus.MustNewConstMetric(c.removed, prometheus.CounterValue, float64(n.Removed), name)
		ch <- prometheus.MustNewConstMetric(c.subscribers, prometheus.GaugeValue, float64(n.Subscribers), name)
	}
}
