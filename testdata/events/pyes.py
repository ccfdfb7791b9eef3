"""A minimal Python event service with Pyro3's remote API, for pyrogo's
tests: the baseline of the fan-out benchmark and a reference for the
semantics of Pyro3's Pyro/EventService/Server.py (written from its
behaviour, not its code).

  python -u pyes.py [--pyro5] [--queuesize N] [--noblock] [--block-timeout S]
                    [--max-failures N] [--backoff S] [--timeout S] [--ns]

It serves on 127.0.0.1 and a free port and prints "READY <uri>" (object id
Pyro.EventService); --ns also registers it in the name server found through
NS_HOST/NS_PORT under Pyro.EventService.

Remote API (Pyro3's): publish(subjects, message), subscribe(subjects,
subscriber), subscribeMatch(patterns, subscriber), unsubscribe(subjects,
subscriber); subjects is a string or a list/tuple of them. Subjects are
case-insensitive (stored lower-cased, delivered as published); patterns are
regexes matched with re.match and re.IGNORECASE. A subscriber is a proxy, a
URI or a URI string, and is known by its URI: subscribing twice delivers
once. Each subscriber has a queue (--queuesize, default 1000, Pyro3's
PYRO_ES_QUEUESIZE) and a delivery thread that makes oneway calls
event({"subject", "msg", "time"}); time is the same for every subject of
one publish. A full queue makes the publisher wait up to --block-timeout
(Pyro3's PYRO_ES_BLOCKQUEUE=1) or, with --noblock, drops the event for that
subscriber; either way a drop is counted. A subscriber that cannot be
reached is retried --max-failures times with doubling --backoff and then
removed (a "REMOVED <uri>" line on stdout). stats() (not Pyro3's) returns
the counters, with drops per subscriber URI under "dropped_by".
"""
import argparse
import queue
import re
import sys
import threading
import time

import espeer

lib = espeer.Lib(espeer.take_pyro5(sys.argv))
ap = argparse.ArgumentParser()
ap.add_argument("--queuesize", type=int, default=1000)
ap.add_argument("--noblock", action="store_true")
ap.add_argument("--block-timeout", type=float, default=5.0)
ap.add_argument("--max-failures", type=int, default=3)
ap.add_argument("--backoff", type=float, default=0.05)
ap.add_argument("--timeout", type=float, default=5.0, help="communication timeout of the calls to subscribers")
ap.add_argument("--ns", action="store_true")
opts = ap.parse_args()

if not lib.pyro5:
    lib.config.METADATA = False  # event() is oneway because we say so, as in Pyro3
lib.config.COMMTIMEOUT = 0  # the service's own connections; subscriber calls get opts.timeout

STOP = object()


class Worker(threading.Thread):
    """One subscriber: its queue and the thread that delivers from it."""

    def __init__(self, service, uri):
        super().__init__(name="sub " + uri, daemon=True)
        self.service = service
        self.uri = uri
        self.queue = queue.Queue(opts.queuesize)
        self.gone = False

    def run(self):
        proxy = None
        failures = 0
        while True:
            ev = self.queue.get()
            if ev is STOP:
                break
            while True:
                try:
                    if proxy is None:
                        proxy = lib.Proxy(self.uri)
                        proxy._pyroTimeout = opts.timeout
                        proxy._pyroOneway.add("event")
                    proxy.event(ev)
                    failures = 0
                    self.service.count("delivered")
                    break
                except lib.errors.CommunicationError as x:
                    failures += 1
                    if proxy is not None:
                        proxy._pyroRelease()
                        proxy = None
                    if failures >= opts.max_failures:
                        self.service.remove(self, x)
                        self.drain()
                        return
                    time.sleep(opts.backoff * 2 ** (failures - 1))
        if proxy is not None:
            proxy._pyroRelease()
        self.drain()

    def drain(self):
        self.gone = True
        try:
            while True:
                self.queue.get_nowait()
        except queue.Empty:
            pass

    def send(self, ev):
        if self.gone:
            return
        try:
            if opts.noblock:
                self.queue.put_nowait(ev)
            else:
                self.queue.put(ev, timeout=opts.block_timeout)
        except queue.Full:
            self.service.count("dropped")
            self.service.count_drop(self.uri)


