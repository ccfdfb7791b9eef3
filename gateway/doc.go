// Package gateway is pyrogo's HTTP/JSON gateway: Pyro4's
// Pyro4.utils.httpgateway (pyro4-httpgateway) for Go, so that browsers
// and programs in any language call Pyro objects over HTTP with JSON, and
// clients written for Pyro4's gateway work unchanged. It also serves the
// web console (package gateway/console).
//
// # URL scheme (as Pyro4's)
//
//	GET|POST /pyro/NAME/METHOD?param=value...
//
// NAME is looked up in the name server, METHOD is called on the object
// with the query (and, for POST, form) parameters as keyword arguments,
// all strings (a parameter given more than once is a list of strings).
// The split of the path is Pyro4's greedy (.+)/(.+): the method is what
// follows the last slash. METHOD may be an exposed attribute (read; no
// parameters allowed) or "$meta", which answers
// {"methods": [...], "attributes": [...]}. The answer is the JSON
// serializer's payload of the call's reply, byte for byte as the daemon
// sent it (status 200, application/json; charset=utf-8, with the header
// X-Pyro-Correlation-Id); a remote exception is status 500 with the
// exception as JSON; a oneway call (a method the metadata declares
// oneway, or the request header "X-Pyro-Options: oneway") answers 200
// with an empty body. The request header X-Pyro-Correlation-Id (a UUID)
// becomes the call's correlation id; without it a new random one is used.
// GET / redirects (302) to /pyro/; other HTTP methods are 405; paths
// outside /pyro/ are 404. The exact path /pyro/ and everything under
// /console/ is the web console.
//
// # Access control
//
// Only names matching the expose regex (a Python pattern with re.match
// semantics: anchored at the start only; default `http\.`, as Pyro4's)
// are reachable: any other name is 403, whatever the path looks like
// (percent-encoded, with "..", "//", NUL or control characters, a
// PYRO:/PYRONAME: URI as the name). Methods starting with "_" (private,
// dunder, Pyro's own _pyro* names), dotted methods and "$" names other
// than $meta are 403 too, before anything is looked up: Pyro4's gateway
// would hand some of them to its local proxy object. With a gateway key
// (WithGatewayKey), every request must carry it in the header
// X-Pyro-Gateway-Key or the parameter $key (403 otherwise; compared in
// constant time).
//
// # Browsers
//
// A web page in the browser of someone on the gateway's host must not be
// able to use it. On a loopback address, a request whose Host header is
// not an IP literal, localhost (*.localhost), this machine's host name or
// a name of WithAllowedHosts is 403 (DNS rebinding: evil.example
// resolving to 127.0.0.1). A call a browser marks as cross-site or
// same-site (Sec-Fetch-Site other than same-origin and none) or, without
// Sec-Fetch-Site, whose Origin is not the request's host, is 403 unless
// the origin is one of WithAllowedOrigins (CSRF: an <img src> or form
// post calling a method). Programs send neither header and are not
// affected. Answers are X-Content-Type-Options: nosniff, and call
// answers Cache-Control: no-store.
//
// # Limits (see Limits for the defaults)
//
// Request bodies, header bytes, the number of parameters and the length
// of object and method names (1024 bytes) are bounded (413, 431, 400); a client gets ReadHeaderTimeout to send its headers
// and ReadTimeout for its body (slow clients are cut off); each request's
// Pyro work (lookup, connect, call) has the Timeout (default 30 s, not
// Pyro's 0 = forever); at most MaxConcurrent requests run at once, and
// the excess is answered 503 at once instead of queueing, and at most
// MaxPerDaemon of them may wait on one daemon (a daemon that never
// answers cannot take every slot); replies over MaxReplyBytes (8 MiB)
// fail the request before their payload is read, and replies are
// forwarded without being decoded; NewServer's
// listener holds at most MaxConns connections, and when it is full it
// closes the oldest connection that has not started a request before it
// refuses a new one with 503.
//
// Unlike Pyro4's gateway, which looks up the name and makes a new proxy
// (a new TCP connection and handshake) for every request, the gateway
// looks the name up for every request (so re-registrations take effect at
// once) but keeps proxies per URI (at most MaxProxies, each with at most
// ConnsPerProxy pooled connections) and reuses their connections.
// Whoever may register names chooses where the gateway connects:
// WithTargetCheck restricts that.
package gateway
