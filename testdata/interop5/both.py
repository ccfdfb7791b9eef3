"""Pyro4 and Pyro5 clients at once, in one process, against one server:
one Pyro4 proxy and one Pyro5 proxy per thread, all connected at the same
time to the same URI, calling echo in turns, plus the echo server's
error(), whose text differs between the two generations.

usage: both.py URI THREADS CALLS [shutdown]
       (Pyro4 installed, Pyro5 on PYTHONPATH)
Prints one JSON line: {"ok4": n, "ok5": n, "errors": [...], "error4": ...,
"error5": ..., "more4": {...}, "more5": {...}}; more* hold what each
generation's generator() streams and oneway_echo() returns. With
"shutdown", a Pyro5 proxy then calls shutdown() (Pyro5's echo server has
it, as Pyro4's does).
"""
import json
import sys
import threading

import Pyro4
import Pyro5.api

uri, threads, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
shutdown = sys.argv[4:] == ["shutdown"]
Pyro4.config.SERIALIZER = "serpent"
ok = []
errors = []
lock = threading.Lock()
connected = threading.Barrier(threads)


def worker(n):
    p4 = Pyro4.Proxy(uri)
    p5 = Pyro5.api.Proxy(uri)
    try:
        p4._pyroBind()
        p5._pyroBind()
        connected.wait(20)  # every connection of both generations open at once
        for i in range(calls):
            for gen, p in (("4", p4), ("5", p5)):
                v = [gen, n, i, "\u20ac"]
                r = p.echo(v)
                if list(r) != v:
                    raise ValueError("%s echoed %r for %r" % (gen, r, v))
                with lock:
                    ok.append(gen)
    except Exception as e:
        with lock:
            errors.append("%s: %s" % (type(e).__name__, e))
    finally:
        p4._pyroRelease()
        p5._pyroRelease()


def error_of(p):
    try:
        p.error()
    except Exception as e:
        return "%s.%s: %s" % (type(e).__module__, type(e).__name__, e)
    finally:
        p._pyroRelease()


def more_of(p):
    try:
        return {"generator": list(p.generator()), "oneway": p.oneway_echo("x")}
    except Exception as e:
        return {"error": "%s: %s" % (type(e).__name__, e)}
    finally:
        p._pyroRelease()


ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
out = {"ok4": ok.count("4"), "ok5": ok.count("5"), "errors": errors,
       "error4": error_of(Pyro4.Proxy(uri)), "error5": error_of(Pyro5.api.Proxy(uri)),
       "more4": more_of(Pyro4.Proxy(uri)), "more5": more_of(Pyro5.api.Proxy(uri))}
if shutdown:
    with Pyro5.api.Proxy(uri) as p:
        p.shutdown()
print(json.dumps(out))
