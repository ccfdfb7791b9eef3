// Package pyro is Pyro (Python Remote Objects) for Go: a Daemon hosts
// ordinary Go values as remote objects and a Proxy calls them across the
// network, speaking the Pyro4 wire protocol (version 48) byte for byte and
// Pyro5's (version 502) on the same port, so Go and Python programs of
// either generation call each other in both directions. A daemon serves
// both protocols on every listener (a connection's first message decides
// which it speaks); a proxy speaks the one its PROTOCOL item says, or
// detects it ("auto", the default).
//
// A server registers a value and serves:
//
//	d, err := pyro.NewDaemon(pyro.BuiltinConfig())
//	uri, err := d.Register(&Warehouse{}, "example.warehouse")
//	go d.Serve(ctx)
//
// Exported methods are reachable under their Python-style names
// (ListContents as list_contents); see Daemon.Register for the rules.
// A method takes keyword arguments in an argument struct: a struct
// embedding Args is its parameter list, one parameter per field (see
// Args). A client calls through a proxy:
//
//	p, err := pyro.NewProxy("PYRO:example.warehouse@localhost:9999", nil)
//	v, err := p.Call(ctx, "list_contents")
//	items, err := pyro.CallT[[]string](ctx, p, "list_contents")
//
// Call and CallKw return Python values as they come (see package py), for
// scripts; CallT, CallKwT (keywords from a map or an argument struct) and
// CallStream (a remote iterator as an iter.Seq2) convert to Go types.
//
// Concurrency: the daemon serves every client connection in its own
// goroutine, and a Proxy shared by several goroutines opens several
// connections (Pyro never multiplexes calls on one), so the methods of one
// registered object run concurrently, as HTTP handlers do. Guard shared
// state with a mutex (the Warehouse of the package example does), or
// register a factory with InstanceSession or InstancePerCall to give each
// connection or call its own value. Calls on one connection run one after
// another; oneway calls run in goroutines of their own (ONEWAY_THREADED).
//
// A method whose first parameter is a context.Context gets one derived
// from Serve's context: it ends when the client disconnects during the
// call, when the daemon closes, or when the method returns (CallContextFrom
// gives the call's details). Daemon.Shutdown lets calls in progress finish
// until its context's deadline, then cancels them. Resource limits
// (connections, slow requests, item streams, oneway calls) are Config
// items with safe defaults; SECURITY.md lists them.
//
// Security is on by default: servers bind to localhost, no serializer that
// can execute code exists (pickle is refused), every decoder has limits,
// dotted names are refused, and HMAC signing is Pyro4-compatible.
//
// Configuration: a Config holds Pyro's config items (each field's `pyro`
// tag is the item's name; durations are time.Duration, seconds in PYRO_*
// variables); BuiltinConfig gives Pyro's defaults, DefaultConfig applies
// the environment, and Config.Validate checks the values. NewDaemon and
// NewProxy take a config and options, check both in one step (every
// problem in one error) and keep a copy of the config. Options are
// DaemonOptions (WithHost, WithPort, WithConnValidators, ...),
// ProxyOptions (WithSerializer, WithTimeout, WithIdentification, ...) or
// Options, which mean the same on both sides and may be given to either:
// WithHMACKey, WithReplayProtectedHMAC, WithTLSConfig, WithPeerCertCheck
// and WithLogger. options.go, daemonoptions.go and proxyoptions.go hold
// them all; config.go, configitems.go and configcheck.go the config.
//
// PYRONAME: and PYROMETA: URIs are resolved by the proxy's Resolver
// (WithResolver), by default the one package naming installs when it is
// imported (DefaultResolver); naming.NewResolver makes resolvers with
// their own cache and their own settings for the name server.
//
// TLS and mutual TLS work as Pyro4's SSL=True does, so Python peers
// interoperate: set the config's SSL items (SSL, SSL_SERVERCERT,
// SSL_CACERTS, SSL_REQUIRECLIENTCERT, SSL_CLIENTCERT, ...; see
// ServerTLSConfig and ClientTLSConfig), or pass a *tls.Config with
// WithTLSConfig (daemons and proxies). Proxies verify the server
// certificate against the host of the URI; WithPeerCertCheck adds a check
// of the other side's certificate (common name, serial, SANs, fingerprint
// pinning), and CallContext.Conn.TLS shows the client's certificate to
// methods.
//
// Who may connect is decided before anything a client sends is decoded:
// connection validators (ConnValidator; the exact MAXCONNECTIONS limit,
// MaxConnectionsPerHost, AllowHosts and DenyHosts, AllowPeerCredentials
// for unix sockets, whose files are created with mode 0600) run for every
// new connection, and a refused client gets a ConnectionDeniedError with
// the reason. Daemon.SetAllowedIdentifications and Proxy.SetIdentification
// add passphrase authentication: a challenge-response in which both sides
// prove the passphrase without sending it, bound to one connection and to
// the daemon's address and TLS certificate, so that a recorded or relayed
// proof is refused (a Python client needs a subclass of Pyro4.Proxy, see
// the README), and
// WithReplayProtectedHMAC binds every message to its connection. Serve
// warns when a daemon is reachable from the network unprotected.
//
// Interceptors (WithInterceptors) wrap every call a daemon serves, as
// middleware wraps HTTP handlers: an Interceptor sees the Call (object,
// method, arguments, CallContext) before the method runs, may refuse it
// with an error that becomes the client's exception, and may change its
// arguments and result. The name server's access policy is one.
//
// Errors: a Python exception raised by the remote side is a *RemoteError;
// local failures are *Error values of Pyro's classes (ErrCommunication,
// ErrConnectionClosed, ErrTimeout, ErrProtocol, ...), which work with
// errors.Is and errors.As.
//
// # Where things are
//
// The daemon, in the order a connection meets it:
//
//   - daemon.go: Daemon, NewDaemon, Register, Serve (the accept loop),
//     Shutdown, Close; listen.go binds the listener (TCP as Pyro4 binds,
//     unix socket files never wider than their mode); connstate.go tracks
//     idle and active connections for eviction and shutdown; limits.go
//     and budget.go hold the resource limits and the memory budget, and
//     the writes under a deadline.
//   - handshake.go: the handshake phase, from the TLS handshake to the
//     CONNECTOK, with its one refusal path, size limit and timeout; the
//     security checks it runs are in validator.go (connection validators,
//     host lists, peer credentials, the exposure warning), tls.go (TLS
//     configurations, peer certificate checks), authserver.go,
//     authendpoint.go and authlimit.go (passphrase proofs), hmacbind.go
//     (replay-protected HMAC).
//   - serverconn.go: the connection loop: reads each request under its
//     deadlines, decodes it, hands it to dispatch, sends the answer, and
//     logs once why the connection ended; serverproto.go gives a
//     connection its protocol (48 or 502) from its first message, with
//     the codecs, wire options and security rules that go with it.
//   - dispatch.go: call dispatch, with no socket: one dispatcher per
//     connection finds the object and method (resolvemethod.go), runs the
//     interceptors (interceptor.go) and the method with converted
//     arguments (args.go), batches (batchserver.go), remote attributes
//     (attrs.go), oneway calls (oneway.go) and item streams (streams.go,
//     daemonobject.go for the Pyro.Daemon object that serves them);
//     argbind.go binds arguments to an argument struct as Python binds
//     them; autoproxy.go replaces registered objects in results by
//     proxies.
//   - expose.go: which methods and attributes a Go type exposes;
//     argstruct.go: argument structs (Args), shared with the proxy.
//
// The proxy: proxy.go (connections, calls, the pool), proxyprotocol.go
// (PROTOCOL: 48, 502 or detection, remembered per address), ping.go
// (Proxy.Ping), calltyped.go (the
// typed calls) and kwargs.go (their keyword arguments), batch.go
// (batches and asynchronous calls), authclient.go (the client's
// passphrase proof), resolver.go (Resolver, for PYRONAME: and PYROMETA:
// URIs).
//
// Options: options.go (Option, the settings both sides take, and how
// options are checked), daemonoptions.go (DaemonOption), proxyoptions.go
// (ProxyOption). Shared: config.go, configitems.go and configcheck.go
// (Config, its Pyro item names and text forms, Validate), errors.go
// (Pyro's error classes), context.go (CallContext), uri.go, auth.go (the
// passphrase scheme), keyfile.go, logwire.go.
//
// Tests: *_internal_test.go files test the package from inside (package
// pyro), *_test.go files through its exported API (package pyro_test),
// in every package of the module; the helpers they share are in
// internal/testkit (relays, log capture, child processes), its rawpyro
// (hand-driven wire clients) and pyrotest (daemons and proxies), and
// internal/pytest (Python Pyro4 and Pyro5 peers).
package pyro
