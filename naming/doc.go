// Package naming is pyrogo's name server: a drop-in replacement for
// Pyro4's pyro4-ns, its clients and its discovery, interoperable with
// Python Pyro4 programs in both directions.
//
// # Server side
//
// Start runs a name server in-process (what "pyro ns" does): a daemon
// holding the NameServer object as "Pyro.NameServer", registered under
// its own name with the metadata {"class:Pyro4.naming.NameServer"}, a UDP
// broadcast responder for discovery (not on loopback, IPv6 or unix-socket
// binds, as in Pyro) and, with NS_AUTOCLEAN, the removal of registrations
// whose server has been unreachable for 20 s:
//
//	srv, err := naming.Start(cfg, naming.WithHost("0.0.0.0"))
//	fmt.Println("URI =", srv.URI())
//	defer srv.Shutdown(ctx)
//
// The NameServer object has exactly Pyro4's remote methods (count, list,
// lookup, ping, register, remove, set_metadata) with the same parameters,
// results and exceptions, plus Pyro5's yplookup; list and remove take Python regular expressions
// with re.match semantics, translated to Go's linear-time regexp
// (constructs RE2 cannot run, such as backreferences and lookaround, are
// refused with NamingError). Since any client may send them, patterns are
// bounded: at most MaxRegexLen characters and MaxRegexProgram compiled
// instructions ("invalid regex: pattern too complex"), and one query may
// spend at most a budget of matching steps (DefaultRegexBudget,
// WithRegexBudget; "regex too costly"). They are matched against a copy
// of the names, holding no lock, at most half the CPUs' worth at once,
// and a query stops when its client disconnects; a registration never
// waits for them.
//
// Pyro5 callers (protocol 502, on the same port once the daemon serves
// it) get Pyro5's name server API (Pyro5/nameserver.py): yplookup, list
// without metadata filters, tags as sets, remove(name) without the
// prefix/regex fallback, and the tag "class:Pyro5.nameserver.NameServer"
// on the name server's own registration (pyro5.go says where Pyro4's and
// Pyro5's name servers differ). The object's metadata lists yplookup for
// both protocols. Broadcast discovery is the same for both ("GET_NSURI"
// answered with the URI). Pyro5Interceptor, which Start installs, gives
// Pyro5 callers Pyro5's argument checks for list.
//
// With an access policy (WithPolicy), a connection validator checks who
// may connect, the policy's interceptor (Policy.Interceptor, a
// pyro.Interceptor; policycall.go) checks every call before the method
// runs, and every answer is computed over the names the client may see:
// list, count and remove by prefix or regex consider only the names it
// may list, and the calls whose answer tells whether a name exists
// (lookup, register with safe, set_metadata, remove by name) are refused
// alike for hidden and missing names. A NameServer served by a daemon of
// one's own is put under a policy with pyro.WithInterceptors(
// p.Interceptor(logger)) and pyro.WithConnValidators(p).
//
// Registrations live in a Storage: MemoryStorage by default, others
// through OpenStorage specs ("memory", "sql:FILE" once package
// naming/sqlstore is imported, which registers itself with
// RegisterStorage).
//
// A server program registers its daemon's objects with RegisterAll and
// removes them again with the function it returns.
//
// # Client side
//
// Locate finds a name server with Pyro's locateNS algorithm (direct host
// or list of hosts, localhost, UDP broadcast, NS_HOST) and returns a proxy for it; Client
// gives that proxy typed methods. Discover is the broadcast step alone.
//
// What discovery guarantees: broadcast answers are unauthenticated UDP
// datagrams, and anyone who can reach the client (any local user, anyone
// on the network segment) can answer faster than the real name server.
// A client with an HMAC key, TLS settings or a passphrase identification
// does not trust an answer as such: Locate connects to each answer and
// pings it with those settings, and uses the first name server that
// passes (proof that it has the key, a certificate the client accepts,
// or the passphrase, which the passphrase handshake makes the server
// prove too). Without any of those settings discovery guarantees
// nothing, as in Pyro: the first answer is used, whoever sent it. Give
// the name server's host (-n, NS_HOST) to avoid discovery altogether.
//
// # Failover between name servers
//
// NS_HOST and WithNSHost may list several name servers
// ("host1,host2:9095,[::1]:9090,./u:/path", see ParseNSHosts; a single
// host keeps Pyro4's meaning). Locate tries them in order, each with a
// 250 ms head start over the next and a bounded attempt, then broadcast
// discovery. Every name server answers discovery; several on one host
// share the broadcast port (SO_REUSEADDR, the SOCK_REUSE default), and
// Linux delivers a broadcast request to all of them and a unicast one to
// the one bound last, until it closes. A Resolver whose name server is
// lost during a lookup (IsLost) locates another, skipping that one
// (WithoutNS), and asks once more; proxies already connected keep their
// targets, which do not depend on the name server.
//
// Locate's options say where to look (WithNSHost, WithNSPort,
// WithoutBroadcast), with which configuration (WithConfig) and with which
// settings for the name server proxies (WithProxyOptions); options.go
// lists every option of the package.
//
// The name server found may be Pyro4's, Pyro5's or pyrogo's: the proxies
// speak the protocol the config's PROTOCOL or a WithProxyOptions(
// pyro.WithProtocol(...)) chooses, detected per address by default. Over
// Pyro5's protocol, whose list has no metadata filters, Client.List with
// a metadata filter and the resolution of PYROMETA ask yplookup instead,
// as Pyro5's own resolve does. Pyro5's name server itself has two limits
// a Go client sees as a Python one does: over marshal it cannot send
// lookup(name, return_metadata=True) (ValueError "unmarshallable object"),
// and over json and msgpack it cannot send list(return_metadata=True)
// once a name was registered with metadata None (a SerializeError about
// frozenset).
//
// # Resolving PYRONAME: and PYROMETA: URIs
//
// A Resolver (NewResolver) turns those URIs into PYRO: URIs for proxies
// (pyro.WithResolver), with a cache of its own (WithResolveTTL, Flush): a
// proxy resolves its URI for every new connection, and a failed
// connection or call makes it drop the answer (Forget). A resolver
// reaches the name server with the proxy's configuration, HMAC key, TLS
// settings and passphrase, then its own WithProxyOptions, which win: so
// a name server and a target daemon may require different passphrases.
// Importing this package installs DefaultResolver() as pyro's default
// (pyro.DefaultResolver), which proxies without a resolver of their own
// use; it cannot be replaced or reconfigured.
//
// Library code here never prints; it logs through the slog.Logger given
// with WithLogger.
package naming
