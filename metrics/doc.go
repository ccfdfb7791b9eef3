// Package metrics exposes Prometheus metrics of pyrogo's servers: daemons,
// the name server, the event server and HTTP handlers such as the gateway.
// It is the only package of the module that imports the Prometheus client
// library; the servers themselves only offer hooks (pyro.Observer,
// naming.Observer, events.Service.Counters) that cost nothing when unused.
//
// A Registry holds the metrics and hands out the hooks:
//
//	reg := metrics.New(metrics.WithLogger(logger))
//	d, err := pyro.NewDaemon(cfg, reg.Daemon("app"))            // a daemon
//	ns, err := naming.Start(cfg, reg.NameServer("ns")...)        // a name server
//	reg.NameServerNames("ns", ns.NameServer())
//	es, err := events.Start(cfg, reg.EventServer("es"))          // an event server
//	reg.EventCounters("es", es.Service())
//	h := reg.InstrumentHandler("gateway", gatewayHandler)        // an HTTP handler
//	ln, err := reg.Listen("127.0.0.1:9100")                      // opt-in address
//	go reg.Serve(ctx, ln)                                        // GET /metrics
//
// # Metrics
//
// Every daemon metric carries server, the name given to Daemon,
// NameServer or EventServer.
//
//	pyro_connections_open{server}                     gauge      connections open (handshake or established)
//	pyro_connections_total{server}                    counter    connections accepted
//	pyro_connections_refused_total{server,reason}     counter    refused: connection_cap, max_connections, validator, tls, hmac, auth, handshake, protocol
//	pyro_received_bytes_total{server}                 counter    bytes read from clients (TLS records included)
//	pyro_sent_bytes_total{server}                     counter    bytes written to clients
//	pyro_calls_total{server,object,method,outcome}    counter    calls; outcome is ok or the exception class ("builtins.ValueError")
//	pyro_call_duration_seconds{server,object,method}  histogram  time to run a call
//	pyro_ns_lookups_total{server,result}              counter    found, not_found, denied, error
//	pyro_ns_registrations_total{server,result}        counter    ok, exists, denied, error
//	pyro_ns_removals_total{server,result}             counter    remove calls: ok, denied, error
//	pyro_ns_removed_names_total{server}               counter    names removed
//	pyro_ns_names{server}                             gauge      names registered (read at scrape)
//	pyro_es_published_total{server}                   counter    events published (one per subject)
//	pyro_es_delivered_total{server}                   counter    event calls that reached a subscriber
//	pyro_es_dropped_total{server}                     counter    events dropped for a full queue
//	pyro_es_subscribers_removed_total{server}         counter    subscribers removed after failed deliveries
//	pyro_es_subscribers{server}                       gauge      current subscribers
//	pyro_http_requests_total{handler,method,code}     counter    HTTP requests answered
//	pyro_http_request_duration_seconds{handler,method} histogram time to answer
//	pyro_http_requests_in_flight{handler}             gauge      requests being answered
//
// plus the Go runtime's (go_*) and the process's (process_*).
//
// # Label cardinality
//
// Every label value a client could choose is an attack on the metrics
// backend's memory: a client calling random object or method names must
// not create series. So the call metrics are labelled only with object ids
// registered in the daemon and names that reach an exposed method (or
// remote attribute access); a call of an unknown object is counted under
// object and method "unknown", a call of a registered object's unknown
// method under that object and method "unknown". Even registered names
// are capped: beyond WithMaxCallSeries object/method pairs per server
// (default 200) calls count under "other"/"other", beyond WithMaxOutcomes
// exception classes (default 50) under outcome "other". Refusal reasons,
// naming results, HTTP methods (others are "other") and status codes are
// fixed sets.
//
// # Serving
//
// Metrics are opt-in: nothing listens until Listen (or ListenAndServe) is
// called with an address, which the commands take from --metrics ADDR
// (pyro ns, pyro es, pyro echoserver, and pyro httpgateway, whose handler
// it instruments as handler="gateway"). Listen logs a warning for an
// address that is not loopback. Handler gives the handler alone, to mount
// elsewhere.
package metrics