def seq(subjects):
    if isinstance(subjects, (list, tuple)):
        return list(subjects)
    return [subjects]


@lib.expose
class EventService(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.exact = {}     # lower-cased subject -> {uri: worker}
        self.patterns = {}  # pattern string -> (compiled, {uri: worker})
        self.workers = {}   # uri -> worker
        self.stats_ = {"published": 0, "delivered": 0, "dropped": 0, "removed": 0}
        self.dropped_by = {}  # uri -> events dropped for that subscriber

    def count_drop(self, uri):
        with self.lock:
            self.dropped_by[uri] = self.dropped_by.get(uri, 0) + 1

    def count(self, what, n=1):
        with self.lock:
            self.stats_[what] += n

    def _worker(self, uri):
        w = self.workers.get(uri)
        if w is None:
            w = Worker(self, uri)
            self.workers[uri] = w
            w.start()
        return w

    def subscribe(self, subjects, subscriber):
        if not subjects:
            return
        uri = lib.uri_of(subscriber)
        with self.lock:
            w = self._worker(uri)
            for s in seq(subjects):
                self.exact.setdefault(s.lower(), {})[uri] = w

    def subscribeMatch(self, patterns, subscriber):
        if not patterns:
            return
        uri = lib.uri_of(subscriber)
        compiled = [(p, re.compile(p, re.IGNORECASE)) for p in seq(patterns)]
        with self.lock:
            w = self._worker(uri)
            for p, m in compiled:
                self.patterns.setdefault(p, (m, {}))[1][uri] = w

    def unsubscribe(self, subjects, subscriber):
        if not subjects:
            return
        uri = lib.uri_of(subscriber)
        with self.lock:
            for s in seq(subjects):
                self.exact.get(s.lower(), {}).pop(uri, None)
                if s in self.patterns:
                    self.patterns[s][1].pop(uri, None)
            self._retire_if_idle(uri)

    def _retire_if_idle(self, uri):
        if any(uri in subs for subs in self.exact.values()):
            return
        if any(uri in subs for _, subs in self.patterns.values()):
            return
        w = self.workers.pop(uri, None)
        if w is not None:
            w.gone = True
            try:
                w.queue.put_nowait(STOP)
            except queue.Full:  # events published before the unsubscribe go first
                threading.Thread(target=w.queue.put, args=(STOP,), daemon=True).start()

    def remove(self, worker, why):
        with self.lock:
            for subs in self.exact.values():
                if subs.get(worker.uri) is worker:
                    del subs[worker.uri]
            for _, subs in self.patterns.values():
                if subs.get(worker.uri) is worker:
                    del subs[worker.uri]
            if self.workers.get(worker.uri) is worker:
                del self.workers[worker.uri]
            self.stats_["removed"] += 1
        print("REMOVED %s %s" % (worker.uri, type(why).__name__), flush=True)

    def publish(self, subjects, message):
        if not subjects:
            return
        now = time.time()  # one time for every subject of this publish
        targets = []
        with self.lock:
            self.stats_["published"] += 1
            for s in seq(subjects):
                ws = dict(self.exact.get(s.lower(), {}))
                for m, subs in self.patterns.values():
                    if m.match(s):
                        ws.update(subs)
                ev = {"subject": s, "msg": message, "time": now}
                targets.extend((w, ev) for w in ws.values())
        for w, ev in targets:
            w.send(ev)

    def stats(self):
        with self.lock:
            out = dict(self.stats_)
            out["subscribers"] = len(self.workers)
            out["dropped_by"] = dict(self.dropped_by)
            return out


daemon = lib.Daemon(host="127.0.0.1", port=0)
uri = daemon.register(EventService(), "Pyro.EventService")
if opts.ns:
    ns = lib.api.locate_ns() if lib.pyro5 else lib.api.locateNS()
    ns.register("Pyro.EventService", uri)
print("READY %s" % uri, flush=True)
daemon.requestLoop()
