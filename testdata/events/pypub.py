"""An event publisher for pyrogo's event-server tests (Pyro4, or Pyro5 with
--pyro5).

  python -u pypub.py [--pyro5] --es URI [--subject S]... [--n N] [--size B]
                     [--burst B] [--gap S] [--each] [--name NAME]

Publishes --n events; the message is {"pub": NAME, "seq": i, "data":
"x" * size}. Each publish goes to the list of --subject values at once
(one publish, one time for all), or with --each to one subject at a time
in turn. After every --burst publishes it sleeps --gap seconds. At the end
it prints one JSON line: {"published": N, "calls": publish calls,
"start": t0, "end": t1} (epoch seconds around the publish loop).
"""
import argparse
import json
import sys
import time

import espeer

lib = espeer.Lib(espeer.take_pyro5(sys.argv))
ap = argparse.ArgumentParser()
ap.add_argument("--es", required=True)
ap.add_argument("--subject", action="append", default=[])
ap.add_argument("--n", type=int, default=1)
ap.add_argument("--size", type=int, default=0)
ap.add_argument("--burst", type=int, default=0)
ap.add_argument("--gap", type=float, default=0)
ap.add_argument("--each", action="store_true")
ap.add_argument("--name", default="pub")
opts = ap.parse_args()
if not opts.subject:
    espeer.die("at least one --subject is required")

pad = "x" * opts.size
calls = 0
with lib.Proxy(opts.es) as es:
    es._pyroBind()
    t0 = time.time()
    for i in range(opts.n):
        msg = {"pub": opts.name, "seq": i, "data": pad}
        if opts.each:
            es.publish(opts.subject[i % len(opts.subject)], msg)
        else:
            es.publish(opts.subject if len(opts.subject) > 1 else opts.subject[0], msg)
        calls += 1
        if opts.burst and (i + 1) % opts.burst == 0 and opts.gap:
            time.sleep(opts.gap)
    t1 = time.time()
print(json.dumps({"published": opts.n, "calls": calls, "start": t0, "end": t1}), flush=True)
