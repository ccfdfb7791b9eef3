"""Python Pyro4 client for pyrogo's lifecycle and resource-limit tests.

Usage: lifecycle.py MODE URI. Prints one JSON object with what it saw,
except in mode "disconnect", which prints READY and then blocks in a call
until the test kills it.
"""

import json
import sys
import time

import Pyro4
import Pyro4.errors

mode, uri = sys.argv[1], sys.argv[2]
out = {}
p = Pyro4.Proxy(uri)

if mode == "streams":
    # ITER_STREAM_MAXCONN (64) streams on one connection, then a refusal
    its = [p.range(3) for _ in range(64)]
    try:
        p.range(3)
        out["refusal"] = "no error"
    except Pyro4.errors.DaemonError as e:
        out["refusal"] = "DaemonError: " + str(e)
    except Exception as e:
        out["refusal"] = "%s: %s" % (type(e).__name__, e)
    out["first"] = list(its[0])  # exhausted: the stream is gone
    out["after"] = list(p.range(2))
elif mode == "disconnect":
    p._pyroBind()
    print("READY in a call", flush=True)
    p.wait_ctx()
elif mode == "idle":
    out["before"] = p.echo(1)
    time.sleep(float(sys.argv[3]))
    out["after"] = p.echo(2)
elif mode == "oneway":
    for i in range(int(sys.argv[3])):
        p.oneway_block()
    out["sent"] = True
    out["after"] = p.echo("after")
print(json.dumps(out))
