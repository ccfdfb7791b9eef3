// Package events is Pyro3's event service for pyrogo: publish/subscribe
// between Go and Python (Pyro4 and Pyro5) programs.
//
// # The remote object
//
// A *Service is registered in a daemon the caller owns under ObjectID
// ("Pyro.EventService", Pyro3's name without its ':' group prefix):
//
//	svc := events.NewService(d.Config(), events.WithLogger(log))
//	defer svc.Close()
//	d.Register(svc, events.ObjectID)
//
// or Start runs one in a daemon of its own, with the daemon's checks
// (HMAC key, TLS, passphrases, connection validators, MAXCONNECTIONS) and
// the Service's Policy, as the pyro es command does:
//
//	srv, err := events.Start(cfg, events.WithServerHost("0.0.0.0"), events.WithPolicy(p))
//	defer srv.Shutdown(ctx) // stop accepting, deliver what is queued until ctx ends
//
// Its remote API is Pyro3's EventService, callable from Python with no
// pyrogo code on that side; every method returns None:
//
//	publish(subjects, message)
//	subscribe(subjects, subscriber)
//	subscribeMatch(patterns, subscriber)
//	unsubscribe(subjects, subscriber)
//
// subjects and patterns are a str or a list/tuple of str; an empty value
// does nothing (as in Pyro3). Subjects are case-insensitive (Pyro3
// lower-cases them). Patterns are Python regular expressions matched
// case-insensitively from the start of the subject, as re.match does,
// translated and bounded by internal/pyre with the name server's limits
// (length, compiled size) and Python's error texts; a refused pattern is
// a ValueError. unsubscribe removes the exact subjects and the patterns
// (by their text) given; names not subscribed are ignored.
//
// A subscriber is any Pyro object: a proxy (it arrives as a proxy
// reference), a URI object or a URI string. It receives each event as a
// oneway call event(event) with the dict
//
//	{"subject": str, "msg": <the message>, "time": float}
//
// where time is the publish time in epoch seconds, the same for every
// subject of one publish, and subject is spelled as the publisher wrote
// it. A subscriber that matches one event through several subscriptions
// (twice the same subject, a subject and a pattern) gets it once.
//
// # Delivery guarantees
//
// Each subscriber (keyed by its URI) has one ordered queue of
// ES_QUEUESIZE events (default 1000) and one goroutine that delivers it
// through its own proxy (the service's config: HMAC key, TLS, protocol
// auto-detection). So events of one publisher arrive at each subscriber
// in the order they were published, and a slow or dead subscriber delays
// no other subscriber's delivery.
//
// When a subscriber's queue is full: with ES_BLOCKQUEUE (Pyro3's default,
// true) the publish waits until there is room, at most ES_BLOCKTIMEOUT
// (pyrogo; default 10 s) — the other subscribers have already received
// the event by then — after which the event is dropped for that
// subscriber and counted; with ES_BLOCKQUEUE false it is dropped at once
// and counted (see Stats). Pyro3 waited for ever. One publish call waits
// ES_BLOCKTIMEOUT at most once in all, whatever number of its subjects
// and subscribers have full queues; and a subscriber that made a
// publisher wait that long is stalled: until it takes an event again,
// its full queue drops events at once rather than making every publish
// wait (Pyro3 and pyes.py wait at every publish). A queue is also full
// when its event would pass the byte bounds of WithQueueBytes (16 MiB per
// subscriber, 256 MiB for all, estimated from the decoded messages), so
// that ES_QUEUESIZE events of MAX_MESSAGE_SIZE bytes cannot pile up; a
// subscriber that keeps up is still served when the total is reached
// (see WithQueueBytes).
//
// A delivery that fails (subscriber unreachable, refused) is retried
// with exponential backoff; after MaxFailures consecutive failures
// (default 5) the subscriber is removed with all its subscriptions and
// its undelivered events are discarded. A later subscribe starts afresh.
//
// Python subscribers should run their daemon with ONEWAY_THREADED=False
// if they need the order on their side too: Pyro4 otherwise runs each
// oneway call in its own thread.
//
// # Limits
//
// Everything a client can send is bounded: subjects per call
// (MaxSubjectsPerCall), subject length (MaxSubjectLen), subscribers
// (WithMaxSubscribers), exact subscriptions per subscriber
// (WithMaxSubjects) and in all (WithMaxSubscriptions), patterns per
// subscriber and in all (WithMaxPatterns) and their compiled size in all
// (WithMaxPatternProgram), the regex work per publish (WithRegexBudget),
// the bytes queued (WithQueueBytes) and being delivered at once
// (WithSendBytes). SECURITY.md (§14) lists the attacks they answer.
//
// # Who may do what
//
// Served by a daemon, the service runs behind every check the daemon has
// (HMAC key, TLS/mTLS, passphrases, connection validators,
// MAXCONNECTIONS). On top of that:
//
//   - Third-party subscribers are refused: a remote client may only
//     subscribe (and unsubscribe) a subscriber object on its own host —
//     a URI whose address is the client's, or, for a client on this
//     machine, a loopback or local address or unix socket. A host name is
//     resolved (at most 2 s) and every address it has must qualify; for a
//     client on another machine the delivery then goes to the client's
//     own address, so a name that is made to point elsewhere later
//     changes nothing. PYRONAME/PYROMETA subscribers count as third
//     party. Otherwise anyone allowed to subscribe could make the server
//     send a busy subject's events (and their retries) to a victim.
//     Local Go calls of the methods are not restricted.
//   - A Policy (WithPolicy, pyro es --policy FILE; the rule syntax and
//     engine of pyro ns --policy) decides who may connect, publish to
//     which subjects, subscribe to which subjects, subscribe by pattern
//     (match), and subscribe third-party subscribers (thirdparty, per
//     subject), by passphrase identity, verified certificate CN or host.
//     A pattern subscription delivers only the events whose subject its
//     subscribing client may subscribe to. Refusals are SecurityErrors
//     naming what was denied (Pyro closes the connection after one, as
//     Pyro's daemons do); a connection refused by host or certificate is
//     a ConnectionDenied error ("connection rejected" in Python).
//
// # Go API
//
// Publish sends one publish call; Subscribe and SubscribeMatch run a
// small daemon of their own (loopback by default) holding the callback
// object, so a Go program writes no subscriber object:
//
//	sub, err := events.Subscribe(ctx, esURI, []string{"lab.temp"})
//	for ev, err := range sub.Events(ctx) { ... }
//
// # Storage and the delivery guarantee
//
// Subscriptions and each subscriber's stream of events go through a
// Store: WithStore, or OpenStore with a `pyro es -s` spec. "memory" (the
// default) keeps nothing across a restart. "sql:FILE" (import
// events/sqlstore) keeps the subscriptions (with who made them) and the
// events not yet confirmed in a SQLite file; NewService with it resumes
// every stored subscriber and delivers its stored events first, in
// order (check Service.Err).
//
// The guarantee with sql:FILE: every event whose publish returned without
// error is delivered to each subscriber that was subscribed to it when it
// was published, in order per subscriber, across any number of crashes
// (SIGKILL included) and restarts of the event server on the same file,
// unless that subscriber is removed (after failed deliveries), or
// unsubscribes, or the event was dropped for it because its queue stayed
// full (ES_BLOCKQUEUE false, or ES_BLOCKTIMEOUT passed; counted in
// Stats.Dropped and logged). The publish returns only once the event is
// committed for all its subscribers, one transaction per publish.
//
// Repeats: deliveries are oneway calls, which return once written to the
// connection. So the service confirms them: after AckBatch (32) events,
// or when nothing else waits for the subscriber, it pings the
// subscriber's daemon on the same connection (the answer means the
// daemon read every call before it) and only then acknowledges them in
// the store. Events sent but not confirmed at a crash are sent again
// after the restart: at most AckBatch per subscriber. Each event dict
// then carries "seq", the event's sequence number, which increases from
// event to event of a subscriber and is the same when an event is sent
// again; a Go Subscription drops repeats by it (Subscription.Repeats).
// A Python subscriber sees {"subject", "msg", "time", "seq"} and may
// see up to AckBatch events again after a restart; it drops them with
// "if ev['seq'] <= last: return". An event can be lost to a subscriber
// that itself crashes after its daemon read the call and before it
// handled it (Pyro's oneway semantics).
//
// Disk: the file uses write-ahead logging with synchronous=FULL for the
// publish transactions, so an acknowledged publish survives a power
// loss as well as a process crash; acknowledgements of deliveries are
// committed without a sync (synchronous=NORMAL): a power loss can undo
// the last ones, which only means those events are delivered again.
// Messages are stored in Pyro's marshal format, which round-trips every
// value of package py (times from a msgpack client become ISO strings,
// as the other serializers deliver them).
//
// # Several instances as one event server
//
// A Store that implements Shared (package cluster's nats:// store, `pyro
// es --backend nats://...`) is shared by several event servers, which
// then behave as one: a publish at any of them is appended to one shared
// log and returns once that is durable; each subscriber is delivered to
// by one instance (its owner: the one it subscribed at, or the one that
// took it over when that stopped), which reads the log from the
// subscriber's last confirmed event. The guarantee of sql:FILE above
// holds with "across crashes of any one instance or NATS node" in place
// of "restarts on the same file". The log is the backlog: a subscriber
// whose queue is full is fed from the log as it takes events, so events
// are not dropped while the log has room; but once the log is more than
// half full (the store's max_bytes), a subscriber that holds back its
// trimming and lags — its queue has been full for ES_BLOCKTIMEOUT (at
// once with ES_BLOCKQUEUE false), or the oldest event it was sent and has
// not confirmed was queued more than ES_BLOCKTIMEOUT ago — has its
// events up to the newest quarter of the log dropped (counted in
// Stats.Dropped, logged), so that one slow subscriber cannot fill the log
// and make every publish fail (Shared's Owner.Skip). The limits apply per
// instance. See Shared and the cluster package documentation.
package events
