// Package sqlstore is the durable event store "sql:FILE" of package
// events: subscriptions and the streams of undelivered events in a
// SQLite file (modernc.org/sqlite, no cgo). Importing it registers the
// scheme "sql" with events.RegisterStore.
//
// The file is the event server's own: its header carries an application
// id ("PyES") and schema version, and Open refuses any other file
// (ErrNotEventStore: another SQLite database such as a name server's,
// or not a database), a damaged one (ErrCorrupt, from SQLite's
// quick_check), an unsafe one (ErrUnsafeFile: a symbolic link, not a
// regular file, writable by every user; a new file is created 0600),
// and one in use (ErrLocked). The store keeps one connection in SQLite's
// exclusive locking mode, so the file stays locked while it is open; a
// second event server on the same file fails within LockWait instead of
// sharing it, and the lock goes with the process (also on SIGKILL), so a
// restarted server opens the file at once.
//
// Tables: es_subscribers (URI), es_subs (kind, subject, the subscribing
// client's network, address, identity and certificate CN), es_events
// (the sequence number, AUTOINCREMENT so that it is never used again,
// subject, message in Pyro's marshal format, time, and how many streams
// hold it) and es_streams (subscriber, sequence number). An event is
// stored once whatever the number of its subscribers; acknowledging or
// removing a subscriber deletes its stream rows and the events no
// stream holds any more. The service bounds each stream as its queue
// (ES_QUEUESIZE and the byte bounds, plus the at most events.AckBatch
// sent events awaiting confirmation).
//
// Durability: write-ahead logging; Append commits with synchronous=FULL
// (on disk when it returns), Ack with synchronous=NORMAL (see package
// events, "Storage and the delivery guarantee").
package sqlstore
