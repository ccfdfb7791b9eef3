// Package cluster lets several name servers share one registry, and
// several event servers one stream of events, through NATS JetStream
// (event servers: see "Event servers" below). For name servers: the
// storage "nats://HOST:PORT[,HOST:PORT...]/BUCKET" keeps the
// registrations in a JetStream key-value bucket, and every name server
// pointed at the same NATS cluster and bucket serves the same registry. It is the only package of the module that imports the NATS
// client (github.com/nats-io/nats.go), so programs that do not import it
// do not pull NATS in. Importing it registers the "nats" scheme with
// naming.RegisterStorage (pyro ns does):
//
//	import _ "github.com/pyrogo/pyro/cluster"
//	st, err := naming.OpenStorage("nats://10.0.0.1:4222,10.0.0.2:4222,10.0.0.3:4222/names")
//
// Open can also be called directly (with WithLogger) and the Store handed
// to naming.WithStorage.
//
// # Spec
//
// The hosts are NATS client addresses (more are discovered from the
// cluster); BUCKET is the key-value bucket, created on first use with
// history 1, file storage, replicas=N (default min(3, servers known)),
// max_value (largest registration, default 64 KiB) and max_bytes (size
// of the bucket, default 256 MiB). An existing bucket is used as it is.
// Query parameters: replicas, timeout (every request to NATS, default
// 10s), max_value, max_bytes, purge_deletes (see "Limits"; default 30m,
// 0 never purges), creds=FILE (a NATS credentials file),
// tls_ca=FILE, tls_cert=FILE and tls_key=FILE (TLS to NATS, with a client
// certificate when both are given). A user:password@ before the hosts
// authenticates with a user and password; the command line shows it to
// other local users, and pyro ns warns about it: prefer creds=FILE. The
// password never appears in messages (Spec.Redacted).
//
// # Reads and writes
//
// Each Store holds the whole bucket in memory, kept current by a watch
// of the bucket (an ordered JetStream consumer: every key's last value,
// then every write in revision order), so Get, All, Len, ListPrefix and
// ListMetadata never go to NATS. Put, Create and Delete return once
// JetStream has acknowledged the write (stored on a majority of the
// bucket's replicas), and the writing instance applies its own write to
// its cache at once, so a name server reads its own writes; the others
// see it when their watch delivers it (register on one, visible on
// another about 1 ms later over loopback; the README has the figures). Every instance orders All by the revision of
// each name's last write, so a replaced registration moves to the end, as
// with the sql storage.
//
// Store implements naming.Shared. register(safe=True) uses Create,
// JetStream's create-if-absent on the key, so of several name servers
// registering the same name safely at once exactly one succeeds. Plain
// register replaces. set_metadata reads the name's entry and revision
// from the bucket (GetRevision) and writes it back with the new tags only
// if the key is still at that revision (Update, JetStream's
// compare-and-set on the key's last sequence), starting again on a
// conflict (at most 32 times), so it never undoes a registration or
// removal another instance made meanwhile. Auto-clean takes each entry
// with its revision from the cache before probing it and removes only
// that revision (DeleteRevision). Delete of a name the cache does not
// hold asks NATS, so a name another instance just registered is removed
// too.
//
// # Keys and values
//
// Pyro names are arbitrary strings and NATS keys are not: a name is
// stored under "n" + its unpadded base64url encoding (reversible; every
// character of it is allowed in a key), or, when that would exceed 512
// characters (names over 384 bytes), under "h" + the base64url SHA-256 of
// the name; the value always carries the full name, and a value whose
// name does not match its key is ignored. The value is a versioned binary
// encoding (version byte 1, then length-prefixed name, URI and sorted
// tags), decoded with every length checked against the bytes present.
//
// # Limits
//
// A registration larger than max_value is refused (ErrTooLarge), before
// it reaches NATS. The bucket's max_bytes bounds its contents, and so the
// memory of every instance's cache: once full, writes fail (JetStream
// discards new writes, not old ones). Deleted names leave a delete
// marker each in the bucket (history 1 keeps one per key; 97 bytes for a
// short name), which counts toward max_bytes and which an instance
// opening the bucket reads (100,000 removed names: 9.7 MB, opened in
// 1.3 s; BenchmarkDeleteMarkers). Every instance purges the markers older
// than purge_deletes every quarter of that age (at most every 10
// minutes), each one only up to its own revision, so a name registered
// again after its marker keeps its registration (Store.PurgeDeletes;
// jetstream.KeyValue.PurgeDeletes would purge the key whole). An
// instance whose watch was away for more than half of purge_deletes (cut
// off from NATS) may have missed a removal whose marker was purged
// meanwhile: when its watch is current again it checks its cache against
// the bucket's keys and drops what is gone. The bucket itself is trusted: anyone
// who may write to it can change the registry, so NATS accounts and
// permissions must limit it to the name servers.
//
// # When NATS is unreachable
//
// Lookups go on from the cache as it was when the connection was lost
// (Store.Connected reports since when); a request that reaches no stream
// leader (no responders: the replicas settling after a node's death or
// restart) is sent again every 100 ms; writes wait at most timeout and
// then fail with an error matching ErrUnavailable, which remote callers
// get as NamingError "nats storage ...: NATS unavailable: ...". The client
// reconnects by itself (every 250 ms, to any server of the cluster), and
// the watch resumes from the last revision it applied: a watch whose
// consumer was lost with its NATS node notices within two heartbeats
// (1 s each) and is recreated. A supervisor also compares, every 2 s, the
// watch with the bucket's last revision and replaces a watch that is
// behind and has not moved since its previous check (the consumer gives
// up for good after some failures during leader elections). So while any
// node is reachable the cache is at most about 5 s behind the bucket
// (measured: 4 s for a watch that died silently), and usually
// milliseconds.
// Open itself retries for three timeouts while the cluster elects its
// leaders.
//
// # Pyro.NameServer
//
// As the storage is naming.Shared, each name server keeps its own
// registration, Pyro.NameServer, to itself: lookup, list (every filter),
// count and yplookup of each instance answer with that instance's URI,
// as its broadcast responder does. The entry is never written to the
// bucket (one found there, from an older version, is ignored); a client
// cannot register it (NamingError; with safe=True "name already
// registered") or change its tags, and remove leaves it. Clients find a
// name server by NS_HOST or broadcast, where every instance answers with
// its own address.
//
// # Event servers
//
// OpenEvents opens the store of `pyro es --backend
// nats://HOST:PORT[,...]/NAME` (the spec and its parameters are those
// above; NAME plays the bucket's part). Importing the package also
// registers it with events.RegisterStore, so `pyro es -s nats://...` and
// events.OpenStore take it too. It implements events.Shared: every event
// server opened on the same cluster and NAME behaves as one event server.
//
//   - The events live in the JetStream stream PYROES_NAME (file storage,
//     the spec's replicas, max_bytes; a full stream refuses new
//     publishes, it never discards old events). One publish is one
//     message (Pyro's marshal format), and publish returns only once
//     JetStream acknowledged it: stored on a majority of the replicas. So
//     every instance sees every publish, in one order, which keeps each
//     publisher's order.
//   - Subscribers live in the key-value bucket PYROES_NAME_subs, one
//     record per subscriber URI: its subscriptions (with who made them,
//     for the policy), its owner (the instance that delivers to it) and
//     its cursor (the last event whose delivery was confirmed; see the
//     events package, "Storage"). A subscribe creates the record with the
//     cursor at the end of the log, so the subscriber gets what is
//     published from then on, and makes the instance that took it the
//     owner.
//   - The owner reads the log from the cursor for each of its
//     subscribers, keeps what the subscriptions match, delivers it and
//     advances the cursor after each confirmation (written in the
//     background, the confirmations of 50 ms together, compare-and-set
//     on the record: an instance that lost the subscriber cannot move
//     it). Each instance follows the log's end with one tail reader: a
//     pull consumer of its own that fetches each new message once,
//     decodes it once and keeps it in a window of the newest messages (a
//     quarter of the fetch budget, 8 MiB by default), which every reader
//     that has caught up takes its events from (the decoded events are
//     shared, not copied), holding no consumer and none of the budget.
//     So the instance takes each published byte from NATS once, however
//     many subscribers it delivers to (TestAttackIdleSubscribersReadLog).
//     A reader that is behind the window (it starts behind it: a new
//     owner after a takeover, a subscriber whose cursor lags; or its
//     subscriber did not keep up while the window moved on) or that finds
//     the tail stalled reads with a pull consumer of its own (fetching at
//     most 16 messages and 2 MiB at a time, each fetch waiting at most
//     2 s), and joins the tail again once it reaches the window; the
//     events are positions in the log, so none is lost or repeated at
//     the switches (TestEventReadTailSwitch). Both kinds of consumer
//     check their delivery sequence: a gap (a message lost on its way)
//     or a fetch that brings nothing while the log has more makes the
//     tail read on after its last message with a new consumer, and a
//     reader's own consumer end its read, which starts again after the
//     last event handled. The log is the backlog: the service's queue
//     bounds apply, and a reader whose subscriber's queue is full stops
//     reading until it is down to half (its fetched messages are let
//     go). Memory: the bytes fetched and not yet handed to the queues
//     are bounded per instance, not per subscriber, by WithFetchBudget
//     (DefaultFetchBudget, 32 MiB): the tail takes its window and one
//     fetch from it once, a reader with its own consumer takes its
//     fetch's 2 MiB before fetching, and readers wait their turn in
//     order, so a thousand subscribers cannot make an instance hold a
//     thousand fetches.
//   - An event's "seq" is its message's stream sequence times 1024 plus
//     its index in the publish: the same on every instance, so a repeat
//     after a takeover carries the seq of the first copy.
//
// Ownership: each instance writes a heartbeat key ("i." + its id) every
// lease/8 (WithLease; default DefaultLease, 4 s). An instance whose
// heartbeat has not changed for a lease (by the watching instance's own
// clock; no clocks are compared), or that removed it when it stopped, is
// taken for stopped, and the instances take over its subscribers, one
// each by compare-and-set, starting from the cursor: the events it sent
// and had not confirmed are sent again (marked by their seq). So a
// subscriber of a SIGKILLed instance is served again after about one
// lease, plus however long NATS takes to elect new leaders if a NATS
// node died too (TestEventServerProcesses, default lease, a NATS node
// SIGKILLed a second after the event server, 2 busy cores: longest pause
// in deliveries 3.6 s to 14 s over 14 runs, the longest when the bucket
// had no leader for 8 s; TestEventServerTakeoverInProcess, 2 s lease:
// everything delivered 2 s to 5 s after the crash), and at once after a
// clean stop. Fencing: an instance that could not write its
// heartbeat for half the lease stops its own deliveries (checked every
// lease/8, a heartbeat write waiting at most lease/4: stopped within 7/8
// of a lease after its last heartbeat written), and the others take over
// no earlier than a lease after they saw that heartbeat, and only once
// their own heartbeats have been written without a gap for a whole lease;
// so an instance cut off from NATS has stopped delivering before anyone
// else starts (two instances deliver to one subscriber at once at most
// for the one delivery in flight when it stopped). A subscribe
// at another instance moves the subscriber there; the old owner stops
// when its watch shows the change or its next cursor write fails,
// whichever comes first.
//
// The log is trimmed every 2.5 leases (10 s) to the lowest cursor of all
// subscribers (and never beyond the end the log had at the previous
// check, so that a subscriber recorded meanwhile loses nothing), and
// every beat while it is more than half full. Slow subscribers: while
// the log is more than half of max_bytes, each instance moves forward
// the cursor of every subscriber it delivers to that is older than the
// newest quarter of max_bytes, if that subscriber has had every event up
// to there, or if it lags as a queue of the memory and sql stores would
// drop for it (events.Owner.Skip): its queue has been full for
// ES_BLOCKTIMEOUT (at once with ES_BLOCKQUEUE false), or the oldest event
// it was sent and has not confirmed was queued more than ES_BLOCKTIMEOUT
// ago. Its events up to there that were not sent are then dropped, each
// counted in Stats.Dropped (and Counters), and logged. So one slow or
// hanging subscriber cannot fill the log and deny every publish of the
// cluster; a subscriber that keeps up loses nothing (its events stay,
// and publishes wait for it instead). A publish into a full log waits,
// within the spec's timeout, for the trimming (a beat) before it fails.
// Publishes fail after the spec's timeout while NATS is unreachable or
// has no quorum for the stream (errors match ErrUnavailable; nothing is
// buffered), and with JetStream's "maximum bytes exceeded" when the log
// stays full (the subscribers that hold it keep up, or their owner
// cannot reach NATS). One publish and one
// subscriber's record must each fit NATS's max_payload (1 MiB by
// default); max_value is not used. A subscribe that would fill the
// subscriber bucket past 3/4 of max_bytes is refused (ValueError "too
// many subscriptions"): the rest is kept for heartbeats, cursors and
// takeovers, which a full bucket would refuse. The subscribes of one
// instance run one at a time, so that its limits see every one before. JetStream acknowledges a write once a
// majority stored it, not once it is on disk (nats-server's
// sync_interval): an acknowledged event survives the loss of any one
// node or event server, not a power loss of the whole cluster at once.
//
// # Tests
//
// internal/natstest starts embedded or process NATS clusters for tests.
package cluster
