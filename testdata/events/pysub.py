"""Event subscribers for pyrogo's event-server tests: one Pyro4 (or, with
--pyro5, Pyro5) daemon hosting --count subscriber objects, each with a
oneway event(event) method, subscribed to an event service.

  python -u pysub.py [--pyro5] --es URI --out FILE [--subject S]... [--match P]...
                     [--count K] [--slow S] [--dead-after N] [--unsub-after N]
                     [--pass-as proxy|uri|str] [--expect N] [--quiet]

--es is PYRO:Pyro.EventService@host:port or PYRONAME:Pyro.EventService
(resolved through NS_HOST/NS_PORT). Each object subscribes to every
--subject (subscribe) and --match pattern (subscribeMatch), passing itself
as a proxy (default), a URI object or a URI string (--pass-as). When all
are subscribed it prints "READY <uri of object 0> ...". Every event is one
JSON line in --out: {"sub": k, "n": arrival index within k, "subject",
"msg" (repr() when JSON cannot hold it), "msglen", "time", "recv"}; with
--quiet only "DONE k first last" lines on stdout when object k has
received --expect events (first/last: arrival times, epoch seconds).

Events are handled one at a time in arrival order (a multiplexed daemon;
see espeer.Lib.ordered_oneway). --slow sleeps that long in every event
call (the process then stops reading its sockets, as a slow client does);
--dead-after N ends the process after N events in all (a subscriber that
is gone: "DEAD" on stdout, then every socket closes); --unsub-after N makes each
object unsubscribe from everything after its N-th event ("UNSUBSCRIBED k").
To freeze a subscriber without closing anything, stop the process
(SIGSTOP).
"""
import argparse
import json
import os
import sys
import threading
import time

import espeer

lib = espeer.Lib(espeer.take_pyro5(sys.argv))
ap = argparse.ArgumentParser()
ap.add_argument("--es", required=True)
ap.add_argument("--out")
ap.add_argument("--subject", action="append", default=[])
ap.add_argument("--match", action="append", default=[])
ap.add_argument("--count", type=int, default=1)
ap.add_argument("--slow", type=float, default=0)
ap.add_argument("--dead-after", type=int, default=0)
ap.add_argument("--unsub-after", type=int, default=0)
ap.add_argument("--pass-as", choices=["proxy", "uri", "str"], default="proxy")
ap.add_argument("--expect", type=int, default=0)
ap.add_argument("--quiet", action="store_true")
opts = ap.parse_args()
if not opts.out and not opts.quiet:
    espeer.die("--out FILE or --quiet is required")

lib.config.SERVERTYPE = "multiplex"
lib.ordered_oneway()
out = open(opts.out, "a", encoding="utf-8") if opts.out else None
lock = threading.Lock()
total = [0]
dead = threading.Event()


def es_proxy():
    return lib.Proxy(opts.es)


def jsonable(v):
    try:
        json.dumps(v)
        return v
    except (TypeError, ValueError):
        return repr(v)


@lib.expose
class Subscriber(object):
    def __init__(self, k):
        self.k = k
        self.n = 0
        self.first = 0.0
        self.uri = None

    @lib.oneway
    def event(self, event):
        recv = time.time()
        if self.n == 0:
            self.first = recv
        self.n += 1
        msg = event.get("msg")
        if out is not None:
            line = {"sub": self.k, "n": self.n, "subject": event.get("subject"), "msg": jsonable(msg),
                    "msglen": len(msg) if isinstance(msg, (str, bytes, list, dict)) else -1,
                    "time": event.get("time"), "recv": recv, "evseq": event.get("seq")}
            with lock:
                out.write(json.dumps(line) + "\n")
                out.flush()
        if opts.expect and self.n == opts.expect:
            print("DONE %d %.6f %.6f" % (self.k, self.first, recv), flush=True)
        if opts.unsub_after and self.n == opts.unsub_after:
            with es_proxy() as es:
                if opts.subject:
                    es.unsubscribe(opts.subject, self.uri)
                if opts.match:
                    es.unsubscribe(opts.match, self.uri)
            print("UNSUBSCRIBED %d" % self.k, flush=True)
        with lock:
            total[0] += 1
            if opts.dead_after and total[0] >= opts.dead_after:
                dead.set()
        if opts.slow:
            time.sleep(opts.slow)


daemon = lib.Daemon(host="127.0.0.1", port=0)
subs = []
for k in range(opts.count):
    s = Subscriber(k)
    s.uri = daemon.register(s)
    subs.append(s)
with es_proxy() as es:
    for s in subs:
        me = {"proxy": lib.Proxy(s.uri), "uri": s.uri, "str": str(s.uri)}[opts.pass_as]
        if opts.subject:
            es.subscribe(opts.subject, me)
        if opts.match:
            es.subscribeMatch(opts.match, me)
print("READY " + " ".join(str(s.uri) for s in subs), flush=True)
daemon.requestLoop(loopCondition=lambda: not dead.is_set())
print("DEAD", flush=True)
if out is not None:
    out.close()
os._exit(0)  # the kernel closes every socket: the service sees resets, then refusals
