package metrics

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Defaults of the options.
const (
	// DefaultMaxCallSeries bounds the object/method pairs that label the
	// call metrics, per server (see WithMaxCallSeries).
	DefaultMaxCallSeries = 200
	// DefaultMaxOutcomes bounds the exception classes that label the call
	// counter, per server (see WithMaxOutcomes).
	DefaultMaxOutcomes = 50
)

// Fixed label values for what is not labelled by name.
const (
	// Unknown labels the object of a call of an object id that is not
	// registered, and the method of a call whose name reaches no exposed
	// method.
	Unknown = "unknown"
	// Other labels what falls beyond a label cap: object and method of
	// pairs beyond WithMaxCallSeries, exception classes beyond
	// WithMaxOutcomes, HTTP methods outside the standard ones.
	Other = "other"
)

// Registry holds the Prometheus metrics of the pyrogo servers of one
// process and hands out the hooks that feed them (Daemon, NameServer,
// EventServer, InstrumentHandler). Create it with New; its methods are
// safe for concurrent use.
type Registry struct {
	reg        *prometheus.Registry
	log        *slog.Logger
	maxSeries  int
	maxOutcome int

	conns     *prometheus.GaugeVec
	accepted  *prometheus.CounterVec
	refused   *prometheus.CounterVec
	calls     *prometheus.CounterVec
	durations *prometheus.HistogramVec
	bytes     *bytesCollector

	nsLookups  *prometheus.CounterVec
	nsRegs     *prometheus.CounterVec
	nsRemovals *prometheus.CounterVec
	nsRemoved  *prometheus.CounterVec
	nsNames    *namesCollector
	es         *eventsCollector

	httpReqs     *prometheus.CounterVec
	httpDur      *prometheus.HistogramVec
	httpInFlight *prometheus.GaugeVec

	mu      sync.Mutex
	daemons map[string]*daemonObserver // by server name
}

// Option configures New.
type Option func(*Registry)

// WithLogger sets the logger of Listen's warning and of the metrics
// endpoint's errors (default: discard).
func WithLogger(l *slog.Logger) Option { return func(r *Registry) { r.log = l } }

// WithMaxCallSeries bounds the distinct object/method pairs that label
// the call metrics of one server (default DefaultMaxCallSeries); calls
// of further pairs are counted under object and method "other".
func WithMaxCallSeries(n int) Option { return func(r *Registry) { r.maxSeries = n } }

// WithMaxOutcomes bounds the distinct exception classes that label the
// call counter of one server (default DefaultMaxOutcomes); further
// classes are counted as outcome "other".
func WithMaxOutcomes(n int) Option { return func(r *Registry) { r.maxOutcome = n } }

// New returns a registry with the pyrogo metrics (see the package doc)
// and the Go runtime and process collectors.
func New(opts ...Option) *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), maxSeries: DefaultMaxCallSeries, maxOutcome: DefaultMaxOutcomes,
		daemons: map[string]*daemonObserver{}}
	for _, o := range opts {
		if o != nil {
			o(r)
		}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.maxSeries, r.maxOutcome = max(r.maxSeries, 0), max(r.maxOutcome, 0)
	r.conns = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pyro_connections_open",
		Help: "Client connections open in a daemon (in their handshake or established)."}, []string{"server"})
	r.accepted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pyro_connections_total",
		Help: "Client connections a daemon accepted."}, []string{"server"})
	r.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pyro_connections_refused_total",
		Help: "Client connections a daemon refused, by reason."}, []string{"server", "reason"})
	r.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pyro_calls_total",
		Help: "Calls a daemon served, by object, method and outcome (ok or the exception class)."},
		[]string{"server", "object", "method", "outcome"})
	r.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pyro_call_duration_seconds",
		Help:    "Time a daemon took to run calls (decoded request to result), by object and method.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}},
		[]string{"server", "object", "method"})
	r.bytes = newBytesCollector()
	r.nsLookups = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pyro_ns_lookups_total",
		Help: "Name server lookups, by result (found, not_found, denied, error)."}, []string{"server", "result"})
	r.nsRegs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pyro_ns_registrations_total",
		Help: "Name server registrations, by result (ok, exists, denied, error)."}, []string{"server", "result"})
	r.nsRemovals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pyro_ns_removals_total",
		Help: "Name server remove calls, by result (ok, denied, error)."}, []string{"server", "result"})
	r.nsRemoved = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pyro_ns_removed_names_total",
		Help: "Names the name server's remove calls removed."}, []string{"server"})
	r.nsNames = newNamesCollector()
	r.es = newEventsCollector()
	r.httpReqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pyro_http_requests_total",
		Help: "HTTP requests an instrumented handler answered, by method and status code."}, []string{"handler", "method", "code"})
	r.httpDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pyro_http_request_duration_seconds",
		Help: "Time an instrumented handler took to answer.", Buckets: prometheus.DefBuckets}, []string{"handler", "method"})
	r.httpInFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pyro_http_requests_in_flight",
		Help: "HTTP requests an instrumented handler is answering."}, []string{"handler"})
	r.reg.MustRegister(r.conns, r.accepted, r.refused, r.calls, r.durations, r.bytes,
		r.nsLookups, r.nsRegs, r.nsRemovals, r.nsRemoved, r.nsNames, r.es,
		r.httpReqs, r.httpDur, r.httpInFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Gatherer returns the Prometheus registry, to gather or to combine with
// others.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Register adds the application's own collectors to the registry.
func (r *Registry) Register(c prometheus.Collector) error { return r.reg.Register(c) }

// Handler returns the HTTP handler that serves the metrics in the
// Prometheus text (or protobuf) format. At most 4 scrapes run at once;
// more are answered 503.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		ErrorLog:            slogPrinter{r.log},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	})
}

// slogPrinter is promhttp's error logger on a slog.Logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.l.Warn("metrics: scrape error", "err", sprint(v...))
}
