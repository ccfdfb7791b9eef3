"""Calls an event service and reports how each call ended, for pyrogo's
policy and refusal tests (Pyro4, or Pyro5 with --pyro5).

  python -u pyattempt.py [--pyro5] --es URI STEP...

A STEP is METHOD:NAME or METHOD:NAME:SUBSCRIBER, where METHOD is publish,
subscribe, subscribeMatch or unsubscribe, NAME a subject or pattern and
SUBSCRIBER a Pyro URI sent as a proxy, or "self" for an object in this
process's own daemon (on 127.0.0.1). Every step prints one JSON line:
{"step": STEP, "ok": true} or {"step": STEP, "ok": false, "error":
exception class name, "msg": its text}; after a failed step the proxy
reconnects. The exit status is 0 unless the
arguments are wrong.
"""
import json
import sys
import threading

import espeer

lib = espeer.Lib(espeer.take_pyro5(sys.argv))
args = sys.argv[1:]
if len(args) < 2 or args[0] != "--es":
    espeer.die(__doc__)
es_uri, steps = args[1], args[2:]


class Sink(object):
    def event(self, event):
        pass


lib.expose(Sink)
lib.oneway(Sink.event)
daemon = None


def subscriber(spec):
    global daemon
    if spec != "self":
        return lib.Proxy(spec)
    if daemon is None:
        daemon = lib.Daemon(host="127.0.0.1")
        threading.Thread(target=daemon.requestLoop, daemon=True).start()
    return lib.Proxy(daemon.register(Sink()))


with lib.Proxy(es_uri) as es:
    for step in steps:
        parts = step.split(":", 2)
        method, name = parts[0], parts[1]
        try:
            if method == "publish":
                es.publish(name, {"step": step})
            else:
                getattr(es, method)(name, subscriber(parts[2]))
            out = {"step": step, "ok": True}
        except Exception as e:
            out = {"step": step, "ok": False, "error": type(e).__name__, "msg": str(e)}
            # as Pyro's daemons do, the server closes the connection after
            # a SecurityError: start the next step on a new one
            es._pyroRelease()
        print(json.dumps(out), flush=True)
if daemon is not None:
    daemon.shutdown()
